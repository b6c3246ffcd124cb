"""Run one experiment through every compute stage: train, directions, project, surface, regions.

Pure: takes configs and data, returns arrays. Only ``export`` writes them.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lossarticle.configs import Experiment, Run
from lossarticle.data import Dataset
from lossarticle.directions import Plane, make_plane
from lossarticle.errors import ConfigError
from lossarticle.models import Architecture, architecture, init_params
from lossarticle.project import Projection, project_path
from lossarticle.surface import (Regions, Segment, View, chunk_size, decision_regions, frame_epochs, input_axes,
                                 loss_grid, losses_at, matmul_flops, segment_losses, stretch_of, view_axes)
from lossarticle.measures import drawn_member
from lossarticle.train import Ensemble, SeedStats, Trajectory, train_ensemble, training_flops


@dataclass(frozen=True)
class PlaneResult:
    """One plane, its surfaces, and every run's path in it."""

    plane: Plane
    views: list[View]  # "true" first; "stretched" where the path is much longer one way
    projections: dict[str, Projection]  # run name -> path in this plane
    path_loss: dict[str, np.ndarray]  # run name -> surface loss at each projected snapshot
    segment: Segment | None  # init-final only: the loss along θ₀ -> θ_final


@dataclass(frozen=True)
class Timings:
    """Seconds per stage and the work done, for the benchmark."""

    train_s: float
    surface_s: float  # loss grids plus the losses along the projected paths
    regions_s: float
    surface_flops: int  # matmul FLOPs of the grid evaluations alone
    model_epochs: int  # networks trained x epochs, over every run and seed
    train_flops: int  # matmul FLOPs of training (see ``train.training_flops``)


@dataclass(frozen=True)
class ExperimentResult:
    """Everything the export stage writes for one experiment."""

    experiment: Experiment
    arch: Architecture
    device: str
    trajectories: list[Trajectory]
    planes: list[PlaneResult]
    regions: dict[str, Regions]  # run name -> decision regions
    seed_stats: dict[str, SeedStats]  # run name -> every seed's metrics
    drawn: int  # the initialization the trajectories above start from
    timings: Timings = field(compare=False)


