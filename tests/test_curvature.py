from __future__ import annotations

import numpy as np
import pytest
import torch

from lossarticle import curvature
from lossarticle.configs import Run
from lossarticle.curvature import (curvature_along, gradients, lanczos_top, live_units, preconditioner,
                                   replay_moments, top_eigenvalue)
from lossarticle.dynamics import threshold
from lossarticle.models import Architecture, cross_entropy, dead_layers, forward, init_params
from lossarticle.train import make_optimizer

TINY = Architecture(sizes=(2, 3, 3, 3), skip=False)  # P = 33: a dense Hessian is cheap
ADAM, RMSPROP = Run("adam", lr=0.05), Run("rmsprop", "rmsprop", 0.01)


@pytest.fixture(autouse=True)
def one_thread():
    # These products are microseconds of work: with two threads on a loaded 2-core machine each op
    # waited for a descheduled thread (0.17 s a Hessian-vector product against 0.4 ms on one thread).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def split(data, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(data.x_train, dtype=dtype), torch.as_tensor(data.y_train)


def seed_stack(arch: Architecture, count: int, dtype: torch.dtype = torch.float64, gain: float = 3.0) -> torch.Tensor:
    # A gain of 3 makes the Hessians far from the near-zero ones at a small init: spectra of several units.
    thetas = [init_params(arch, torch.Generator().manual_seed(s)) for s in range(count)]
    return gain * torch.stack(thetas).to(dtype)


