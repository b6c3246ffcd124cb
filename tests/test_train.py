from __future__ import annotations

import numpy as np
import pytest
import torch

from lossarticle.configs import Run
from lossarticle.errors import ConfigError
from lossarticle.models import Architecture, accuracy, architecture, forward, init_params
from lossarticle.train import finite_prefix, resolve_device, train, train_ensemble, training_flops
from tests.tiny import member_zero, tiny

CPU = torch.device("cpu")


def test_loss_decreases_and_snapshots_start_at_theta0(tiny_data) -> None:
    experiment = tiny(epochs=30)
    arch = architecture(experiment)
    theta0 = init_params(arch, torch.Generator().manual_seed(0))
    trajectory = train(arch, theta0, Run("adam", lr=0.05), tiny_data, 30, CPU)
    assert trajectory.thetas.shape == (31, arch.num_params)
    np.testing.assert_array_equal(trajectory.thetas[0], theta0.numpy())
    assert trajectory.train_loss[-1] < 0.8 * trajectory.train_loss[0]
    assert trajectory.train_acc[-1] > trajectory.train_acc[0]
    assert not trajectory.diverged and trajectory.epochs == 30


def test_training_is_deterministic(tiny_data) -> None:
    arch = architecture(tiny())
    theta0 = init_params(arch, torch.Generator().manual_seed(0))
    a = train(arch, theta0, Run("sgd", "sgd", 0.1, momentum=0.5), tiny_data, 5, CPU)
    b = train(arch, theta0, Run("sgd", "sgd", 0.1, momentum=0.5), tiny_data, 5, CPU)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_finite_prefix_stops_before_the_first_bad_snapshot() -> None:
    thetas = np.zeros((5, 3))
    losses = np.array([1.0, 0.5, np.inf, 0.2, 0.1])
    assert finite_prefix(thetas, losses) == 2
    thetas[1, 2] = np.nan
    assert finite_prefix(thetas, np.ones(5)) == 1
    assert finite_prefix(np.zeros((3, 2)), np.ones(3)) == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a CPU-only machine resolves")
def test_devices_resolve_to_the_cpu_without_cuda() -> None:
    assert resolve_device("auto") == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match=r"^device='cuda': CUDA is not available on this machine"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match=r"^device='tpu': unknown device \(known: auto, cpu, cuda\)"):
        resolve_device("tpu")




# ---------------------------------------------------------------- ensembles

RUNS = [Run("adam", lr=0.05), Run("momentum", "sgd", 0.1, momentum=0.9), Run("rmsprop", "rmsprop", 0.01)]
# bmm (the ensemble) and mm (one network) sum the same products in different orders: each
# epoch adds an ulp or so (6e-8 relative), and 15 epochs of these runs measured at most 3e-7.
# 1e-5 leaves a wide margin yet is far below what one epoch changes (~1e-2), so a member
# trained on another's gradient or data fails it. An accuracy may flip one sample that lies
# within rounding of a decision boundary.
RTOL, ATOL = 1e-5, 1e-6


def seed_stack(arch, count: int, first: int = 0) -> torch.Tensor:
    return torch.stack([init_params(arch, torch.Generator().manual_seed(first + s)) for s in range(count)])


