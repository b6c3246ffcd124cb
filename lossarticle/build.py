"""The commands' work: make every experiment's file current, then render the site.

Like MkDocs' ``commands/build.py``: gather everything first, then write, each
file atomically.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from lossarticle.atomic import write_atomic, write_if_changed
from lossarticle.configs import EXPERIMENTS, DataConfig, Experiment, experiment_by_slug
from lossarticle.data import load_spirals
from lossarticle.errors import CacheError, ConfigError
from lossarticle.export import dataset_record, experiment_record
from lossarticle.pipeline import ExperimentResult, compute_experiment, stage_count
from lossarticle.render import RenderOptions, render_site
from lossarticle.schema import DATASET_FILE, data_dir_of, experiment_path, read_experiment, to_json
from lossarticle.site_folder import recover, site_lock
from lossarticle.train import resolve_device


@dataclass(frozen=True)
class TrainOptions:
    """What ``generate.py train`` was asked to do."""

    data_dir: Path  # where <slug>.json and spiral.json live (site/data); index.json is render's
    registry: tuple[Experiment, ...] = EXPERIMENTS  # every experiment the site knows
    only: tuple[str, ...] = ()  # slugs to (re)compute; empty means the whole registry
    device: str = "auto"  # auto | cpu | cuda
    force: bool = False  # recompute even when a cached file matches
    progress: bool = True  # show a progress bar per experiment


def stale_reason(path: Path, experiment: Experiment, force: bool, drawn: int | None = None) -> str | None:
    """Why ``path`` must be recomputed, or None when it decodes in full and was made from ``experiment``
    (and, for a twin, draws the initialization ``drawn`` its twin draws now)."""
    if force:
        return "--force"
    if not path.exists():
        return "not built yet"
    try:
        document = read_experiment(path, experiment)
    except CacheError as error:
        return error.message
    if drawn is not None and document.seeds.drawn != drawn:
        return f"draws initialization {document.seeds.drawn}, but {experiment.drawn_from} now draws {drawn}"
    return None


def twin_drawn(experiment: Experiment, options: TrainOptions) -> int | None:
    """The initialization ``experiment.drawn_from`` draws, read from its current file (None: no twin)."""
    if not experiment.drawn_from:
        return None
    twin = experiment_by_slug(experiment.drawn_from, options.registry)
    try:
        return read_experiment(experiment_path(options.data_dir, twin.slug), twin).seeds.drawn
    except CacheError as error:
        raise ConfigError(f"{experiment.slug} draws the initialization {twin.slug} draws, but {error.message}; "
                          f"train {twin.slug} first") from error


def train_experiments(options: TrainOptions, echo: Callable[[str], None] = print) -> list[ExperimentResult]:
    """Compute and write every experiment whose file is missing or stale; return what was computed.

    Holds the site folder's lock throughout: a second run waits, and never deletes this one's files.
    """
    device = resolve_device(options.device)
    wanted = {experiment_by_slug(slug, options.registry).slug for slug in options.only}
    site = options.data_dir.parent
    with site_lock(site, echo):
        recover(site, echo)
        remove_partial_files(options.data_dir)
        return compute_stale(options, wanted, device, echo)


def compute_stale(options: TrainOptions, wanted: set[str], device: torch.device,
                  echo: Callable[[str], None]) -> list[ExperimentResult]:
    """The work of :func:`train_experiments`, under its lock."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    data_config = _shared_data_config(options.registry)
    data = load_spirals(data_config)
    write_if_changed(options.data_dir / DATASET_FILE, to_json(dataset_record(data_config, data)))
    computed = []
    for experiment in options.registry:
        if wanted and experiment.slug not in wanted:
            continue
        path = experiment_path(options.data_dir, experiment.slug)
        drawn = twin_drawn(experiment, options)
        reason = stale_reason(path, experiment, options.force, drawn)
        if reason is None:
            echo(f"{experiment.slug}: cached, up to date")
            continue
        if path.exists() and not options.force:
            echo(f"{experiment.slug}: recomputing: {reason}")
        with tqdm(total=stage_count(experiment), desc=experiment.slug, unit="stage", leave=False,
                  disable=not options.progress) as bar:
            result = compute_experiment(experiment, data, device, advance=lambda stage: bar.update(1), drawn=drawn)
        write_atomic(path, to_json(experiment_record(result)))
        curvature = f", curvature {result.timings.curvature_s:.1f}s" if experiment.curvature else ""
        echo(f"{experiment.slug}: trained {result.timings.train_s:.1f}s, surfaces {result.timings.surface_s:.1f}s"
             f"{curvature} on {device.type}")
        computed.append(result)
    return computed


def build(train: TrainOptions, render: RenderOptions, echo: Callable[[str], None] = print) -> Path:
    """What ``make site`` runs: train what the cache lacks, then render the article, under one lock."""
    with site_lock(render.site_dir, echo):
        train_experiments(train, echo=echo)
        return render_site(render, echo=echo)


def remove_partial_files(data_dir: Path) -> None:
    """Delete ``.*.tmp`` files a killed run left behind; finished files are never touched."""
    for leftover in data_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def _shared_data_config(experiments: tuple[Experiment, ...]) -> DataConfig:
    """The one data config every experiment uses (one spiral.json per site)."""
    configs = {e.data for e in experiments}
    if len(configs) > 1:
        raise ConfigError("data: experiments in one build must share one DataConfig")
    return configs.pop() if configs else DataConfig()


def first_difference(left: Path, right: Path) -> str | None:
    """Relative path of the first file (in sorted order) that differs or exists on one side only."""
    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}

    a, b = files(left), files(right)
    for name in sorted(a.keys() | b.keys()):
        if name not in a or name not in b or a[name].read_bytes() != b[name].read_bytes():
            return name
    return None


def verify_reproducible(article_dir: Path, templates_dir: Path, device: str, workdir: Path,
                        registry: tuple[Experiment, ...] = EXPERIMENTS,
                        echo: Callable[[str], None] = print) -> str | None:
    """Two cold builds into ``workdir``/a and /b; the first file in which they differ, or None."""
    sites = []
    for name in ("a", "b"):
        site = workdir / name / "site"
        echo(f"cold build {name} into {site}")
        build(TrainOptions(data_dir=data_dir_of(site), registry=registry, device=device, force=True, progress=False),
              RenderOptions(site_dir=site, article_dir=article_dir, templates_dir=templates_dir, registry=registry),
              echo=lambda line: None)
        sites.append(site)
    return first_difference(*sites)
