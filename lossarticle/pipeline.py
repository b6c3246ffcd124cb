"""Run one experiment through every compute stage: train, directions, project, surface, regions.

Pure: takes configs and data, returns arrays. Only ``export`` writes them.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lossarticle.configs import Experiment, Run
from lossarticle.curvature import Curvature, curvature_along, live_units
from lossarticle.data import Dataset
from lossarticle.directions import Plane, make_plane
from lossarticle.dynamics import curvature_epochs, dead_check_epochs
from lossarticle.errors import ConfigError
from lossarticle.measures import drawn_member
from lossarticle.models import Architecture, architecture, dead_layers, init_params
from lossarticle.project import Projection, project_path
from lossarticle.surface import (Regions, Segment, View, chunk_size, decision_regions, frame_epochs, input_axes,
                                 loss_grid, losses_at, matmul_flops, segment_losses, stretch_of, view_axes)
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
    curvature_s: float
    curvature_flops: int  # estimated: see curvature_flops
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
    live: dict[str, np.ndarray]  # run name -> (frames, depth) live units per hidden layer at each region frame
    curvature: dict[str, Curvature]  # run name -> top eigenvalues at some epochs (config.curvature > 0 only)
    seed_stats: dict[str, SeedStats]  # run name -> every seed's metrics
    drawn: int  # the initialization the trajectories above start from
    dead_epoch: np.ndarray  # (G, depth): Trained.dead_epoch
    final_dead_units: np.ndarray  # (G,): Trained.final_dead_units
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
    dead_epoch: np.ndarray  # (G, depth) the reference run's: first checked epoch each layer is dead, -1 never
    final_dead_units: np.ndarray  # (G,) the reference run's hidden units dead at the last epoch


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
    x = torch.as_tensor(data.x_train, device=device)
    last = torch.as_tensor(np.nan_to_num(ensembles[0].thetas[-1]), device=device)  # a diverged seed counts none
    dead_units = (sum(arch.sizes[1:-1]) - live_units(arch, last, x).sum(dim=1)).cpu().numpy()
    return Trained([e.trajectory(drawn) for e in ensembles], {e.run.name: e.stats for e in ensembles}, drawn,
                   dead_epochs(arch, ensembles[0].thetas, x, device), dead_units)


def dead_epochs(arch: Architecture, thetas: np.ndarray, x: torch.Tensor, device: torch.device) -> np.ndarray:
    """(G, depth): for every member of an ensemble (``thetas`` (E + 1, G, P)), the first epoch of
    ``dynamics.dead_check_epochs`` at which each hidden layer is dead (``models.dead_layers``), -1 if never.

    A plain net's dead layer stays dead (nothing below it gets a gradient); with skip
    connections a layer can come back, and this reports when it first died.
    """
    checks = dead_check_epochs(len(thetas) - 1)
    first = np.full(thetas.shape[1:2] + (len(arch.sizes) - 2,), -1, np.int32)
    for epoch in checks:
        dead = dead_layers(arch, torch.as_tensor(thetas[epoch], device=device), x).cpu().numpy()
        first = np.where((first < 0) & dead, np.int32(epoch), first)
    return first


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
    x = torch.as_tensor(data.x_train, device=device)
    live = {name: live_units(arch, torch.as_tensor(t.thetas[r.frames], device=device), x).cpu().numpy()
            for (name, r), t in zip(regions.items(), trajectories)}
    regions_s = time.perf_counter() - start
    advance("regions")
    start = time.perf_counter()
    curvature = {t.run.name: run_curvature(experiment, arch, t, data, device) for t in trajectories
                 if experiment.curvature > 0}
    sync(device)
    curvature_s = time.perf_counter() - start
    advance("curvature")
    grid_points = experiment.surface.resolution ** 2 * sum(len(p.views) for p in planes)
    flops = matmul_flops(arch, len(data.x_train)) * grid_points
    model_epochs = len(experiment.runs) * experiment.seeds * experiment.epochs
    train_flops = len(experiment.runs) * experiment.seeds * training_flops(arch, data, experiment.epochs)
    return ExperimentResult(experiment, arch, device.type, trajectories, planes, regions, live, curvature,
                            trained.seed_stats, trained.drawn, trained.dead_epoch, trained.final_dead_units,
                            Timings(train_s, surface_s, regions_s, curvature_s,
                                    sum(curvature_flops(arch, len(data.x_train), c) for c in curvature.values()),
                                    flops, model_epochs, train_flops))


def run_regions(experiment: Experiment, arch: Architecture, trajectory: Trajectory, data: Dataset,
                device: torch.device) -> Regions:
    """Decision regions at the frames the article shows: where the run's training curves say they change."""
    config = experiment.surface
    frames = frame_epochs(trajectory.train_acc, trajectory.train_loss, config.region_frames)
    x_axis, y_axis = input_axes(data, config.region_resolution)
    return decision_regions(arch, trajectory.thetas, frames, x_axis, y_axis, device=device)


def run_curvature(experiment: Experiment, arch: Architecture, trajectory: Trajectory, data: Dataset,
                  device: torch.device) -> Curvature:
    """λ_max(H), and λ_max(P⁻¹H) for Adam and RMSprop, at ``config.curvature`` epochs of the run
    (``dynamics.curvature_epochs``: where the loss moves, and a stride), on one CPU thread.

    One thread because the stage flushes subnormal floats (``curvature.flushed_subnormals``), a
    per-thread flag the OpenMP workers training started would not see: with them, the late
    epochs of 10x100 cost 60-90 ms a gradient instead of 8.
    """
    epochs = curvature_epochs(trajectory.train_loss, experiment.curvature)
    x, y = (torch.as_tensor(a, device=device) for a in (data.x_train, data.y_train))
    with one_cpu_thread(device):
        return curvature_along(arch, trajectory.run, torch.as_tensor(trajectory.thetas, device=device), x, y, epochs)


@contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run the body on one intra-op thread on the CPU (nothing changes on a GPU)."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def curvature_flops(arch: Architecture, samples: int, curvature: Curvature) -> int:
    """Matmul FLOPs of the curvature stage, estimated: a Hessian-vector product as ten forward passes over
    the training points (the gradient's graph once, then a backward through it per product), the replay
    of an adaptive optimizer's state as one gradient (three passes) per epoch up to the last measured."""
    forward = 2 * samples * sum(out * inp for (out, inp), _ in arch.shapes)
    products = int(curvature.hessian.steps.sum())
    if curvature.preconditioned is not None:
        products += int(curvature.preconditioned.steps.sum()) + 3 * (int(curvature.epochs.max()) + 1) // 10
    return 10 * forward * products


def stage_count(experiment: Experiment) -> int:
    """How many times ``compute_experiment`` calls ``advance``: sizes its progress bar."""
    return 3 + len(experiment.planes)


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