def dense_hessian(arch: Architecture, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    # The oracle: torch.autograd.functional.hessian through the one-network forward (mm, not the batched bmm).
    return torch.autograd.functional.hessian(lambda t: cross_entropy(forward(arch, t, x), y), theta).numpy()


def trajectory(arch: Architecture, run: Run, theta0: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
               steps: int) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """θ_0..θ_steps of full-batch training with the project's optimizer, and its state after each step."""
    theta = theta0.clone().requires_grad_(True)
    optimizer = make_optimizer(run, [theta])
    snapshots, states = [theta.detach().clone()], []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        cross_entropy(forward(arch, theta, x), y).backward()
        optimizer.step()
        snapshots.append(theta.detach().clone())
        states.append({k: v.clone() for k, v in optimizer.state[theta].items()})
    return torch.stack(snapshots), states


# ---------------------------------------------------------------- top eigenvalue against dense oracles

# Lanczos in float64 with a residual of 1e-10 converges far below the 1e-4 asked; the
# eigenvalues here are of order 1-30, and an error in the products (a missing factor, a
# wrong row) moves them by far more.
RTOL = 1e-4


def test_top_eigenvalue_equals_the_dense_hessians(tiny_data) -> None:
    x, y = split(tiny_data)
    thetas = seed_stack(TINY, 3)
    result = top_eigenvalue(TINY, thetas, x, y, steps=TINY.num_params, rtol=1e-10)
    for e in range(3):
        spectrum = np.linalg.eigvalsh(dense_hessian(TINY, thetas[e], x, y))
        assert spectrum[0] < 0 < spectrum[-1]  # indefinite: λ_max is the algebraic top, not the largest |λ|
        np.testing.assert_allclose(result.value[e], spectrum[-1], rtol=RTOL)
    assert (result.residual <= 1e-10).all() and (result.steps < TINY.num_params).all()


def test_preconditioned_top_eigenvalue_equals_the_dense_scaled_hessians(tiny_data) -> None:
    x, y = split(tiny_data)
    thetas = seed_stack(TINY, 3)
    # Adam's diagonals span orders of magnitude; so does this one.
    diagonal = torch.exp(2 * torch.randn(3, TINY.num_params, generator=torch.Generator().manual_seed(1),
                                         dtype=torch.float64))
    result = top_eigenvalue(TINY, thetas, x, y, preconditioner=diagonal, steps=TINY.num_params, rtol=1e-10)
    plain = top_eigenvalue(TINY, thetas, x, y, steps=TINY.num_params, rtol=1e-10)
    for e in range(3):
        scale = diagonal[e].rsqrt().numpy()
        scaled = scale[:, None] * dense_hessian(TINY, thetas[e], x, y) * scale[None, :]
        np.testing.assert_allclose(result.value[e], np.linalg.eigvalsh(scaled)[-1], rtol=RTOL)
        assert abs(result.value[e] / plain.value[e] - 1) > 0.1  # the preconditioner changed the answer


def test_a_stack_in_chunks_equals_each_snapshot_alone(tiny_data, monkeypatch) -> None:
    x, y = split(tiny_data)
    arch = Architecture(sizes=(2, 6, 6, 3), skip=False)
    thetas = seed_stack(arch, 5)
    monkeypatch.setattr(curvature, "hvp_chunk", lambda *args: 2)  # chunks of 2, 2 and 1
    stacked = top_eigenvalue(arch, thetas, x, y, steps=15, rtol=1e-6)
    for e in range(5):
        alone = top_eigenvalue(arch, thetas[e:e + 1], x, y, steps=15, rtol=1e-6)
        # Each row stops on its own residual, so only bmm's summation order differs: float64 rounding.
        np.testing.assert_allclose(stacked.value[e], alone.value[0], rtol=1e-9)
        assert stacked.steps[e] == alone.steps[0]
    assert len(set(stacked.value.round(6))) == 5  # five different problems, not one repeated


def test_lanczos_finds_the_algebraic_top_and_stops_on_an_exhausted_krylov_space() -> None:
    generator = torch.Generator().manual_seed(0)
    size = 60
    rotation = torch.linalg.qr(torch.randn(2, size, size, generator=generator, dtype=torch.float64))[0]
    spectra = torch.stack([torch.linspace(-9, 4, size, dtype=torch.float64),  # |λ| largest at -9: λ_max is 4
                           torch.tensor([3.0, -1.0, 0.5] * 20, dtype=torch.float64)])  # 3 distinct values
    matrices = rotation @ torch.diag_embed(spectra) @ rotation.transpose(1, 2)
    start = torch.randn(2, size, generator=generator, dtype=torch.float64)
    result = lanczos_top(lambda v: (matrices @ v.unsqueeze(2)).squeeze(2), start, steps=40, rtol=1e-4)
    # A residual r bounds the error by r²/gap (gap 13/59 here): 1e-4 gives ~1e-7.
    np.testing.assert_allclose(result.value, [4.0, 3.0], rtol=1e-6)
    assert result.steps[1] == 3 and result.residual[1] == 0  # three eigenvalues: a Krylov space of 3
    assert result.steps[0] < 40 and result.residual[0] <= 1e-4


# ---------------------------------------------------------------- optimizer state, replayed

# Replay recomputes each g_t with the batched forward (bmm), training used mm: the sums
# differ in float32 rounding (~1e-7 relative of the summed terms), and m, v are averages
# of 15 such gradients (v of their squares: twice the relative error). Elements where the
# gradient cancels to near zero carry a larger relative but a tiny absolute error, hence the
# absolute part at 1e-5 of the largest element. 1e-5 is far above rounding and far below
# what one step changes (m after 1 vs 2 steps differs by tens of percent), so a replay that
# is a step off, or that skips a gradient, fails it.
REPLAY_RTOL = 1e-5


@pytest.mark.parametrize("run", [ADAM, RMSPROP], ids=lambda r: r.name)
def test_replayed_moments_equal_torch_optimizer_state(tiny_data, run: Run) -> None:
    x, y = split(tiny_data, torch.float32)
    arch = Architecture(sizes=(2, 6, 6, 3), skip=False)
    thetas, states = trajectory(arch, run, init_params(arch, torch.Generator().manual_seed(0)), x, y, 15)
    epochs = np.array([0, 1, 7, 14])
    moments = replay_moments(arch, run, thetas, x, y, epochs)
    for k, t in enumerate(epochs):
        state = states[t]  # after step t + 1
        if run.optimizer == "adam":
            assert state["step"].item() == t + 1
            pairs = [(moments.exp_avg[k], state["exp_avg"]), (moments.exp_avg_sq[k], state["exp_avg_sq"])]
        else:
            pairs = [(moments.exp_avg_sq[k], state["square_avg"])]
        for replayed, held in pairs:
            torch.testing.assert_close(replayed, held, rtol=REPLAY_RTOL, atol=REPLAY_RTOL * held.abs().max().item())


@pytest.mark.parametrize("run", [ADAM, RMSPROP], ids=lambda r: r.name)
def test_each_update_is_minus_lr_times_the_preconditioned_step(tiny_data, run: Run) -> None:
    # Pins P's definition and its index: θ_{t+1} − θ_t = −η P_t⁻¹ m_t (Adam) or −η P_t⁻¹ g_t (RMSprop).
    # In float64 the two sides agree to ~1e-13; P one step off (bias corrections of step t, not t + 1)
    # is 10-90 % off in the first steps.
    x, y = split(tiny_data)
    arch = Architecture(sizes=(2, 6, 6, 3), skip=False)
    thetas, _ = trajectory(arch, run, init_params(arch, torch.Generator().manual_seed(0)).double(), x, y, 10)
    epochs = np.arange(10)
    moments = replay_moments(arch, run, thetas, x, y, epochs)
    direction = moments.exp_avg if run.optimizer == "adam" else gradients(arch, thetas[:10], x, y)
    torch.testing.assert_close(thetas[1:] - thetas[:-1], -run.lr * direction / preconditioner(run, moments),
                               rtol=1e-9, atol=1e-12)


def test_curvature_along_measures_the_preconditioned_sharpness_for_adaptive_runs_only(tiny_data) -> None:
    x, y = split(tiny_data, torch.float32)
    arch = Architecture(sizes=(2, 6, 6, 3), skip=False)
    theta0 = init_params(arch, torch.Generator().manual_seed(0))
    epochs = np.array([0, 4, 8])
    for run in (ADAM, Run("sgd", "sgd", 0.5)):
        thetas, _ = trajectory(arch, run, theta0, x, y, 8)
        result = curvature_along(arch, run, thetas, x, y, epochs, steps=10)
        plain = top_eigenvalue(arch, thetas[torch.as_tensor(epochs)], x, y, steps=10)
        np.testing.assert_array_equal(result.epochs, epochs)
        np.testing.assert_allclose(result.hessian.value, plain.value, rtol=1e-6)
        assert result.threshold == threshold(run)
        if run.optimizer == "adam":
            # Early on Adam divides by (1 − β₁ˢ)√v̂ ~ 0.1-0.5·|g| ≪ 1: P⁻¹H is far sharper than H.
            assert (result.preconditioned.value > 10 * result.hessian.value).all()
        else:
            assert result.preconditioned is None


# ---------------------------------------------------------------- live units


def numpy_live_units(arch: Architecture, theta: np.ndarray, x: np.ndarray) -> list[int]:
    """The oracle: the forward pass written out in numpy, samples-first."""
    h, counts, offset = x, [], 0
    for index, ((out, inp), _) in enumerate(arch.shapes[:-1]):
        weight = theta[offset:offset + out * inp].reshape(out, inp)
        bias = theta[offset + out * inp:offset + out * inp + out]
        offset += out * inp + out
        a = np.maximum(h @ weight.T + bias, 0)
        counts.append(int((a > 0).any(axis=0).sum()))
        h = h + a if arch.skip and inp == out and index > 0 else a
    return counts


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip"])
def test_live_units_equal_a_numpy_forward(tiny_data, skip: bool) -> None:
    x = tiny_data.x_train.astype(np.float64)
    arch = Architecture(sizes=(2, 5, 5, 5, 3), skip=skip)
    thetas = seed_stack(arch, 4, gain=1.0).numpy()
    w_slice, b_slice, _, _ = arch.weight_slices[0]
    thetas[1, b_slice.start] = -100.0  # first layer, unit 0: off for every input
    # First layer, unit 1 of snapshot 2: on for exactly one training input (the one it projects highest),
    # the bias halfway between the top two projections.
    weight = thetas[2, w_slice].reshape(5, 2)[1]
    top_two = np.sort(x @ weight)[-2:]
    thetas[2, b_slice.start + 1] = -top_two.mean()
    w_last, b_last, _, _ = arch.weight_slices[2]
    thetas[3, b_last] = -100.0  # third layer dead: every unit off
    counts = live_units(arch, torch.as_tensor(thetas), torch.as_tensor(x)).numpy()
    expected = [numpy_live_units(arch, theta, x) for theta in thetas]
    np.testing.assert_array_equal(counts, expected)
    assert counts[1, 0] <= 4 and counts[2, 0] == 5 and counts[3, 2] == 0  # the cases built above
    dead = dead_layers(arch, torch.as_tensor(thetas), torch.as_tensor(x)).numpy()
    np.testing.assert_array_equal(dead, counts == 0)


def test_logistic_regression_has_no_hidden_units_and_sgd_no_state_to_replay(tiny_data) -> None:
    x, y = split(tiny_data, torch.float32)
    arch = Architecture(sizes=(2, 3), skip=False)
    thetas = seed_stack(arch, 2, torch.float32)
    assert live_units(arch, thetas, x).shape == (2, 0)
    with pytest.raises(ValueError, match="'sgd' keeps no second moment"):
        replay_moments(arch, Run("sgd", "sgd", 0.1), thetas, x, y, np.array([0]))
