"""Numbers the prose quotes, derived from the exported files so text and figures agree.

Editors write ``{{ exp["mlp-d1-w100"].final_loss | num }}`` in Markdown; every
name they may use is a field below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossarticle.errors import ContentError
from lossarticle.scales import relative_range
from lossarticle.schema import ExperimentFile, PlaneRecord, RunRecord, SeedsRecord


@dataclass(frozen=True)
class PlaneSummary:
    """What one plane shows and hides of the reference run's path."""

    method: str
    explained: tuple[float, float] | None  # PCA: share of Σ|θᵢ − θ_final|² along each axis
    max_distance: float  # largest distance of a snapshot from the plane
    max_gap: float  # largest |recorded loss − surface loss at the projected point|
    max_gap_epoch: int  # where that largest gap is
    start_surface_loss: float  # the loss of the network drawn at θ₀'s place on the plane
    stretch: float  # the path's extent along the first axis over its extent along the second
    reach: tuple[float, float]  # the path's largest |a| and |b|: how far from the centre it is drawn
    axis_lengths: tuple[float, float]  # weight-space length of one unit along each axis (equal)
    map_range: float  # (highest − lowest) / lowest loss of the true-proportion map: how much its colours span
    bend: float  # largest distance of the projected path from its start→end chord, over the chord's length
    max_segment_distance: float | None  # init-final: largest distance of a snapshot from the segment θ₀→θ_final
    segment_rise: float | None  # init-final: largest rise of the loss along θ₀ → θ_final (0: no barrier)
    segment_start: float | None  # init-final: the loss at θ₀ and at θ_final, the segment's ends
    segment_end: float | None


@dataclass(frozen=True)
class RunSummary:
    """Headline numbers of one optimizer run."""

    name: str
    optimizer: str
    lr: float
    momentum: float  # SGD's heavy-ball coefficient (0 for the others)
    epochs: int  # epochs actually run (fewer than configured when training diverged)
    diverged: bool
    initial_loss: float
    final_loss: float
    min_loss: float
    final_train_acc: float
    final_val_acc: float
    final_test_acc: float  # on the 225 held-out test points, at the final weights
    epochs_to_90: int | None  # first epoch with training accuracy >= 90 %, None if never
    drop_epoch: int | None  # first epoch whose loss is 10 % below the initial loss, None if never
    jump: float  # largest rise of the loss above its lowest value so far: a glitch's height (0: never rises)
    jump_epoch: int  # the epoch it peaks at
    end_distance: dict[str, float]  # plane -> distance of the final weights from it (0 for the first run)
    end_point: dict[str, tuple[float, float]]  # plane -> where the final weights are drawn on it


@dataclass(frozen=True)
class ExperimentSummary(RunSummary):
    """The reference run's numbers plus the experiment's own."""

    slug: str
    title: str
    params: int
    resolution: int  # grid points per axis of every loss map
    depth: int
    width: int
    skip: bool
    pc1: float | None  # PCA plane, when the experiment has one
    pc2: float | None
    runs: dict[str, RunSummary]
    planes: dict[str, PlaneSummary]
    seeds: SeedSummary  # the first run from every initialization


# What the prose is told when it prints a value the data never reached (a field below that is None).
NOT_REACHED = ("is None: the data never reached this value; print it inside {% if … is not none %} … {% endif %} "
               "and say what happened otherwise")
LN3 = math.log(3)  # cross-entropy of predicting 1/3 for every class: the best a net that ignores its input can do
STUCK_TOLERANCE = 0.01  # a loss within this of ln 3 is "at ln 3" (why this value: stuck_at_ln3)


def stuck_at_ln3(loss: np.ndarray) -> np.ndarray:
    """Where a loss is ln 3: the one test of "stuck" the prose, the summaries and the posters use.

    On the published seeds (100 initializations of each width-5 net) every stuck one ends
    within 3e-7 of ln 3 (float32 rounding) and every other at least 0.42 away, so 0.01
    separates them with room on both sides. NaN (a diverged run) is not stuck.
    """
    return np.abs(np.asarray(loss, np.float64) - LN3) < STUCK_TOLERANCE


