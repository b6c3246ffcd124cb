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
    seeds = SeedsRecord(count=6, final_train_loss=loss, final_train_acc=acc, final_val_acc=acc, final_test_acc=acc,
                        train_loss=loss[:, None], diverged=np.isnan(loss),
                        first_dead_layer=np.array([3, -1, 0, -1, -1, -1], np.int32))
    summary = seed_summary(seeds)
    assert (summary.count, summary.stuck, summary.fit, summary.diverged) == (6, 2, 2, 1)
    assert (summary.dead_at_init, summary.dead_and_stuck, summary.dead_and_fit) == (2, 1, 1)
    assert summary.stuck_rate == pytest.approx(2 / 6) and summary.max_val_acc == pytest.approx(0.99)


def test_a_run_summary_finds_its_plateau_and_its_largest_glitch() -> None:
    from lossarticle.summaries import run_summary
    run = synthetic_run("adam", 8, ("pca",))
    loss = np.array([1.1, 1.09, 1.05, 0.9, 0.5, 0.2, 0.7, 0.1, 0.05], np.float32)
    summary = run_summary(dataclasses.replace(run, train_loss=loss))
    assert summary.drop_epoch == 3  # 0.9 < 0.99 = 90 % of 1.1, for the first time
    assert summary.jump == pytest.approx(0.5) and summary.jump_epoch == 6
    assert run_summary(dataclasses.replace(run, train_loss=np.full(9, 1.1, np.float32))).drop_epoch is None
