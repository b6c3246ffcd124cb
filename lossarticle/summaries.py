"""Numbers the prose quotes, derived from the exported files so text and figures agree.

Editors write ``{{ exp["mlp-d1-w100"].final_loss | num }}`` in Markdown; every
name they may use is a field below.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossarticle.dynamics import spike_mask, spikes
from lossarticle.measures import FIT_ACCURACY, fit_epoch, late, rank_of
from lossarticle.scales import relative_range
from lossarticle.schema import ExperimentFile, PlaneRecord, RunRecord, SeedsRecord, SurfaceRecord


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
    centre_loss: float  # the true-proportion map's loss at its centre, the final weights
    lowest_loss: float  # the map's lowest loss, and where it is: with cross-entropy on data a net can
    lowest_point: tuple[float, float]  # separate, there is no finite minimum and the loss keeps falling outward
    bend: float  # largest distance of the projected path from its start→end chord, over the chord's length
    max_segment_distance: float | None  # init-final: largest distance of a snapshot from the segment θ₀→θ_final
    segment_rise: float | None  # init-final: largest rise of the loss along θ₀ → θ_final (0: no barrier)
    segment_start: float | None  # init-final: the loss at θ₀ and at θ_final, the segment's ends
    segment_end: float | None

    @property
    def centre_is_lowest(self) -> bool:
        """Whether the final weights sit at the map's lowest point: the one case "minimum" is the word."""
        return self.centre_loss <= self.lowest_loss


@dataclass(frozen=True)
class CurvatureSummary:
    """What the measured sharpness of one run says about its spikes (its edge of stability: ``dynamics.threshold``)."""

    measured: int  # epochs measured
    adaptive: bool  # the sharpness is λ_max(P⁻¹H) (Adam, RMSprop), else λ_max(H)
    threshold: float
    largest: float  # the largest sharpness over the threshold
    above_after_fit: float  # share of the measured epochs after the run first reached 90 % that lie above the edge
    peak_before: tuple[float, ...]  # per spike: the largest sharpness over the threshold in the LEAD epochs up to it
    lowest_after: tuple[float, ...]  # per spike: the lowest in the LEAD epochs after it (the collapse)
    hessian_largest: float  # the largest λ_max(H) over 2/η: how close the raw sharpness comes to gradient descent's edge


LEAD = 5  # epochs before a spike in which the sharpness runs away (dynamics.curvature_epochs measures them all)


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
    final_loss: float  # at the last epoch; ``late_loss`` is the median of the last tenth (measures.late)
    late_loss: float
    min_loss: float  # the best: lowest at any epoch
    final_train_acc: float
    late_train_acc: float
    final_val_acc: float
    final_test_acc: float  # on the 225 held-out test points, at the final weights
    epochs_to_90: int | None  # first epoch with training accuracy >= 90 %, None if never
    drop_epoch: int | None  # first epoch whose loss is 10 % below the initial loss, None if never
    jump: float  # largest rise of the loss above its lowest value so far: a glitch's height (0: never rises)
    jump_epoch: int  # the epoch it peaks at
    end_distance: dict[str, float]  # plane -> distance of the final weights from it (0 for the first run)
    end_point: dict[str, tuple[float, float]]  # plane -> where the final weights are drawn on it
    initial_norm: float  # |θ₀|
    norm_at_90: float | None  # |θ| at epochs_to_90
    final_norm: float  # |θ_final|
    spike_epochs: tuple[int, ...]  # the first epoch of each spike (dynamics.spikes: the one rule)
    curvature: CurvatureSummary | None  # where the run's sharpness was measured
    remaining_at_90: float | None  # |θ − θ_final| at epochs_to_90 over |θ₀ − θ_final|: the share of the
    #                                whole displacement still ahead when the net already fits (needs a plane
    #                                with orthogonal axes: see distance_to_final)


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
    drawn: int  # the initialization the figures draw (SeedsRecord.drawn)
    drawn_rank: int  # its place by late training loss, 1 = lowest (measures.rank_of)
    stuck: int  # late training loss within STUCK_TOLERANCE of ln 3, the loss of predicting 1/3 everywhere
    reached: int  # training accuracy of at least 90 % at some epoch (the "best" measure)
    fit: int  # late training accuracy of at least 90 % (the "late" measure: it holds the fit at the end)
    fit_last: int  # at least 90 % at the last epoch
    diverged: int
    dead_at_init: int  # a hidden layer whose ReLUs are all off for every training input at θ₀
    dead_and_stuck: int  # both of the above
    dead_and_fit: int  # dead at θ₀ and still fitting at the end, late measure (skip connections route around it)
    median_late_loss: float
    median_final_loss: float
    median_val_acc: float
    median_test_acc: float
    min_val_acc: float
    max_val_acc: float
    spiky: int  # reached 90 % and then spiked at least once (dynamics.spikes: the one rule)
    died: int  # every layer alive at θ₀, a layer dead at some later checked epoch (dynamics.dead_check_epochs)
    died_early: int  # of those, dead by epoch EARLY_DEATH
    stuck_alive: int  # stuck at the end with every layer alive at θ₀
    stuck_alive_died: int  # of those, a layer dead during training
    fit_dead_unit: int  # holding 90 % at the end with at least one dead unit at the last epoch
    missed_dead_unit: int  # not holding 90 % at the end (nor diverged), with at least one dead unit

    @property
    def missed(self) -> int:
        """Neither holding 90 % at the end nor diverged."""
        return self.count - self.fit - self.diverged

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


