from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossarticle.directions import make_plane
from lossarticle.models import architecture, cross_entropy, forward
from lossarticle.pipeline import compute_experiment, train_runs
from lossarticle.configs import SurfaceConfig
from lossarticle.surface import (decision_regions, evaluate_grid, frame_epochs, input_axes, loss_grid, stretch_of,
                                 view_axes,
                                 symmetric_axis)
from tests.tiny import tiny

CPU = torch.device("cpu")


def test_grid_is_indexed_rows_y_columns_x_on_a_lopsided_grid() -> None:
    x_axis, y_axis = np.linspace(-1, 2, 7), np.linspace(10, 11, 4)
    # Products and sums only: IEEE rounds them the same on every CPU, so equality is exact here
    # (``** 3`` may go through a vectorized pow whose last bit differs between CPUs).
    (z,) = evaluate_grid(lambda p: (p[:, 0] * p[:, 0] * p[:, 0] + 100 * p[:, 1],), x_axis, y_axis)
    assert z.shape == (4, 7)
    for iy, y in enumerate(y_axis):
        for ix, x in enumerate(x_axis):
            assert z[iy][ix] == x * x * x + 100 * y


def test_batched_surface_equals_naive_per_point_loop(tiny_data, monkeypatch) -> None:
    monkeypatch.setattr("lossarticle.surface.chunk_size", lambda *args: 4)  # 15 points: 4 chunks, last short
    experiment = tiny(epochs=5)
    arch = architecture(experiment)
    trajectory = train_runs(experiment, arch, tiny_data, CPU).trajectories[0]
    plane = make_plane("random", [trajectory.thetas], arch, np.random.default_rng(0))
    x_axis, y_axis = np.linspace(-1, 1, 5), np.linspace(-0.5, 0.7, 3)
    surface = loss_grid(arch, plane, x_axis, y_axis, tiny_data, device=CPU)
    x, y = torch.as_tensor(tiny_data.x_train), torch.as_tensor(tiny_data.y_train)
    for iy, b in enumerate(y_axis):
        for ix, a in enumerate(x_axis):
            theta = torch.as_tensor(plane.origin + a * plane.d1 + b * plane.d2, dtype=torch.float32)
            naive = torch.nn.functional.cross_entropy(forward(arch, theta, x), y).item()
            assert abs(surface.loss[iy][ix] - naive) < 1e-5 * max(1, naive)


def test_surface_centre_is_the_loss_at_theta_final(tiny_data) -> None:
    result = compute_experiment(tiny(planes=("pca", "random")), tiny_data, CPU)
    final_loss = result.trajectories[0].train_loss[-1]
    for plane in result.planes:
        for view in plane.views:
            mid = len(view.surface.x) // 2
            assert view.surface.x[mid] == 0 and view.surface.y[mid] == 0
            np.testing.assert_allclose(view.surface.loss[mid][mid], final_loss, rtol=1e-5)
        # the recorded loss and the surface loss agree at θ_final, which lies in every plane
        np.testing.assert_allclose(plane.path_loss["adam"][-1], final_loss, rtol=1e-5)
        assert plane.projections["adam"].distance[-1] < 1e-6


def test_symmetric_axis_covers_the_path_with_margin() -> None:
    axis = symmetric_axis(np.array([-2.0, 0.5, 1.0]), margin=0.5, resolution=5)
    np.testing.assert_allclose(axis, [-3, -1.5, 0, 1.5, 3])
    np.testing.assert_allclose(symmetric_axis(np.zeros(3), 0.1, 3), [-1, 0, 1])
    even = symmetric_axis(np.array([1.0]), margin=0.0, resolution=4)
    np.testing.assert_allclose(even, [-1, -1 / 3, 1 / 3, 1])
    assert np.array_equal(even, -even[::-1])


@settings(max_examples=300, deadline=None)
@given(reach=st.floats(1e-6, 1e6), margin=st.floats(0, 1), steps=st.integers(1, 100))
def test_symmetric_axis_has_an_exact_zero_centre_whatever_the_reach(reach: float, margin: float,
                                                                   steps: int) -> None:
    # The reach comes from trained weights, so it differs between CPUs; the centre must not.
    axis = symmetric_axis(np.array([-reach / 3, reach]), margin, 2 * steps + 1)
    assert axis[steps] == 0
    assert np.array_equal(axis, -axis[::-1])
    assert axis[-1] == pytest.approx(reach * (1 + margin), rel=1e-12)
    np.testing.assert_allclose(np.diff(axis), axis[-1] / steps, rtol=1e-12)


def test_symmetric_axis_has_its_middle_exactly_at_zero() -> None:
    # Plain linspace(-r, r, 101) misses 0 at the middle for 73 of these 500 reaches.
    for reach in np.random.default_rng(0).uniform(0.01, 100.0, 500):
        axis = symmetric_axis(np.array([reach]), margin=0.25, resolution=101)
        assert axis[50] == 0.0
        np.testing.assert_array_equal(axis, -axis[::-1])


def shown_lag(acc: np.ndarray, frames: np.ndarray) -> float:
    """The largest accuracy difference between an epoch and the frame the page shows at it (the latest not after)."""
    shown = frames[np.searchsorted(frames, np.arange(len(acc)), side="right") - 1]
    return float(np.abs(acc - acc[shown]).max())