def assert_member_equals_run(stats, g: int, alone, data) -> None:
    np.testing.assert_allclose(stats.train_loss[g], alone.train_loss, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(stats.train_acc[g], alone.train_acc, atol=1.01 / len(data.y_train))
    np.testing.assert_allclose(stats.val_acc[g], alone.val_acc, atol=1.01 / len(data.y_val))


@pytest.mark.parametrize("run, skip", [(run, False) for run in RUNS] + [(RUNS[0], True)],
                         ids=[run.name for run in RUNS] + ["adam-skip"])
def test_ensemble_equals_separate_runs(tiny_data, run: Run, skip: bool) -> None:
    arch = architecture(tiny(depth=3, width=5, skip=skip))
    theta0 = seed_stack(arch, 4)
    ensemble = train_ensemble(arch, theta0, run, tiny_data, 15, CPU)
    reference, stats = member_zero(ensemble)
    assert stats.count == 4 and stats.train_loss.shape == (4, 16) and not stats.diverged.any()
    x_test, y_test = torch.as_tensor(tiny_data.x_test), torch.as_tensor(tiny_data.y_test)
    for g in range(4):
        alone = train(arch, theta0[g], run, tiny_data, 15, CPU)
        assert_member_equals_run(stats, g, alone, tiny_data)
        # Every member's weights are kept, so any of them can be the one the figures draw.
        np.testing.assert_allclose(ensemble.trajectory(g).thetas, alone.thetas, rtol=RTOL, atol=ATOL)
        test_acc = accuracy(forward(arch, torch.as_tensor(alone.final), x_test), y_test).item()
        assert abs(stats.final_test_acc[g] - test_acc) <= 1.01 / len(y_test)
    alone = train(arch, theta0[0], run, tiny_data, 15, CPU)
    np.testing.assert_allclose(reference.thetas, alone.thetas, rtol=RTOL, atol=ATOL)
    assert reference.thetas.shape == alone.thetas.shape and reference.run == run and not reference.diverged
    assert np.abs(stats.train_loss[:, -1] - stats.train_loss[:, 0]).mean() > 1000 * RTOL  # it trained


def test_a_diverged_member_leaves_the_others_alone(tiny_data) -> None:
    arch = architecture(tiny(depth=2, width=5))
    theta0 = seed_stack(arch, 4)
    theta0[1] = float("nan")
    theta0[2, 0] = float("inf")
    reference, stats = member_zero(train_ensemble(arch, theta0, RUNS[0], tiny_data, 10, CPU))
    np.testing.assert_array_equal(stats.diverged, [False, True, True, False])
    assert not np.isfinite(stats.train_loss[1]).any()
    for g in (0, 3):
        assert_member_equals_run(stats, g, train(arch, theta0[g], RUNS[0], tiny_data, 10, CPU), tiny_data)
    assert not reference.diverged and reference.epochs == 10


def test_a_diverged_member_zero_is_cut_as_train_cuts_it(tiny_data) -> None:
    arch = architecture(tiny(depth=2, width=5))
    theta0 = seed_stack(arch, 2)
    theta0[0, 3] = float("nan")
    reference, stats = member_zero(train_ensemble(arch, theta0, RUNS[1], tiny_data, 5, CPU))
    alone = train(arch, theta0[0], RUNS[1], tiny_data, 5, CPU)
    assert reference.diverged and alone.diverged
    assert reference.thetas.shape == alone.thetas.shape == (0, arch.num_params)
    np.testing.assert_array_equal(stats.diverged, [True, False])


def dead_layer_oracle(arch, theta: torch.Tensor, x: torch.Tensor) -> int:
    """First hidden layer of one network with every ReLU 0 on every input, by torch.nn.Linear layers."""
    layers, offset = [], 0
    for inp, out in zip(arch.sizes[:-1], arch.sizes[1:]):
        layer = torch.nn.Linear(inp, out)
        for p in (layer.weight, layer.bias):
            p.data = theta[offset:offset + p.numel()].reshape(p.shape)
            offset += p.numel()
        layers.append(layer)
    h = x
    with torch.no_grad():
        for index, layer in enumerate(layers[:-1]):
            a = torch.relu(layer(h))
            if (a == 0).all():
                return index
            h = h + a if arch.skip and index > 0 else a
    return -1


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip"])
def test_first_dead_layer_matches_a_layer_by_layer_oracle(tiny_data, skip: bool) -> None:
    arch = architecture(tiny(depth=6, width=2, skip=skip))
    theta0 = seed_stack(arch, 40)
    w, b, _, _ = arch.weight_slices[3]
    theta0[5, b] = -100.0  # layer 3 surely dead in seed 5, unless an earlier one is
    _, stats = member_zero(train_ensemble(arch, theta0, RUNS[0], tiny_data, 1, CPU))
    x = torch.as_tensor(tiny_data.x_train)
    expected = [dead_layer_oracle(arch, theta0[g], x) for g in range(40)]
    np.testing.assert_array_equal(stats.first_dead_layer, expected)
    assert -1 in expected and len(set(expected)) > 2  # the test sees live nets and more than one dead depth
    assert 0 <= stats.first_dead_layer[5] <= 3


def test_logistic_regression_has_no_dead_layer(tiny_data) -> None:
    arch = architecture(tiny(depth=0, width=0))
    _, stats = member_zero(train_ensemble(arch, seed_stack(arch, 3), RUNS[0], tiny_data, 2, CPU))
    np.testing.assert_array_equal(stats.first_dead_layer, [-1, -1, -1])


def test_training_flops_count_forward_backward_and_validation(tiny_data) -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)  # S = 8 + 12 = 20, first layer 8
    n, v, t = len(tiny_data.x_train), len(tiny_data.x_val), len(tiny_data.x_test)
    per_epoch = 2 * n * 20 + 2 * n * 20 + 2 * n * 12 + 2 * v * 20
    assert training_flops(arch, tiny_data, 7) == 7 * per_epoch + 2 * (n + v + t) * 20


