"""The commands' work: make sure every experiment's JSON is current, then (later) the site.

Like MkDocs' ``commands/build.py``: gather everything first, then write, each
file atomically.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm

from lossarticle.configs import EXPERIMENTS, DataConfig, Experiment
from lossarticle.data import load_spirals
from lossarticle.errors import CacheError, ConfigError
from lossarticle.export import (check_cached, dataset_payload, experiment_payload, index_payload, to_json,
                                write_atomic)
from lossarticle.pipeline import ExperimentResult, compute_experiment, stage_count
from lossarticle.render import RenderOptions, render_site
from lossarticle.train import resolve_device


@dataclass(frozen=True)
class TrainOptions:
    """What ``generate.py train`` was asked to do."""

    data_dir: Path  # where <slug>.json, spiral.json and index.json live (site/data)
    registry: tuple[Experiment, ...] = EXPERIMENTS  # every experiment the site knows
    only: tuple[str, ...] = ()  # slugs to (re)compute; empty means the whole registry
    device: str = "auto"  # auto | cpu | cuda
    force: bool = False  # recompute even when a cached file matches
    progress: bool = True  # show a progress bar per experiment


def selected(options: TrainOptions) -> tuple[Experiment, ...]:
    """The experiments ``--only`` names, in registry order (all when it names none)."""
    known = {e.slug for e in options.registry}
    unknown = [slug for slug in options.only if slug not in known]
    if unknown:
        raise ConfigError(f"unknown experiment {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return tuple(e for e in options.registry if not options.only or e.slug in options.only)


def pick_device(name: str) -> torch.device:
    """Resolve ``--device``, refusing CUDA on a machine without it in one clear line."""
    device = resolve_device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r}: CUDA is not available on this machine (use --device cpu or auto)")
    return device


def stale_reason(path: Path, experiment: Experiment, force: bool) -> str | None:
    """Why ``path`` must be recomputed, or None when the cached file is valid for ``experiment``."""
    if force:
        return "--force"
    if not path.exists():
        return "not built yet"
    try:
        check_cached(path, experiment)
    except CacheError as error:
        return error.message
    return None


def train_experiments(options: TrainOptions, echo: Callable[[str], None] = print) -> list[ExperimentResult]:
    """Compute and write every experiment whose file is missing or stale; return what was computed."""
    device = pick_device(options.device)
    torch.use_deterministic_algorithms(True, warn_only=True)
    experiments = selected(options)
    data_config = _shared_data_config(options.registry)
    data = load_spirals(data_config)
    remove_partial_files(options.data_dir)
    write_atomic(options.data_dir / "spiral.json", to_json(dataset_payload(data_config, data)))
    computed = []
    for experiment in experiments:
        path = options.data_dir / f"{experiment.slug}.json"
        reason = stale_reason(path, experiment, options.force)
        if reason is None:
            echo(f"{experiment.slug}: cached, up to date")
            continue
        if path.exists() and not options.force:
            echo(f"{experiment.slug}: recomputing: {reason}")
        with tqdm(total=stage_count(experiment), desc=experiment.slug, unit="stage", leave=False,
                  disable=not options.progress) as bar:
            result = compute_experiment(experiment, data, device, advance=lambda stage: bar.update(1))
        write_atomic(path, to_json(experiment_payload(result)))
        echo(f"{experiment.slug}: trained {result.timings.train_s:.1f}s, surfaces {result.timings.surface_s:.1f}s"
             f" on {device.type}")
        computed.append(result)
    built = tuple(e for e in options.registry if (options.data_dir / f"{e.slug}.json").exists())
    write_atomic(options.data_dir / "index.json", to_json(index_payload(built)))
    return computed


def remove_partial_files(data_dir: Path) -> None:
    """Delete ``.*.tmp`` files a killed run left behind; finished files are never touched."""
    for leftover in data_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def _shared_data_config(experiments: tuple[Experiment, ...]) -> DataConfig:
    """The one data config every selected experiment uses (one spiral.json per site)."""
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


def verify_reproducible(train: TrainOptions, render: RenderOptions, workdir: Path,
                        echo: Callable[[str], None] = print) -> str | None:
    """Two cold builds (train + render) into ``workdir``/a and /b; the first differing file, or None."""
    sites = []
    for name in ("a", "b"):
        site = workdir / name / "site"
        echo(f"cold build {name} into {site}")
        train_experiments(replace(train, data_dir=site / "data", force=True), echo=lambda line: None)
        render_site(replace(render, site_dir=site), echo=lambda line: None)
        sites.append(site)
    return first_difference(*sites)
