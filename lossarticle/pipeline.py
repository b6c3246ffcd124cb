"""Run one experiment through every compute stage: train, directions, project, surface, regions.

Pure: takes configs and data, returns arrays. Only ``export`` writes them.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lossarticle.configs import Experiment, Run
from lossarticle.data import Dataset
from lossarticle.directions import Plane, make_plane
from lossarticle.models import Architecture, architecture, init_params
from lossarticle.project import Projection, project_path
from lossarticle.surface import (Regions, Surface, chunk_size, decision_regions, frame_indices, input_axes,
                                 loss_grid, losses_at, matmul_flops, symmetric_axis)
from lossarticle.train import SeedStats, Trajectory, train_ensemble, training_flops


@dataclass(frozen=True)
class PlaneResult:
    """One plane, its surface, and every run's path in it."""

    plane: Plane
    surface: Surface
    projections: dict[str, Projection]  # run name -> path in this plane
    path_loss: dict[str, np.ndarray]  # run name -> surface loss at each projected snapshot


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
    seed_stats: dict[str, SeedStats]  # run name -> every seed's metrics (seed 0 is the trajectory above)
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
                device: torch.device) -> tuple[Trajectory, SeedStats]:
    """Train one run from every row of ``theta0``: seed 0's path and every seed's metrics.

    Seeds go in equal groups of at most ``chunk_size`` networks, the surfaces' rule: about
    2 MiB of activations a layer on the CPU (96 networks of width 5, 24 of width 20, 4 of
    width 100), which stay in cache. 96 seeds of the 10x20 net trained 25-35 % faster in
    groups of 24 than in one batch (CPU time, one thread); equal groups, because a small
    remainder group costs nearly a whole run's overhead (100 seeds of 20x5: 50 + 50 ran
    55-63 ms an epoch, 96 + 4 63-83). On a GPU one group holds all.
    """
    groups = -(-len(theta0) // chunk_size(arch, len(data.x_train), device))
    trained = [train_ensemble(arch, part, run, data, epochs, device) for part in theta0.tensor_split(groups)]
    return trained[0][0], SeedStats.concatenate([stats for _, stats in trained])


def train_runs(experiment: Experiment, arch: Architecture, data: Dataset,
               device: torch.device) -> tuple[list[Trajectory], dict[str, SeedStats]]:
    """Train every run's seeds from the same θ₀ per seed: seed 0's path and every seed's metrics."""
    theta0 = initial_weights(experiment, arch)
    trained = [train_seeds(arch, theta0, run, data, experiment.epochs, device) for run in experiment.runs]
    return [path for path, _ in trained], {run.name: stats for run, (_, stats) in zip(experiment.runs, trained)}


def plane_result(method: str, experiment: Experiment, arch: Architecture, trajectories: list[Trajectory],
                 data: Dataset, device: torch.device, rng: np.random.Generator) -> PlaneResult:
    """Directions, projected paths, the surface around them and the loss along them."""
    plane = make_plane(method, [t.thetas for t in trajectories], arch, rng)
    projections = {t.run.name: project_path(t.thetas, plane) for t in trajectories}
    every_point = np.concatenate([p.coords for p in projections.values()])
    config = experiment.surface
    x_axis = symmetric_axis(every_point[:, 0], config.margin, config.resolution)
    y_axis = symmetric_axis(every_point[:, 1], config.margin, config.resolution)
    surface = loss_grid(arch, plane, x_axis, y_axis, data, device)
    path_loss = {name: losses_at(arch, plane, p.coords, data, device)[0]
                 for name, p in projections.items()}
    return PlaneResult(plane, surface, projections, path_loss)


def compute_experiment(experiment: Experiment, data: Dataset, device: torch.device,
                       advance: Callable[[str], None] = lambda stage: None) -> ExperimentResult:
    """All arrays for one experiment; ``advance`` is called after each stage (progress bars)."""
    arch = architecture(experiment, inputs=data.x_train.shape[1], classes=int(data.y_train.max()) + 1)
    start = time.perf_counter()
    trajectories, seed_stats = train_runs(experiment, arch, data, device)
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
    grid_points = experiment.surface.resolution ** 2 * len(planes)
    flops = matmul_flops(arch, len(data.x_train)) * grid_points
    model_epochs = len(experiment.runs) * experiment.seeds * experiment.epochs
    train_flops = len(experiment.runs) * experiment.seeds * training_flops(arch, data, experiment.epochs)
    return ExperimentResult(experiment, arch, device.type, trajectories, planes, regions, seed_stats,
                            Timings(train_s, surface_s, regions_s, flops, model_epochs, train_flops))


def run_regions(experiment: Experiment, arch: Architecture, trajectory: Trajectory, data: Dataset,
                device: torch.device) -> Regions:
    """Decision regions at the frames the article shows."""
    config = experiment.surface
    frames = frame_indices(trajectory.epochs, config.region_frames)
    x_axis, y_axis = input_axes(data, config.region_resolution)
    return decision_regions(arch, trajectory.thetas, frames, x_axis, y_axis, device=device)


def stage_count(experiment: Experiment) -> int:
    """How many times ``compute_experiment`` calls ``advance``: sizes its progress bar."""
    return 2 + len(experiment.planes)
