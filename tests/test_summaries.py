"""The numbers the prose quotes, against hand-computed oracles."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lossarticle.summaries import chord_bend, largest_rise, plane_summary, segment_distance
from tests.records import synthetic_plane, synthetic_run


def test_distance_from_the_init_final_segment_adds_what_the_plane_leaves_out() -> None:
    plane = dataclasses.replace(synthetic_plane("init-final"), axis_lengths=(2.0, 2.0))
    coords = np.array([[-1.0, 0.0], [-0.5, 0.3], [0.25, 0.0], [0.0, 0.0]])
    off_plane = np.array([0.0, 0.4, 0.0, 0.0])
    # On the segment; beside its middle (0.3 · 2 across, 0.4 off the plane); beyond θ_final by 0.25 · 2.
    assert segment_distance(plane, coords[:1], off_plane[:1]) == 0
    assert segment_distance(plane, coords[1:2], off_plane[1:2]) == pytest.approx(np.hypot(0.6, 0.4))
    assert segment_distance(plane, coords[2:3], off_plane[2:3]) == pytest.approx(0.5)
    assert segment_distance(plane, coords, off_plane) == pytest.approx(np.hypot(0.6, 0.4))


def test_a_straight_path_has_no_bend_and_an_arch_has_one() -> None:
    line = np.column_stack([np.linspace(-3, 0, 20), np.linspace(-1, 0, 20)])
    assert chord_bend(line) == pytest.approx(0, abs=1e-12)
    t = np.linspace(0, 1, 21)
    arch = np.column_stack([t - 1, 0.5 * np.sin(np.pi * t)])  # chord of length 1, top 0.5 above it
    assert chord_bend(arch) == pytest.approx(0.5)


def test_a_barrier_is_a_rise_above_the_lowest_loss_so_far() -> None:
    assert largest_rise(np.array([3.0, 2.0, 1.0, 0.5])) == 0
    assert largest_rise(np.array([3.0, 1.0, 1.8, 0.2])) == pytest.approx(0.8)
    assert largest_rise(np.array([1.0, np.nan, 0.5])) == np.inf  # overflow counts as a barrier


def test_plane_summary_fills_the_segment_fields_only_on_init_final_planes() -> None:
    run = synthetic_run("adam", 8, ("pca", "init-final"))
    pca = plane_summary(synthetic_plane("pca"), run)
    init_final = plane_summary(synthetic_plane("init-final"), run)
    assert pca.max_segment_distance is None and pca.segment_rise is None
    assert init_final.segment_rise == 0 and init_final.max_segment_distance > 0
    assert pca.stretch == pytest.approx(2.0)  # the synthetic path goes twice as far along a as along b


def test_seed_counts_against_a_hand_count() -> None:
    from lossarticle.schema import SeedsRecord
    from lossarticle.summaries import seed_summary
    ln3 = float(np.log(3))
    loss = np.array([ln3, ln3 + 0.005, 0.2, 0.01, ln3 - 0.02, np.nan], np.float32)
    acc = np.array([0.33, 0.34, 0.92, 0.99, 0.40, 0.33], np.float32)
    seeds = SeedsRecord(count=6, drawn=3, final_train_loss=loss, final_train_acc=acc, final_val_acc=acc,
                        final_test_acc=acc, train_loss=loss[:, None], train_acc=acc[:, None], diverged=np.isnan(loss),
                        first_dead_layer=np.array([3, -1, 0, -1, -1, -1], np.int32),
                        dead_epoch=np.full((6, 4), -1, np.int32), final_dead_units=np.zeros(6, np.int16))
    summary = seed_summary(seeds)
    assert (summary.count, summary.stuck, summary.fit, summary.diverged) == (6, 2, 2, 1)
    assert (summary.dead_at_init, summary.dead_and_stuck, summary.dead_and_fit) == (2, 1, 1)
    assert summary.stuck_rate == pytest.approx(2 / 6) and summary.max_val_acc == pytest.approx(0.99)
    assert summary.drawn_rank == 1  # 0.01, the lowest; then 0.2, ln 3 - 0.02, ln 3, ln 3 + 0.005, NaN


def test_the_measures_tell_a_fit_held_from_a_fit_lost_in_a_late_glitch() -> None:
    """Two runs reach 90 %; one is mid-glitch at the last epoch: best counts both, late and last tell them apart."""
    from lossarticle.schema import SeedsRecord
    from lossarticle.summaries import seed_summary
    epochs = 30  # the late measure reads the last 3
    acc = np.full((3, epochs + 1), 0.95, np.float32)
    acc[1, -1] = 0.6  # a spike at the very end: late (median of 0.95, 0.6) still holds the fit
    acc[2, -2:] = 0.6  # a fit lost for the last two epochs: neither late nor last
    acc[:, 0] = 0.3
    loss = np.where(acc > 0.9, 0.05, 0.8).astype(np.float32)
    seeds = SeedsRecord(count=3, drawn=0, final_train_loss=loss[:, -1], final_train_acc=acc[:, -1],
                        final_val_acc=acc[:, -1], final_test_acc=acc[:, -1], train_loss=loss, train_acc=acc,
                        diverged=np.zeros(3, bool), first_dead_layer=np.full(3, -1, np.int32),
                        dead_epoch=np.full((3, 1), -1, np.int32), final_dead_units=np.zeros(3, np.int16))
    summary = seed_summary(seeds)
    assert (summary.reached, summary.fit, summary.fit_last) == (3, 2, 1)


def test_a_run_summary_finds_its_plateau_and_its_largest_glitch() -> None:
    from lossarticle.summaries import run_summary
    run = synthetic_run("adam", 8, ("pca",))
    loss = np.array([1.1, 1.09, 1.05, 0.9, 0.5, 0.2, 0.7, 0.1, 0.05], np.float32)
    summary = run_summary(dataclasses.replace(run, train_loss=loss))
    assert summary.drop_epoch == 3  # 0.9 < 0.99 = 90 % of 1.1, for the first time
    assert summary.jump == pytest.approx(0.5) and summary.jump_epoch == 6
    assert run_summary(dataclasses.replace(run, train_loss=np.full(9, 1.1, np.float32))).drop_epoch is None


@pytest.mark.parametrize("value, digits, text", [(0.995, 0, "99.5"), (0.9996, 1, "99.96"), (0.99996, 1, "99.996"),
                                                 (1.0, 0, "100"), (1.0, 1, "100.0"), (0.994, 0, "99"),
                                                 (0.953, 1, "95.3")])
def test_a_percentage_short_of_one_never_reads_100(value: float, digits: int, text: str) -> None:
    from lossarticle.numbers import pct
    assert pct(value, digits) == text + "\u202f%"


def test_the_lowest_ground_is_found_where_a_lopsided_map_has_it() -> None:
    """On a map whose loss falls towards +a, the centre is not the lowest point: no "minimum" there."""
    from lossarticle.schema import SurfaceRecord
    from lossarticle.summaries import lowest_ground
    x = np.linspace(-2, 4, 7, dtype=np.float32)  # the centre a = 0 is column 2; non-square on purpose
    y = np.linspace(-1, 1, 5, dtype=np.float32)
    loss = (1.0 - 0.1 * x[None, :] + y[:, None] ** 2).astype(np.float32)
    ground = lowest_ground(SurfaceRecord(x, y, loss, np.zeros_like(loss)))
    assert ground["centre_loss"] == pytest.approx(1.0) and ground["lowest_loss"] == pytest.approx(0.6)
    assert ground["lowest_point"] == (4.0, 0.0)
    bowl = (x[None, :] ** 2 + y[:, None] ** 2).astype(np.float32)
    ground = lowest_ground(SurfaceRecord(x, y, bowl, np.zeros_like(bowl)))
    assert ground["centre_loss"] == ground["lowest_loss"] == 0 and ground["lowest_point"] == (0.0, 0.0)


@pytest.mark.parametrize("value, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                         (13, "13th"), (21, "21st"), (22, "22nd"), (50, "50th"), (101, "101st"),
                                         (112, "112th")])
def test_ordinals(value: int, text: str) -> None:
    from lossarticle.numbers import ordinal
    assert ordinal(value) == text


def test_the_curvature_summary_reads_the_runaway_before_each_spike_and_the_collapse_after() -> None:
    from lossarticle.schema import CurvatureRecord
    from lossarticle.summaries import run_summary
    epochs = 60
    acc = np.full(epochs + 1, 0.95, np.float32)
    acc[:10] = 0.5  # fits at epoch 10
    loss = np.full(epochs + 1, 0.02, np.float32)
    loss[:10] = 1.0
    loss[40] = 0.5  # a spike: 25 times the minimum of the 20 epochs before
    measured = np.arange(0, epochs + 1, 1, dtype=np.int32)
    ratio = np.full(epochs + 1, 0.9)
    ratio[20:30] = 1.2  # above the edge without a spike
    ratio[36], ratio[39] = 2.0, 3.0  # the runaway before it
    ratio[42] = 0.1  # the collapse after
    record = CurvatureRecord(adaptive=True, threshold=100.0, epochs=measured,
                             hessian=np.full(epochs + 1, 10, np.float32), preconditioned=(ratio * 100).astype(np.float32))
    run = dataclasses.replace(synthetic_run("adam", epochs, ("pca",)), train_loss=loss, train_acc=acc,
                              val_acc=acc, curvature=record)
    summary = run_summary(run)
    assert summary.spike_epochs == (40,)
    curvature = summary.curvature
    assert curvature.peak_before == (pytest.approx(3.0),) and curvature.lowest_after == (pytest.approx(0.1),)
    assert curvature.largest == pytest.approx(3.0)
    assert curvature.above_after_fit == pytest.approx(12 / 50)  # 20-29, 36 and 39 of epochs 11-60
    assert curvature.hessian_largest == pytest.approx(10 * 0.005 / 2)
