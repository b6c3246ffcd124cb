from __future__ import annotations

import numpy as np
import pytest
import torch

from lossarticle import dynamics
from lossarticle.configs import OPTIMIZER_RUNS, Run
from lossarticle.dynamics import curvature_epochs, spike_mask, spikes, threshold
from lossarticle.train import make_optimizer
from tests.test_imports import chain_to


def test_the_module_never_reaches_torch() -> None:
    # The publish half may apply these rules to exported curves.
    assert chain_to("lossarticle.dynamics", "torch") is None


def test_constants_are_torchs_defaults() -> None:
    theta = [torch.zeros(1, requires_grad=True)]
    adam = make_optimizer(Run("adam"), theta).defaults
    rmsprop = make_optimizer(Run("rmsprop", "rmsprop", 1e-3), theta).defaults
    assert adam["betas"] == (dynamics.ADAM_BETA1, dynamics.ADAM_BETA2) and adam["eps"] == dynamics.ADAM_EPS
    assert rmsprop["alpha"] == dynamics.RMSPROP_ALPHA and rmsprop["eps"] == dynamics.RMSPROP_EPS
    assert rmsprop["momentum"] == 0 and not rmsprop["centered"]  # the P = √v + ε the threshold assumes


def test_thresholds_of_the_optimizers_figure() -> None:
    values = {run.name: threshold(run) for run in OPTIMIZER_RUNS}
    assert values == pytest.approx({"adam": 7600.0, "sgd": 4.0, "momentum": 38.0, "rmsprop": 1000.0})
    assert [dynamics.adaptive(run) for run in OPTIMIZER_RUNS] == [True, False, False, True]