def run_summary(run: RunRecord, planes: tuple[PlaneRecord, ...] = ()) -> RunSummary:
    """Headline numbers of one run (``planes``: the experiment's, for the distances along the path)."""
    fitted = fit_epoch(run.train_acc)
    dropped = np.flatnonzero(run.train_loss < 0.9 * run.train_loss[0])
    rise = run.train_loss.astype(np.float64) - np.minimum.accumulate(run.train_loss.astype(np.float64))
    return RunSummary(name=run.name, optimizer=run.optimizer, lr=run.lr, momentum=run.momentum, epochs=run.epochs,
                      diverged=run.diverged, initial_loss=float(run.train_loss[0]),
                      final_loss=float(run.train_loss[-1]), late_loss=float(late(run.train_loss)[0]),
                      min_loss=float(run.train_loss.min()), final_train_acc=float(run.train_acc[-1]),
                      late_train_acc=float(late(run.train_acc)[0]), final_val_acc=float(run.val_acc[-1]),
                      final_test_acc=run.test_acc, epochs_to_90=fitted,
                      drop_epoch=int(dropped[0]) if dropped.size else None, jump=float(rise.max()),
                      jump_epoch=int(rise.argmax()),
                      end_distance={p.method: float(p.distance[-1]) for p in run.paths},
                      end_point={p.method: (float(p.coords[-1, 0]), float(p.coords[-1, 1])) for p in run.paths},
                      initial_norm=float(run.weight_norm[0]), final_norm=float(run.weight_norm[-1]),
                      norm_at_90=None if fitted is None else float(run.weight_norm[fitted]),
                      remaining_at_90=None if fitted is None else remaining_share(run, planes, fitted),
                      spike_epochs=tuple(int(e) for e in spikes(run.train_loss, run.train_acc)),
                      curvature=curvature_summary(run, fitted))


def curvature_summary(run: RunRecord, fitted: int | None) -> CurvatureSummary | None:
    """The run's sharpness against its edge, overall and around each of its spikes."""
    record = run.curvature
    if record is None:
        return None
    epochs = record.epochs.astype(np.int64)
    ratio = (record.preconditioned if record.adaptive else record.hessian).astype(np.float64) / record.threshold
    ratio = np.where(np.isfinite(ratio), ratio, np.nan)
    after = ratio[epochs > fitted] if fitted is not None else np.array([])
    episodes = spikes(run.train_loss, run.train_acc)

    def around(spike: int, low: int, high: int, pick: Any) -> float:
        window = ratio[(epochs >= spike + low) & (epochs <= spike + high)]
        window = window[np.isfinite(window)]
        return float(pick(window)) if window.size else float("nan")

    return CurvatureSummary(measured=len(epochs), adaptive=record.adaptive, threshold=record.threshold,
                            largest=float(np.nanmax(ratio)) if np.isfinite(ratio).any() else float("nan"),
                            above_after_fit=float(np.mean(after[np.isfinite(after)] > 1)) if after.size else 0.0,
                            peak_before=tuple(around(int(e), -LEAD, 0, np.max) for e in episodes),
                            lowest_after=tuple(around(int(e), 1, LEAD, np.min) for e in episodes),
                            hessian_largest=float(np.nanmax(record.hessian.astype(np.float64) * run.lr / 2)))


def distance_to_final(run: RunRecord, plane: PlaneRecord) -> np.ndarray | None:
    """|θᵢ − θ_final| of every snapshot, from its path on a plane centred on θ_final with orthogonal axes.

    θᵢ − θ_final = a·d1 + b·d2 + r with r ⟂ both, so on a PCA or init→final plane (d1 ⟂ d2)
    the length is √((a|d1|)² + (b|d2|)² + |r|²). A random plane's axes are only nearly orthogonal: None.
    """
    if plane.method not in ("pca", "init-final"):
        return None
    path = run.path(plane.method)
    coords, distance = path.coords.astype(np.float64), path.distance.astype(np.float64)
    return np.sqrt((coords[:, 0] * plane.axis_lengths[0]) ** 2 + (coords[:, 1] * plane.axis_lengths[1]) ** 2
                   + distance ** 2)