def sync(device: torch.device) -> None:
    """Wait for queued GPU work so a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def initial_weights(experiment: Experiment, arch: Architecture) -> torch.Tensor:
    """(seeds, P): row s drawn from seed + s, so row 0 is the experiment's one θ₀ of before.

    Nets of equal sizes get equal rows: the 20x5 net and its skip twin start alike, seed by seed.
    """
    return torch.stack([init_params(arch, torch.Generator().manual_seed(experiment.seed + s))
                        for s in range(experiment.seeds)])


def train_seeds(arch: Architecture, theta0: torch.Tensor, run: Run, data: Dataset, epochs: int,
                device: torch.device) -> Ensemble:
    """Train one run from every row of ``theta0``: every seed's weights and metrics.

    Seeds go in equal groups of at most ``chunk_size`` networks, the surfaces' rule: about
    2 MiB of activations a layer on the CPU (96 networks of width 5, 24 of width 20, 4 of
    width 100), which stay in cache. 96 seeds of the 10x20 net trained 25-35 % faster in
    groups of 24 than in one batch (CPU time, one thread); equal groups, because a small
    remainder group costs nearly a whole run's overhead (100 seeds of 20x5: 50 + 50 ran
    55-63 ms an epoch, 96 + 4 63-83). On a GPU one group holds all.
    """
    groups = -(-len(theta0) // chunk_size(arch, len(data.x_train), device))
    return Ensemble.concatenate([train_ensemble(arch, part, run, data, epochs, device)
                                 for part in theta0.tensor_split(groups)])


@dataclass(frozen=True)
class Trained:
    """Every run of an experiment from every initialization, and the one the figures draw."""

    trajectories: list[Trajectory]  # each run from the drawn initialization
    seed_stats: dict[str, SeedStats]  # run name -> every seed's metrics
    drawn: int  # the drawn initialization: measures.drawn_member of the reference run, or the twin's


def train_runs(experiment: Experiment, arch: Architecture, data: Dataset, device: torch.device,
               drawn: int | None = None) -> Trained:
    """Train every run's seeds from the same θ₀ per seed, and draw each run from one of them.

    ``drawn`` (a twin's choice, see ``Experiment.drawn_from``) overrides the experiment's own
    median: the skip twin is drawn from the θ₀ its plain net is drawn from.
    """
    theta0 = initial_weights(experiment, arch)
    ensembles = [train_seeds(arch, theta0, run, data, experiment.epochs, device) for run in experiment.runs]
    if drawn is None:
        drawn = drawn_member(ensembles[0].stats.train_loss)
    elif not 0 <= drawn < experiment.seeds:
        raise ConfigError(f"{experiment.slug}: drawn initialization {drawn} is not one of its {experiment.seeds}")
    return Trained([e.trajectory(drawn) for e in ensembles], {e.run.name: e.stats for e in ensembles}, drawn)


def plane_result(method: str, experiment: Experiment, arch: Architecture, trajectories: list[Trajectory],
                 data: Dataset, device: torch.device, rng: np.random.Generator) -> PlaneResult:
    """Directions, projected paths, the surface around them and the loss along them."""
    plane = make_plane(method, [t.thetas for t in trajectories], arch, rng)
    projections = {t.run.name: project_path(t.thetas, plane) for t in trajectories}
    every_point = np.concatenate([p.coords for p in projections.values()])
    views = [View(name, stretch_of(x_axis, y_axis), loss_grid(arch, plane, x_axis, y_axis, data, device))
             for name, x_axis, y_axis in view_axes(method, every_point, experiment.surface)]
    path_loss = {name: losses_at(arch, plane, p.coords, data, device)[0]
                 for name, p in projections.items()}
    segment = None
    if method == "init-final" and not plane.fallback:
        segment = segment_losses(arch, plane, experiment.surface.resolution, data, device)
    return PlaneResult(plane, views, projections, path_loss, segment)


def compute_experiment(experiment: Experiment, data: Dataset, device: torch.device,
                       advance: Callable[[str], None] = lambda stage: None,
                       drawn: int | None = None) -> ExperimentResult:
    """All arrays for one experiment; ``advance`` is called after each stage (progress bars).

    ``drawn``: the initialization to draw when a twin chose it (``train_runs``).
    """
    arch = architecture(experiment, inputs=data.x_train.shape[1], classes=int(data.y_train.max()) + 1)
    check_memory(experiment, arch, len(data.x_train), available_bytes())
    start = time.perf_counter()
    trained = train_runs(experiment, arch, data, device, drawn)
    trajectories = trained.trajectories
    sync(device)
    train_s = time.perf_counter() - start
    advance("train")
    rng = np.random.default_rng(experiment.seed)
    planes, start = [], time.perf_counter()
    for method in experiment.planes:
        planes.append(plane_result(method, experiment, arch, trajectories, data, device, rng))
        advance(f"surface {method}")
    sync(device)
    surface_s = time.perf_counter() - start
    start = time.perf_counter()
    regions = {t.run.name: run_regions(experiment, arch, t, data, device) for t in trajectories}
    regions_s = time.perf_counter() - start
    advance("regions")
    grid_points = experiment.surface.resolution ** 2 * sum(len(p.views) for p in planes)
    flops = matmul_flops(arch, len(data.x_train)) * grid_points
    model_epochs = len(experiment.runs) * experiment.seeds * experiment.epochs
    train_flops = len(experiment.runs) * experiment.seeds * training_flops(arch, data, experiment.epochs)
    return ExperimentResult(experiment, arch, device.type, trajectories, planes, regions, trained.seed_stats,
                            trained.drawn, Timings(train_s, surface_s, regions_s, flops, model_epochs, train_flops))


def run_regions(experiment: Experiment, arch: Architecture, trajectory: Trajectory, data: Dataset,
                device: torch.device) -> Regions:
    """Decision regions at the frames the article shows: where the run's training curves say they change."""
    config = experiment.surface
    frames = frame_epochs(trajectory.train_acc, trajectory.train_loss, config.region_frames)
    x_axis, y_axis = input_axes(data, config.region_resolution)
    return decision_regions(arch, trajectory.thetas, frames, x_axis, y_axis, device=device)


def stage_count(experiment: Experiment) -> int:
    """How many times ``compute_experiment`` calls ``advance``: sizes its progress bar."""
    return 2 + len(experiment.planes)


def memory_needs(experiment: Experiment, arch: Architecture, samples: int) -> dict[str, int]:
    """Bytes of the largest allocations of one experiment, by what they hold (an over- rather than underestimate).

    Counted: every seed's θ₀; every seed's weight snapshots (device tensor and host copy)
    and the drawn run's float64 path PCA centres; every seed's per-epoch metrics; training
    activations (forward and backward) of all seeds at once, the most a group can hold;
    the surface grid's coordinates and values; the decision regions; the exported text
    (base64 and the JSON tree, twice the array bytes each).
    """
    runs, planes, config, seeds = len(experiment.runs), len(experiment.planes), experiment.surface, experiment.seeds
    snapshots = runs * (experiment.epochs + 1) * arch.num_params
    grid = config.resolution ** 2 * planes * 2  # a true and a stretched view
    frames = min(config.region_frames, experiment.epochs + 1) * config.region_resolution ** 2 * runs
    exported = 4 * runs * (experiment.epochs + 1) * (3 + 4 * planes + 2 * seeds) + 8 * grid + 2 * frames
    return {
        "initial weights": seeds * arch.num_params * 4,
        "weight snapshots": snapshots * (seeds * (4 + 4) + 16),
        "seed metrics": runs * seeds * (experiment.epochs + 1) * 3 * 4 * 2,
        "training activations": 3 * 4 * samples * sum(arch.sizes[1:]) * seeds,
        "loss surface": grid * (16 + 8 + 8),
        "decision regions": frames * (2 + 12),
        "exported file": 4 * exported,
    }


def available_bytes() -> int | None:
    """Memory the kernel says a new allocation can get (Linux MemAvailable), or None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(experiment: Experiment, arch: Architecture, samples: int, available: int | None) -> None:
    """Refuse, before allocating anything, an experiment that cannot fit: one line with the estimate."""
    needs = memory_needs(experiment, arch, samples)
    total = sum(needs.values())
    if available is not None and total > available:
        part, size = max(needs.items(), key=lambda item: item[1])
        raise ConfigError(f"{experiment.slug}: needs about {gib(total)} of memory ({part}: {gib(size)}), more "
                          f"than the {gib(available)} available; reduce its width, depth, epochs or resolution "
                          f"in lossarticle/configs.py")


def gib(size: float) -> str:
    return f"{size / 2 ** 30:,.1f} GiB"
