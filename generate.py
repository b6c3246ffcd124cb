#!/usr/bin/env python3
"""lossarticle's command line: parse options into dataclasses, then call the library."""
from __future__ import annotations

from pathlib import Path

import click

from lossarticle.configs import SLUGS

SITE = Path(__file__).resolve().parent / "site"


@click.group()
def cli() -> None:
    """Train small nets on a spiral, map their loss landscapes, publish the article."""


@cli.command()
@click.option("--only", multiple=True, type=click.Choice(SLUGS), help="Experiment to compute (repeatable).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto picks CUDA when present.")
@click.option("--force", is_flag=True, help="Recompute even when the cached JSON matches its config.")
@click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path), default=SITE,
              show_default=True, help="Output folder; data goes to SITE/data.")
def train(only: tuple[str, ...], device: str, force: bool, site_dir: Path) -> None:
    """Compute every experiment's trajectories and surfaces into SITE/data/<slug>.json."""
    from lossarticle.build import TrainOptions, train_experiments
    train_experiments(TrainOptions(data_dir=site_dir / "data", only=only, device=device, force=force),
                      echo=click.echo)


@cli.command()
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
def bench(device: str) -> None:
    """Time training and surfaces for the whole registry; print the surface's GFLOP/s ratio."""
    from lossarticle.bench import run_bench
    from lossarticle.build import pick_device
    run_bench(pick_device(device), echo=click.echo)


if __name__ == "__main__":
    cli()
