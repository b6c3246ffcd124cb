from __future__ import annotations

import numpy as np
import torch

from lossarticle.configs import Run
from lossarticle.models import architecture, init_params
from lossarticle.pipeline import compute_experiment, initial_weights, train_seeds
from lossarticle.train import train_ensemble
from tests.tiny import member_zero, tiny

CPU = torch.device("cpu")


def test_seed_zero_is_the_single_seed_theta0_and_twins_share_every_seed() -> None:
    plain, twin = tiny(depth=3, seeds=5), tiny(depth=3, seeds=5, skip=True)
    theta0 = initial_weights(plain, architecture(plain))
    assert theta0.shape == (5, architecture(plain).num_params)
    torch.testing.assert_close(theta0[0], init_params(architecture(plain), torch.Generator().manual_seed(0)),
                               rtol=0, atol=0)
    torch.testing.assert_close(theta0, initial_weights(twin, architecture(twin)), rtol=0, atol=0)
    assert len({row.numpy().tobytes() for row in theta0}) == 5


def test_every_run_is_drawn_from_the_median_initialization_of_the_first_run(tiny_data) -> None:
    experiment = tiny(seeds=3, runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    result = compute_experiment(experiment, tiny_data, CPU)
    assert set(result.seed_stats) == {"adam", "sgd"}
    # 8 epochs: the late measure (median of the last tenth) is the last epoch's loss alone.
    assert result.drawn == int(np.argsort(result.seed_stats["adam"].train_loss[:, -1], kind="stable")[1])
    for trajectory in result.trajectories:
        stats = result.seed_stats[trajectory.run.name]
        assert stats.count == 3 and stats.train_loss.shape == (3, experiment.epochs + 1)
        assert stats.first_dead_layer.shape == stats.final_test_acc.shape == stats.diverged.shape == (3,)
        np.testing.assert_array_equal(stats.train_loss[result.drawn], trajectory.train_loss)
    assert result.timings.model_epochs == 2 * 3 * experiment.epochs


def test_a_twin_draws_the_initialization_it_is_given(tiny_data) -> None:
    experiment = tiny(seeds=3)
    result = compute_experiment(experiment, tiny_data, CPU, drawn=2)
    alone = compute_experiment(tiny(), tiny_data, CPU)  # one seed: initialization 0, drawn
    assert result.drawn == 2 and alone.drawn == 0
    np.testing.assert_array_equal(result.trajectories[0].train_loss, result.seed_stats["adam"].train_loss[2])
    # Member 0 of three is the one-seed run (batch size changes only rounding).
    np.testing.assert_allclose(result.seed_stats["adam"].train_loss[0], alone.trajectories[0].train_loss,
                               rtol=1e-5, atol=1e-6)


def test_seeds_trained_in_groups_equal_one_batch(tiny_data, monkeypatch) -> None:
    experiment = tiny(depth=2, seeds=5)
    arch = architecture(experiment)
    theta0 = initial_weights(experiment, arch)
    whole_path, whole = member_zero(train_seeds(arch, theta0, experiment.runs[0], tiny_data, 6, CPU))
    monkeypatch.setattr("lossarticle.pipeline.chunk_size", lambda *args: 2)
    sizes = []
    monkeypatch.setattr("lossarticle.pipeline.train_ensemble",
                        lambda arch, part, *rest: sizes.append(len(part)) or train_ensemble(arch, part, *rest))
    path, grouped = member_zero(train_seeds(arch, theta0, experiment.runs[0], tiny_data, 6, CPU))
    assert sizes == [2, 2, 1]
    assert grouped.count == 5 and grouped.train_loss.shape == (5, 7)
    # Batch size changes only the rounding of the products (see test_train's tolerance).
    np.testing.assert_allclose(grouped.train_loss, whole.train_loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grouped.final_test_acc, whole.final_test_acc, atol=1.01 / len(tiny_data.y_test))
    np.testing.assert_array_equal(grouped.first_dead_layer, whole.first_dead_layer)
    np.testing.assert_allclose(path.thetas, whole_path.thetas, rtol=1e-5, atol=1e-6)