@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.name)
def test_undoing_warm_up_epochs_restarts_training_exactly(tiny_data, monkeypatch, run: Run) -> None:
    # The CUDA path's order of events, run eagerly: warm-up epochs, undo_warm_up, then the epochs.
    def warm_up_then_replay(step, epochs: int, undo_warm_up) -> None:
        for _ in range(3):
            step()
        undo_warm_up()
        for _ in range(epochs):
            step()

    arch = architecture(tiny(depth=2, width=5))
    theta0 = seed_stack(arch, 3)
    fresh_path, fresh = member_zero(train_ensemble(arch, theta0, run, tiny_data, 6, CPU, graph=False))
    monkeypatch.setattr("lossarticle.train.replay_captured", warm_up_then_replay)
    path, restarted = member_zero(train_ensemble(arch, theta0, run, tiny_data, 6, CPU, graph=True))
    np.testing.assert_array_equal(path.thetas, fresh_path.thetas)
    for name in ("train_loss", "train_acc", "val_acc", "final_test_acc"):
        np.testing.assert_array_equal(getattr(restarted, name), getattr(fresh, name))


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@CUDA
@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.name)
def test_cuda_graph_replays_the_eager_epoch(tiny_data, run: Run) -> None:
    cuda = torch.device("cuda")
    arch = architecture(tiny(depth=3, width=5))
    theta0 = seed_stack(arch, 4)
    theta0[2] = float("nan")  # a diverged member inside the graph, too
    eager_path, eager = member_zero(train_ensemble(arch, theta0, run, tiny_data, 12, cuda, graph=False))
    graph_path, graphed = member_zero(train_ensemble(arch, theta0, run, tiny_data, 12, cuda, graph=True))
    again_path, again = member_zero(train_ensemble(arch, theta0, run, tiny_data, 12, cuda, graph=True))
    # The replay launches the eager epoch's kernels on the same inputs; the one difference
    # is SGD's first momentum step (copy of the gradient vs 0 · m + gradient), equal in value.
    np.testing.assert_allclose(graph_path.thetas, eager_path.thetas, rtol=RTOL, atol=ATOL)
    for name in ("train_loss", "train_acc", "val_acc", "final_test_acc"):
        np.testing.assert_allclose(getattr(graphed, name), getattr(eager, name), rtol=RTOL, atol=ATOL)
        assert getattr(graphed, name).tobytes() == getattr(again, name).tobytes()
    np.testing.assert_array_equal(graphed.diverged, [False, False, True, False])
    assert graph_path.thetas.tobytes() == again_path.thetas.tobytes()