@dataclass(frozen=True)
class SeedSummary:
    """How the experiment's initializations fared: counts the prose turns into rates."""

    count: int
    stuck: int  # final training loss within STUCK_TOLERANCE of ln 3, the loss of predicting 1/3 everywhere
    fit: int  # final training accuracy of at least 90 %
    diverged: int
    dead_at_init: int  # a hidden layer whose ReLUs are all off for every training input at θ₀
    dead_and_stuck: int  # both of the above
    dead_and_fit: int  # dead at θ₀ and still at least 90 % at the last epoch (skip connections route around it)
    median_final_loss: float
    median_val_acc: float
    median_test_acc: float
    min_val_acc: float
    max_val_acc: float

    @property
    def tolerance(self) -> float:
        """How close to ln 3 a final loss counts as stuck."""
        return STUCK_TOLERANCE

    @property
    def stuck_rate(self) -> float:
        return self.stuck / self.count

    @property
    def dead_rate(self) -> float:
        return self.dead_at_init / self.count


def run_summary(run: RunRecord) -> RunSummary:
    """Headline numbers of one run."""
    reached = np.flatnonzero(run.train_acc >= 0.9)
    dropped = np.flatnonzero(run.train_loss < 0.9 * run.train_loss[0])
    rise = run.train_loss.astype(np.float64) - np.minimum.accumulate(run.train_loss.astype(np.float64))
    return RunSummary(name=run.name, optimizer=run.optimizer, lr=run.lr, momentum=run.momentum, epochs=run.epochs,
                      diverged=run.diverged, initial_loss=float(run.train_loss[0]),
                      final_loss=float(run.train_loss[-1]), min_loss=float(run.train_loss.min()),
                      final_train_acc=float(run.train_acc[-1]), final_val_acc=float(run.val_acc[-1]),
                      final_test_acc=run.test_acc, epochs_to_90=int(reached[0]) if reached.size else None,
                      drop_epoch=int(dropped[0]) if dropped.size else None, jump=float(rise.max()),
                      jump_epoch=int(rise.argmax()),
                      end_distance={p.method: float(p.distance[-1]) for p in run.paths},
                      end_point={p.method: (float(p.coords[-1, 0]), float(p.coords[-1, 1])) for p in run.paths})


def seed_summary(seeds: SeedsRecord) -> SeedSummary:
    """Counts and medians over every initialization."""
    loss = seeds.final_train_loss.astype(np.float64)
    stuck = stuck_at_ln3(loss)
    dead = seeds.first_dead_layer >= 0
    return SeedSummary(count=seeds.count, stuck=int(stuck.sum()), fit=int((seeds.final_train_acc >= 0.9).sum()),
                       diverged=int(seeds.diverged.sum()), dead_at_init=int(dead.sum()),
                       dead_and_stuck=int((dead & stuck).sum()),
                       dead_and_fit=int((dead & (seeds.final_train_acc >= 0.9)).sum()),
                       median_final_loss=float(np.nanmedian(loss)),
                       median_val_acc=float(np.nanmedian(seeds.final_val_acc)),
                       median_test_acc=float(np.nanmedian(seeds.final_test_acc)),
                       min_val_acc=float(np.nanmin(seeds.final_val_acc)),
                       max_val_acc=float(np.nanmax(seeds.final_val_acc)))