def remaining_share(run: RunRecord, planes: tuple[PlaneRecord, ...], epoch: int) -> float | None:
    """The share of |θ₀ − θ_final| still ahead at ``epoch`` (None without a plane that measures it)."""
    for plane in planes:
        lengths = distance_to_final(run, plane)
        if lengths is not None and lengths[0] > 0:
            return float(lengths[epoch] / lengths[0])
    return None


def seed_summary(seeds: SeedsRecord) -> SeedSummary:
    """Counts and medians over every initialization, each by the measure its field names (``measures``)."""
    loss, late_loss = seeds.final_train_loss.astype(np.float64), late(seeds.train_loss)
    stuck = stuck_at_ln3(late_loss)
    fit = late(seeds.train_acc) >= FIT_ACCURACY
    dead = seeds.first_dead_layer >= 0
    return SeedSummary(count=seeds.count, drawn=seeds.drawn, drawn_rank=rank_of(seeds.drawn, seeds.train_loss),
                       stuck=int(stuck.sum()), reached=int((np.nan_to_num(seeds.train_acc) >= FIT_ACCURACY)
                                                           .any(axis=1).sum()),
                       fit=int(fit.sum()), fit_last=int((seeds.final_train_acc >= FIT_ACCURACY).sum()),
                       diverged=int(seeds.diverged.sum()), dead_at_init=int(dead.sum()),
                       dead_and_stuck=int((dead & stuck).sum()), dead_and_fit=int((dead & fit).sum()),
                       median_late_loss=nanmedian(late_loss), median_final_loss=nanmedian(loss),
                       median_val_acc=nanmedian(seeds.final_val_acc), median_test_acc=nanmedian(seeds.final_test_acc),
                       min_val_acc=float(np.nanmin(seeds.final_val_acc)),
                       max_val_acc=float(np.nanmax(seeds.final_val_acc)),
                       spiky=int(spike_mask(seeds.train_loss, seeds.train_acc).any(axis=1).sum()),
                       **death_counts(seeds, stuck, fit))


EARLY_DEATH = 10  # "early": within the epochs dynamics.dead_check_epochs checks one by one


def death_counts(seeds: SeedsRecord, stuck: np.ndarray, fit: np.ndarray) -> dict[str, int]:
    """How layers and units die over the initializations: the measured cause of stuck and unfit runs."""
    alive = seeds.first_dead_layer < 0
    dies = (seeds.dead_epoch >= 0).any(axis=1) & alive
    never = np.iinfo(np.int32).max
    first = np.where(seeds.dead_epoch >= 0, seeds.dead_epoch, never).min(axis=1, initial=never)
    some_dead_unit, missed = seeds.final_dead_units > 0, ~fit & ~seeds.diverged
    return {"died": int(dies.sum()), "died_early": int((dies & (first <= EARLY_DEATH)).sum()),
            "stuck_alive": int((stuck & alive).sum()), "stuck_alive_died": int((stuck & dies).sum()),
            "fit_dead_unit": int((fit & some_dead_unit).sum()), "missed_dead_unit": int((missed & some_dead_unit).sum())}


def nanmedian(values: np.ndarray) -> float:
    """The median of the finite values; NaN (without numpy's warning) when every seed diverged."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


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
                        **lowest_ground(plane.view("true").surface),
                        bend=chord_bend(coords),
                        max_segment_distance=segment_distance(plane, path.coords, path.distance)
                        if segment is not None else None,
                        segment_rise=largest_rise(segment.loss) if segment is not None else None,
                        segment_start=float(segment.loss[0]) if segment is not None else None,
                        segment_end=float(segment.loss[-1]) if segment is not None else None)


def lowest_ground(surface: SurfaceRecord) -> dict[str, Any]:
    """The map's loss at its centre and its lowest point (a, b): "minimum" only where they coincide."""
    loss = np.nan_to_num(surface.loss.astype(np.float64), nan=np.inf)
    iy, ix = np.unravel_index(int(np.argmin(loss)), loss.shape)
    centre = loss[int(np.argmin(np.abs(surface.y))), int(np.argmin(np.abs(surface.x)))]
    return {"centre_loss": float(centre), "lowest_loss": float(loss[iy, ix]),
            "lowest_point": (float(surface.x[ix]), float(surface.y[iy]))}


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
        **run_summary(reference, document.planes).__dict__, slug=document.slug, title=document.title,
        params=document.architecture.num_params, resolution=config.surface.resolution, depth=config.depth,
        width=config.width, skip=config.skip,
        pc1=pca.explained[0] if pca and pca.explained else None,
        pc2=pca.explained[1] if pca and pca.explained else None,
        runs={r.name: run_summary(r, document.planes) for r in document.runs}, planes=planes, seeds=seed_summary(document.seeds))
