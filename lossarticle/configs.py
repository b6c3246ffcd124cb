"""Frozen, validated configuration dataclasses and the one experiment registry.

Every other module, the CLI's choices, the JSON file names and the figure ids
read the experiment list from ``EXPERIMENTS`` below; nothing else lists them.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lossarticle.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "rmsprop")
DIRECTION_METHODS = ("pca", "random", "init-final")
LABS = ("", "your-run", "dice")  # what a reader may train in the page (Experiment.lab; lossarticle/lab.py)
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MIN_GRID = 5  # below this a contour or image has nothing to draw


def _require(condition: bool, key: str, value: Any, why: str) -> None:
    """Raise a ConfigError naming the key and the bad value unless ``condition`` holds."""
    if not condition:
        raise ConfigError(f"{key}={value!r}: {why}")


def _positive_int(key: str, value: Any) -> None:
    _require(isinstance(value, int) and not isinstance(value, bool) and value > 0,
             key, value, "must be a positive integer")


def _positive_finite(key: str, value: Any) -> None:
    _require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
             key, value, "must be a positive finite number")


@dataclass(frozen=True)
class DataConfig:
    """The CS231n spiral and its split; shared by every experiment."""

    points_per_class: int = 500  # 3 classes x 500 = 1500 points
    classes: int = 3  # arms of the spiral, one class each
    noise: float = 0.2  # std of the Gaussian jitter added to the angle
    seed: int = 0  # numpy Generator seed for noise and the split
    test_fraction: float = 0.15  # held out first: ceil(0.15 x 1500) = 225 points
    val_fraction: float = 0.15  # then of the rest: ceil(0.15 x 1275) = 192; 1083 remain for training

    def __post_init__(self) -> None:
        _positive_int("data.points_per_class", self.points_per_class)
        _require(isinstance(self.classes, int) and self.classes >= 2,
                 "data.classes", self.classes, "must be an integer >= 2")
        _require(isinstance(self.noise, (int, float)) and math.isfinite(self.noise) and self.noise >= 0,
                 "data.noise", self.noise, "must be a finite number >= 0")
        _require(isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0, "data.seed",
                 self.seed, "must be an integer >= 0 (numpy's generators take no negative seed)")
        for key, value in (("data.test_fraction", self.test_fraction), ("data.val_fraction", self.val_fraction)):
            _require(isinstance(value, float) and 0 < value < 0.5, key, value, "must lie in (0, 0.5)")


@dataclass(frozen=True)
class Run:
    """One optimizer run of an experiment; runs of one experiment share the initial weights."""

    name: str  # label in figures and JSON, e.g. "adam"
    optimizer: str = "adam"  # one of OPTIMIZERS
    lr: float = 5e-3  # learning rate; full-batch, so one step per epoch
    momentum: float = 0.0  # SGD only: heavy-ball momentum

    def __post_init__(self) -> None:
        _require(bool(SLUG_PATTERN.match(self.name)), "run.name", self.name, "must be a lowercase slug")
        _require(self.optimizer in OPTIMIZERS, f"runs[{self.name}].optimizer", self.optimizer,
                 f"unknown optimizer (known: {', '.join(OPTIMIZERS)})")
        _positive_finite(f"runs[{self.name}].lr", self.lr)
        _require(isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1,
                 f"runs[{self.name}].momentum", self.momentum, "must lie in [0, 1)")
        _require(self.optimizer == "sgd" or self.momentum == 0, f"runs[{self.name}].momentum",
                 self.momentum, "only SGD takes momentum")


ADAM = (Run("adam"),)


@dataclass(frozen=True)
class SurfaceConfig:
    """How the loss surface and the decision regions are sampled."""

    resolution: int = 101  # grid points per axis of the loss surface (odd: the centre is a grid point)
    margin: float = 0.25  # extra extent beyond the path's bounding box, as a fraction of its span
    random_extent: float = 1.0  # random planes span ±this (filter-normalized units), as Li et al. draw them
    stretch_min: float = 1.5  # a plane also gets a stretched view when its path is this much longer one way
    region_resolution: int = 100  # input-space grid points per axis for decision regions
    region_frames: int = 60  # snapshots shown in the article, at most; where they go: surface.frame_epochs

    def __post_init__(self) -> None:
        _require(isinstance(self.resolution, int) and self.resolution >= MIN_GRID,
                 "surface.resolution", self.resolution, f"grid too small to draw (need >= {MIN_GRID})")
        _require(isinstance(self.region_resolution, int) and self.region_resolution >= MIN_GRID,
                 "surface.region_resolution", self.region_resolution,
                 f"grid too small to draw (need >= {MIN_GRID})")
        _require(isinstance(self.margin, (int, float)) and math.isfinite(self.margin) and self.margin >= 0,
                 "surface.margin", self.margin, "must be a finite number >= 0")
        _require(isinstance(self.region_frames, int) and self.region_frames >= 2,
                 "surface.region_frames", self.region_frames, "must be an integer >= 2")
        _positive_finite("surface.random_extent", self.random_extent)
        _require(isinstance(self.stretch_min, (int, float)) and math.isfinite(self.stretch_min)
                 and self.stretch_min >= 1, "surface.stretch_min", self.stretch_min, "must be a finite number >= 1")


@dataclass(frozen=True)
class Experiment:
    """One figure's worth of training: an architecture, its runs and the planes it is drawn on."""

    slug: str  # stable id: JSON file name, figure id, CLI choice
    title: str  # short human name for captions
    depth: int  # hidden layers; 0 means logistic regression (one linear 2->3 layer)
    width: int  # neurons per hidden layer (ignored, and must be 0, when depth is 0)
    epochs: int  # full-batch steps; chosen so the wide nets fit the spiral
    skip: bool = False  # residual connections between equal-width hidden layers
    runs: tuple[Run, ...] = ADAM  # the first run is the reference the plane is centred on
    planes: tuple[str, ...] = ("pca",)  # direction methods, each giving one plane and one surface
    seed: int = 0  # seeds initial weights and random directions
    seeds: int = 1  # initializations trained together; seed s draws θ₀ from seed + s (s = 0 is the drawn one)
    explorer: bool = False  # offered in the article's explorer (the depth x width grid and the baseline)
    curvature: int = 0  # epochs of each run whose top Hessian eigenvalues are measured (dynamics.curvature_epochs;
    #                     curvature.py); 0: none. A few seconds per hundred epochs of a deep net on the CPU
    lab: str = ""  # what a reader may train in the page (LABS): "your-run", the first run again from its θ₀ with
    #                settings of their own, drawn on the first plane; "dice", this net and its drawn_from twin
    #                from fresh initializations; "": nothing
    drawn_from: str = ""  # slug of an earlier experiment with the same θ₀ whose drawn initialization this
    #                       one draws too ("": its own median, measures.drawn_member); for the skip twin
    data: DataConfig = field(default_factory=DataConfig)
    surface: SurfaceConfig = field(default_factory=SurfaceConfig)

    def __post_init__(self) -> None:
        _require(isinstance(self.slug, str) and bool(SLUG_PATTERN.match(self.slug)),
                 "slug", self.slug, "must be lowercase letters, digits and single dashes")
        _require(isinstance(self.depth, int) and not isinstance(self.depth, bool) and self.depth >= 0,
                 f"{self.slug}.depth", self.depth, "must be an integer >= 0")
        if self.depth == 0:
            _require(self.width == 0, f"{self.slug}.width", self.width, "logistic regression (depth 0) has no width")
            _require(not self.skip, f"{self.slug}.skip", self.skip, "logistic regression has no hidden layers")
        else:
            _positive_int(f"{self.slug}.width", self.width)
        _positive_int(f"{self.slug}.epochs", self.epochs)
        _positive_int(f"{self.slug}.seeds", self.seeds)
        _require(isinstance(self.curvature, int) and not isinstance(self.curvature, bool)
                 and (self.curvature == 0 or self.curvature >= 2), f"{self.slug}.curvature", self.curvature,
                 "must be 0 (none) or an integer >= 2 (the first and last epoch at least)")
        # Seed s draws θ₀ from seed + s: numpy's generators take no negative seed, PyTorch's at most 2**64 - 1.
        _require(isinstance(self.seed, int) and not isinstance(self.seed, bool)
                 and 0 <= self.seed <= 2 ** 64 - self.seeds, f"{self.slug}.seed", self.seed,
                 "must be an integer >= 0 (below 2**64 - seeds)")
        _require(len(self.runs) >= 1, f"{self.slug}.runs", self.runs, "needs at least one run")
        names = [run.name for run in self.runs]
        _require(len(set(names)) == len(names), f"{self.slug}.runs", names, "duplicated run name")
        _require(len(self.planes) >= 1, f"{self.slug}.planes", self.planes, "needs at least one plane")
        for method in self.planes:
            _require(method in DIRECTION_METHODS, f"{self.slug}.planes", method,
                     f"unknown direction method (known: {', '.join(DIRECTION_METHODS)})")
        _require(len(set(self.planes)) == len(self.planes), f"{self.slug}.planes", self.planes, "duplicated plane")
        _require(self.lab in LABS, f"{self.slug}.lab", self.lab, f"unknown lab (known: {', '.join(LABS[1:])})")
        _require(self.lab != "dice" or bool(self.drawn_from), f"{self.slug}.lab", self.lab,
                 "a dice lab trains this net beside its twin: it needs drawn_from")

    @property
    def reference(self) -> Run:
        """The run whose final weights centre the plane and its surface."""
        return self.runs[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready form; written into every artifact this config produces."""
        return asdict(self)


def parameter_count(sizes: tuple[int, ...]) -> int:
    """Weights and biases of the dense layers between ``sizes`` (input, hidden…, output): Σ (in + 1) · out."""
    return sum(out * inp + out for inp, out in zip(sizes[:-1], sizes[1:]))


def mlp(depth: int, width: int, epochs: int, **extra: Any) -> Experiment:
    """A plain ReLU MLP experiment with the house slug ``mlp-d{depth}-w{width}``."""
    suffix = "-skip" if extra.get("skip") else ""
    title = f"{depth} hidden layer{'s' if depth > 1 else ''} × {width} neurons"
    if extra.get("skip"):
        title += ", skip connections"
    return Experiment(slug=f"mlp-d{depth}-w{width}{suffix}", title=title, depth=depth, width=width,
                      epochs=epochs, **extra)


def grid_mlp(depth: int, width: int, epochs: int, seeds: int, curvature: int) -> Experiment:
    """A member of the 3 x 3 depth x width grid, offered in the explorer."""
    return mlp(depth, width, epochs, seeds=seeds, explorer=True, curvature=curvature)


def check_unique(experiments: tuple[Experiment, ...]) -> tuple[Experiment, ...]:
    """Refuse a registry in which two experiments share a slug (their files would collide), or whose
    ``drawn_from`` names no earlier experiment that starts from the same initial weights."""
    seen: dict[str, Experiment] = {}
    for experiment in experiments:
        _require(experiment.slug not in seen, "slug", experiment.slug, "duplicated slug in the registry")
        if experiment.drawn_from:
            twin = seen.get(experiment.drawn_from)
            _require(twin is not None, f"{experiment.slug}.drawn_from", experiment.drawn_from,
                     "must name an experiment listed before it")
            _require(same_initial_weights(twin, experiment), f"{experiment.slug}.drawn_from",
                     experiment.drawn_from, "must start from the same initial weights (depth, width, seed, seeds)")
        seen[experiment.slug] = experiment
    return experiments


def same_initial_weights(a: Experiment, b: Experiment) -> bool:
    """Whether two experiments draw the same θ₀ seed by seed (``pipeline.initial_weights``)."""
    return (a.depth, a.width, a.seed, a.seeds) == (b.depth, b.width, b.seed, b.seeds)


OPTIMIZER_RUNS = (
    Run("adam", "adam", 5e-3),
    Run("sgd", "sgd", 0.5),
    Run("momentum", "sgd", 0.1, momentum=0.9),
    Run("rmsprop", "rmsprop", 2e-3),
)

# Epoch counts: the shallow nets need the longest to carve the spiral with Adam at
# lr 5e-3; deep ones fit sooner (measured with `make bench`, see BENCHMARKS.md).
#
# Seed counts follow what a seed costs (BENCHMARKS.md: CPU seconds of one thread, shared
# machine), so that all seeds together add about a minute to the registry's compute.
# Width 5 is where the outcome varies (a layer dead at θ₀ leaves a net at chance): those
# nets and the skip twin get 100, as does logistic regression, whose epochs cost the same
# for 100 seeds as for one. Width 20 costs 0.2, 0.24 and 0.57 s a seed (1, 5, 10 layers):
# 24, one cache-sized group (pipeline.train_seeds), is what the minute left. Width 100
# costs 0.7, 3 and 6 s a seed and varies least: 8, 4 and 2. optimizers and directions
# compare methods from one θ₀: one seed.
# Curvature (epochs measured per run) where the article explains a spike or its absence, within the
# minute the stage may add to a CPU build (BENCHMARKS.md: one thread, λ_max(H) and λ_max(P⁻¹H)
# together, about 25 ms an epoch for 5x20, 60 ms for 10x20, 0.5 s for 10x100, 6-12 ms for 2x20).
GRID = (  # depth, width, epochs, seeds, curvature
    (1, 5, 1000, 100, 0), (1, 20, 1000, 24, 0), (1, 100, 1000, 8, 0),
    (5, 5, 400, 100, 0), (5, 20, 400, 24, 401), (5, 100, 400, 4, 0),
    (10, 5, 400, 100, 0), (10, 20, 400, 24, 201), (10, 100, 400, 2, 41),
)
EXPERIMENTS: tuple[Experiment, ...] = check_unique((
    Experiment(slug="logistic", title="logistic regression", depth=0, width=0, epochs=300, seeds=100,
               explorer=True),
    *(grid_mlp(*row) for row in GRID),
    mlp(20, 5, epochs=400, seeds=100),
    mlp(20, 5, epochs=400, seeds=100, skip=True, drawn_from="mlp-d20-w5", lab="dice"),
    Experiment(slug="optimizers", title="2 hidden layers × 20 neurons, four optimizers", depth=2, width=20,
               epochs=400, runs=OPTIMIZER_RUNS, curvature=201, lab="your-run"),
    Experiment(slug="directions", title="2 hidden layers × 20 neurons, three planes", depth=2, width=20,
               epochs=400, planes=("random", "init-final", "pca")),
))

SLUGS: tuple[str, ...] = tuple(experiment.slug for experiment in EXPERIMENTS)


def experiment_by_slug(slug: str, registry: tuple[Experiment, ...] = EXPERIMENTS) -> Experiment:
    """Look an experiment up by slug, naming the valid ones when it is unknown."""
    for experiment in registry:
        if experiment.slug == slug:
            return experiment
    raise ConfigError(f"unknown experiment {slug!r} (known: {', '.join(e.slug for e in registry)})")