def test_frame_epochs_crowd_where_the_accuracy_rises_and_early() -> None:
    epoch = np.arange(401)
    rise = 1 / (1 + np.exp(-(epoch - 200) / 3))  # 33 % to 95 % over about 20 epochs around epoch 200
    acc, loss = 1 / 3 + (0.95 - 1 / 3) * rise, np.log(3) - (np.log(3) - 0.2) * rise
    frames = frame_epochs(acc, loss, 30)
    assert frames[0] == 0 and frames[-1] == 400 and len(frames) == 30
    assert np.all(np.diff(frames) > 0)  # ascending, no repeats
    assert np.sum((frames >= 190) & (frames <= 210)) >= 10 and np.sum((frames >= 250) & (frames < 400)) == 0
    assert frames[:3].tolist() == [0, 1, 2]  # the first epochs, whatever the curves do
    evenly = np.round(np.linspace(0, 400, 30)).astype(np.int64)
    assert shown_lag(acc, frames) < 0.1 < 0.4 < shown_lag(acc, evenly)


def test_frame_epochs_show_a_one_epoch_jump_from_the_epoch_it_lands() -> None:
    # Issue 16: at 10 × 20 epoch 259 the readout said 97.6 % while the regions showed epoch 258's 56 %.
    acc = np.where(np.arange(401) < 259, 0.56, 0.976)
    frames = frame_epochs(acc, np.ones(401), 30)
    assert {258, 259} <= set(frames.tolist()) and shown_lag(acc, frames) == 0.0


def test_frame_epochs_are_log_spaced_on_flat_curves_and_every_epoch_when_few() -> None:
    frames = frame_epochs(np.full(401, 0.5), np.ones(401), 30)
    assert frames[:8].tolist() == list(range(8)) and frames[-1] == 400 and len(frames) == 30
    steps = (np.log1p(frames[1:]) - np.log1p(frames[:-1]))[frames[:-1] >= 20]  # past rounding to whole epochs:
    assert steps.max() < 1.5 * steps.min()  # about equal steps of ln(1 + epoch)
    assert frame_epochs(np.full(4, 0.5), np.ones(4), 60).tolist() == [0, 1, 2, 3]
    assert frame_epochs(np.full(401, 0.5), np.ones(401), 2).tolist() == [0, 400]


def test_decision_regions_match_per_point_argmax(tiny_data) -> None:
    experiment = tiny()
    arch = architecture(experiment)
    trajectory = train_runs(experiment, arch, tiny_data, CPU).trajectories[0]
    x_axis, y_axis = input_axes(tiny_data, 6)
    x_axis, y_axis = x_axis[:5], y_axis  # non-square on purpose
    frames = np.array([0, 8])
    regions = decision_regions(arch, trajectory.thetas, frames, x_axis, y_axis, device=CPU)
    assert regions.label.shape == (2, 6, 5) and regions.label.dtype == np.uint8
    for f, epoch in enumerate(frames):
        theta = torch.as_tensor(trajectory.thetas[epoch])
        for iy in (0, 3, 5):
            for ix in (0, 4):
                probs = torch.softmax(forward(arch, theta, torch.tensor([[x_axis[ix], y_axis[iy]]],
                                                                        dtype=torch.float32)), -1)[0]
                # A batched and a one-point forward may differ in the last bits (on another CPU, or
                # BLAS); the arg-max is only required where the top two classes are not a near-tie.
                top2 = probs.topk(2).values
                if top2[0] - top2[1] > 1e-5:
                    assert regions.label[f, iy, ix] == probs.argmax().item()
                expected = round(255 * (probs.max().item() - 1 / 3) / (2 / 3))
                assert abs(int(regions.confidence[f, iy, ix]) - expected) <= 1


def test_cross_entropy_is_mean_over_samples() -> None:
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    y = torch.tensor([0, 2])
    np.testing.assert_allclose(cross_entropy(logits, y).item(),
                               torch.nn.functional.cross_entropy(logits, y).item(), rtol=1e-6)


def test_views_show_true_proportions_and_random_planes_the_standard_extent() -> None:
    config = SurfaceConfig(resolution=5, margin=0.5, random_extent=1.0, stretch_min=1.5)
    long_path = np.array([[-4.0, 0.1], [-2.0, 0.2], [0.0, 0.0]])
    views = {name: (x, y) for name, x, y in view_axes("pca", long_path, config)}
    np.testing.assert_allclose(views["true"][0], views["true"][1])  # one unit, one length, on both axes
    np.testing.assert_allclose(views["true"][0], [-6, -3, 0, 3, 6])  # the path's reach plus the margin
    np.testing.assert_allclose(views["stretched"][1], [-0.3, -0.15, 0, 0.15, 0.3])
    assert stretch_of(*views["stretched"]) == pytest.approx(20)
    [(name, x, y)] = view_axes("random", long_path / 100, config)  # a short stroke: the standard ±1 extent
    assert name == "true" and x[-1] == pytest.approx(1.0) and np.array_equal(x, y)
    square_path = np.array([[-1.0, -0.9], [0.0, 0.0]])
    assert [name for name, _, _ in view_axes("pca", square_path, config)] == ["true"]  # nothing to stretch