def grows(run: Run, curvature: float, steps: int = 400) -> bool:
    """Whether torch's optimizer, on the quadratic curvature·θ²/2 from θ = 1, ends farther out than it began."""
    theta = torch.ones(1, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(run, [theta])
    for _ in range(steps):
        optimizer.zero_grad()
        (curvature * theta ** 2 / 2).sum().backward()
        optimizer.step()
    return abs(theta.item()) > 1


@pytest.mark.parametrize("run", [Run("gd", "sgd", 0.5), Run("momentum", "sgd", 0.1, momentum=0.9),
                                 Run("heavy", "sgd", 0.01, momentum=0.5)], ids=lambda r: r.name)
def test_sgd_thresholds_are_where_torchs_sgd_turns_unstable(run: Run) -> None:
    # The oracle is the optimizer itself: 2 % either side of the threshold the spectral radius is
    # at least 1.5 % from 1, so 400 steps shrink or grow θ by a factor of hundreds.
    assert not grows(run, 0.98 * threshold(run)) and grows(run, 1.02 * threshold(run))


def test_adam_threshold_is_where_frozen_adam_turns_unstable() -> None:
    # Adam with its preconditioner frozen at p is heavy ball on curvature λ/p (Cohen et al. 2022's "frozen
    # Adam"); the recursions written out here, not taken from dynamics.
    run, p = Run("adam", lr=5e-3), 3.0

    def frozen_grows(curvature: float) -> bool:
        theta, m = 1.0, 0.0
        for _ in range(2000):
            m = dynamics.ADAM_BETA1 * m + (1 - dynamics.ADAM_BETA1) * curvature * theta
            theta -= run.lr * m / p
        return abs(theta) > 1

    edge = threshold(run) * p  # the threshold is on λ_max(P⁻¹H) = λ/p
    assert not frozen_grows(0.98 * edge) and frozen_grows(1.02 * edge)


# ---------------------------------------------------------------- spikes


def fitted_curves(epochs: int = 200, fit_at: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """A loss falling smoothly from 1 to 0.1 and an accuracy that reaches 0.9 at ``fit_at``."""
    loss = np.geomspace(1.0, 0.1, epochs + 1)
    acc = np.minimum(0.5 + 0.4 * np.arange(epochs + 1) / fit_at, 0.99)
    return loss, acc


def test_a_smooth_descent_has_no_spike() -> None:
    loss, acc = fitted_curves()
    assert spikes(loss, acc).size == 0 and not spike_mask(loss, acc).any()


def test_a_spike_after_fitting_counts_once_per_oscillating_episode() -> None:
    loss, acc = fitted_curves()
    loss[180:186] = [0.275, 1.204, 0.238, 2.347, 0.090, 2.243]  # the 10×20 oscillation
    np.testing.assert_array_equal(spikes(loss, acc), [180])
    np.testing.assert_array_equal(np.flatnonzero(spike_mask(loss, acc)), [180, 181, 183, 185])


def test_episodes_end_after_a_window_of_calm_epochs() -> None:
    loss, acc = fitted_curves()
    base = loss.copy()
    loss[100] = loss[120] = 1.0  # 19 calm epochs between: one episode
    np.testing.assert_array_equal(spikes(loss, acc), [100])
    loss = base.copy()
    loss[100] = loss[121] = 1.0  # 20 calm epochs between: two
    np.testing.assert_array_equal(spikes(loss, acc), [100, 121])


def test_spikes_before_fitting_do_not_count() -> None:
    loss, acc = fitted_curves(fit_at=50)
    loss[30] = loss[50] = 5.0  # up to and including the first epoch at 90 %
    assert spikes(loss, acc).size == 0
    loss[51] = 5.0
    np.testing.assert_array_equal(spikes(loss, acc), [51])


def test_the_factor_is_strict_and_the_window_forgets() -> None:
    loss, acc = fitted_curves()
    loss[100] = 1.9 * loss[99]  # the minimum of the previous 20 epochs is loss[99]
    assert spikes(loss, acc).size == 0
    loss[100] = 2.1 * loss[99]
    np.testing.assert_array_equal(spikes(loss, acc), [100])
    creep = np.concatenate([np.full(60, 0.1), 0.1 * 1.03 ** np.arange(1, 61)])  # up 3 % an epoch: 5.9× in all
    assert spikes(creep, np.ones_like(creep)).size == 0  # 1.03²⁰ = 1.8 < 2 over any window
    dip = np.full(150, 0.1)
    dip[80] = 0.04  # every epoch whose previous 20 include it is above twice their minimum
    np.testing.assert_array_equal(np.flatnonzero(spike_mask(dip, np.ones_like(dip))), np.arange(81, 101))


def test_a_blow_up_after_fitting_is_a_spike_and_many_runs_go_at_once() -> None:
    loss, acc = fitted_curves()
    runs = np.stack([loss, loss.copy(), loss.copy()])
    runs[1, 150:] = np.nan
    runs[2, 90] = 3.0
    mask = spike_mask(runs, np.stack([acc] * 3))
    for g in range(3):
        np.testing.assert_array_equal(mask[g], spike_mask(runs[g], acc))
    np.testing.assert_array_equal(mask.any(axis=1), [False, True, True])
    np.testing.assert_array_equal(spikes(runs[1], acc), [150])


# ---------------------------------------------------------------- where curvature is measured


def test_curvature_epochs_on_a_smooth_run_are_an_even_stride() -> None:
    loss, _ = fitted_curves(epochs=400)
    chosen = curvature_epochs(loss, 41)
    np.testing.assert_array_equal(chosen, np.arange(0, 401, 10))
    np.testing.assert_array_equal(curvature_epochs(loss, 2), [0, 400])
    np.testing.assert_array_equal(curvature_epochs(loss[:30], 41), np.arange(30))  # room for every epoch


def test_curvature_epochs_take_every_epoch_of_a_spike_and_its_run_up() -> None:
    loss, _ = fitted_curves(epochs=400)
    loss[250:256] = [0.275, 1.204, 0.238, 2.347, 0.090, 2.243]
    chosen = curvature_epochs(loss, 40, lead=5)
    assert len(chosen) <= 40 and chosen[0] == 0 and chosen[-1] == 400
    # 0.275 is 14 % up from epoch 249, not a move; the moves are 251-256 (the last one the way back down),
    # and the five epochs before the first are its run-up.
    assert set(range(246, 257)) <= set(chosen)
    assert np.diff(chosen[chosen < 246]).max() <= 400 / (40 - 11 - 1) + 1  # the rest is an even stride


def test_curvature_epochs_keep_half_for_the_stride_when_the_loss_moves_everywhere() -> None:
    loss = np.where(np.arange(401) % 2 == 0, 0.1, 0.5)  # a 5× swing every epoch
    chosen = curvature_epochs(loss, 40)
    assert len(chosen) <= 40 and chosen[0] == 0 and chosen[-1] == 400
    assert np.diff(chosen).max() <= 400 / 19 + 1  # at least 20 points on an even stride


def test_curvature_epochs_give_the_largest_move_its_run_up_first() -> None:
    loss, _ = fitted_curves(epochs=400)
    loss[100:] *= 10  # a large step up that stays
    loss[290:] *= 1.5  # a small one
    chosen = curvature_epochs(loss, 10, lead=4)  # five slots for moves
    assert set(range(96, 101)) <= set(chosen) and 290 not in chosen