def plane_summary(plane: PlaneRecord, run: RunRecord) -> PlaneSummary:
    """How far the reference path strays from ``plane``, how wrong its surface loss gets, and its shape."""
    path = run.path(plane.method)
    gap = np.abs(path.surface_loss.astype(np.float64) - run.train_loss)
    coords = path.coords.astype(np.float64)
    reach = np.abs(coords).max(axis=0)
    segment = plane.segment
    gap = np.nan_to_num(gap, nan=np.inf)
    return PlaneSummary(plane.method, plane.explained_variance, float(path.distance.max()), float(gap.max()),
                        max_gap_epoch=int(gap.argmax()), start_surface_loss=float(path.surface_loss[0]),
                        stretch=float(reach[0] / reach[1]) if reach[1] > 0 else float("inf"),
                        reach=(float(reach[0]), float(reach[1])), axis_lengths=plane.axis_lengths,
                        map_range=relative_range(plane.view("true").surface.loss),
                        bend=chord_bend(coords),
                        max_segment_distance=segment_distance(plane, path.coords, path.distance)
                        if segment is not None else None,
                        segment_rise=largest_rise(segment.loss) if segment is not None else None,
                        segment_start=float(segment.loss[0]) if segment is not None else None,
                        segment_end=float(segment.loss[-1]) if segment is not None else None)


def chord_bend(points: np.ndarray) -> float:
    """Largest distance of ``points`` from the segment between the first and last, over its length."""
    start, end = points[0], points[-1]
    chord = end - start
    length = float(np.linalg.norm(chord))
    if length == 0:
        return 0.0
    t = np.clip((points - start) @ chord / length ** 2, 0, 1)
    return float(np.linalg.norm(points - (start + t[:, None] * chord), axis=1).max() / length)


def segment_distance(plane: PlaneRecord, coords: np.ndarray, distance: np.ndarray) -> float:
    """Largest weight-space distance of the snapshots from the segment θ₀ → θ_final of an init→final plane.

    There θ = θ_final + a·d1 + b·d2 + r with d1 = θ_final − θ₀, d2 ⟂ d1 and r ⟂ both, and the
    segment is θ_final + t·d1 for t in [−1, 0], so the distance is
    √(((a − t*)·|d1|)² + (b·|d2|)² + |r|²) with t* the nearest t.
    """
    a, b = coords[:, 0].astype(np.float64), coords[:, 1].astype(np.float64)
    along = (a - np.clip(a, -1.0, 0.0)) * plane.axis_lengths[0]
    across = b * plane.axis_lengths[1]
    return float(np.sqrt(along ** 2 + across ** 2 + distance.astype(np.float64) ** 2).max())


def largest_rise(loss: np.ndarray) -> float:
    """How far the loss climbs above its lowest value so far along the segment (a barrier's height)."""
    values = np.nan_to_num(loss.astype(np.float64), nan=np.inf)
    return float(np.max(values - np.minimum.accumulate(values)))


def summarize(document: ExperimentFile) -> ExperimentSummary:
    """Summary of one experiment file."""
    reference, config = document.reference, document.config
    planes = {p.method: plane_summary(p, reference) for p in document.planes}
    pca = planes.get("pca")
    return ExperimentSummary(
        **run_summary(reference).__dict__, slug=document.slug, title=document.title,
        params=document.architecture.num_params, resolution=config.surface.resolution, depth=config.depth,
        width=config.width, skip=config.skip,
        pc1=pca.explained[0] if pca and pca.explained else None,
        pc2=pca.explained[1] if pca and pca.explained else None,
        runs={r.name: run_summary(r) for r in document.runs}, planes=planes, seeds=seed_summary(document.seeds))


def reached(value: Any, name: str) -> Any:
    """``value``, unless it is None: a filter given a value never reached says so instead of a TypeError."""
    if value is None:
        raise ContentError(f"{name}: the value {NOT_REACHED}")
    return value


def pct(value: float, digits: int = 1) -> str:
    """0.953 -> '95.3 %' (a thin no-break space before the sign, as in the figures)."""
    return f"{100 * reached(value, 'pct'):.{digits}f}\u202f%"


def thousands(value: int) -> str:
    """An integer with thousands separators: 91503 -> '91,503'."""
    return f"{int(reached(value, 'thousands')):,}"


def num(value: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, without scientific notation for readable sizes."""
    if reached(value, "num") == 0 or not np.isfinite(value):
        return str(value)
    magnitude = int(np.floor(np.log10(abs(value))))
    if -5 <= magnitude < 6:
        return f"{value:.{max(digits - 1 - magnitude, 0)}f}"
    return f"{value:.{digits - 1}e}"
