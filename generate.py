#!/usr/bin/env python3
"""lossarticle's command line: parse options into dataclasses, then call the library."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from lossarticle.errors import ConfigError, located

ROOT = Path(__file__).resolve().parent
try:  # an invalid registry fails at import; say where in one line, before click can't
    from lossarticle.configs import SLUGS
except ConfigError as error:
    import lossarticle
    click.echo(f"Error: {located(error, Path(lossarticle.__file__).with_name('configs.py'), ROOT)}: "
               f"{error.message}", err=True)
    sys.exit(1)
from lossarticle.schema import data_dir_of  # noqa: E402
SITE = ROOT / "site"
ARTICLE = ROOT / "article"
TEMPLATES = ROOT / "templates"


def render_options(site_dir: Path, article_dir: Path, base_url: str | None = None):  # -> RenderOptions
    from lossarticle.render import RenderOptions  # imported here: render never imports torch, the CLI might
    return RenderOptions(site_dir=site_dir, article_dir=article_dir, templates_dir=TEMPLATES, base_url=base_url)


def published_address(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    """--base-url as RenderOptions takes it: empty means unknown, and the address ends in '/'."""
    value = (value or "").strip()
    return None if not value else value if value.endswith("/") else value + "/"


site_option = click.option("--site", "site_dir", type=click.Path(file_okay=False, path_type=Path), default=SITE,
                           show_default=True, help="Output folder; data goes to SITE/data.")
article_option = click.option("--article", "article_dir", type=click.Path(file_okay=False, path_type=Path),
                              default=ARTICLE, show_default=True, help="Folder of NN-slug.md sources.")
base_url_option = click.option(
    "--base-url", envvar="LOSSARTICLE_BASE_URL", callback=published_address, metavar="URL",
    help="Where the site is published (the Pages workflow passes actions/configure-pages' base_url); "
         "link previews (og:image) need it and are left out without it. [env: LOSSARTICLE_BASE_URL]")
device_option = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                             show_default=True, help="auto picks CUDA when present.")


@click.group()
def cli() -> None:
    """Train small nets on a spiral, map their loss landscapes, publish the article."""


@cli.command()
@click.option("--only", multiple=True, type=click.Choice(SLUGS), help="Experiment to compute (repeatable).")
@device_option
@click.option("--force", is_flag=True, help="Recompute even when the cached JSON matches its config.")
@site_option
def train(only: tuple[str, ...], device: str, force: bool, site_dir: Path) -> None:
    """Compute every experiment's trajectories and surfaces into SITE/data/<slug>.json."""
    from lossarticle.build import TrainOptions, train_experiments
    train_experiments(TrainOptions(data_dir=data_dir_of(site_dir), only=only, device=device, force=force),
                      echo=click.echo)


@cli.command()
@device_option
@click.option("--force", is_flag=True, help="Recompute every experiment, cached or not.")
@site_option
@article_option
@base_url_option
def build(device: str, force: bool, site_dir: Path, article_dir: Path, base_url: str | None) -> None:
    """Train what the cache lacks, then render the article into SITE (what `make site` runs)."""
    from lossarticle.build import TrainOptions
    from lossarticle.build import build as build_site
    build_site(TrainOptions(data_dir=data_dir_of(site_dir), device=device, force=force),
               render_options(site_dir, article_dir, base_url), echo=click.echo)


@cli.command()
@site_option
@article_option
@base_url_option
def render(site_dir: Path, article_dir: Path, base_url: str | None) -> None:
    """Render the article from the JSON already in SITE/data (never trains, never imports torch)."""
    from lossarticle.render import render_site
    render_site(render_options(site_dir, article_dir, base_url), echo=click.echo)


@cli.command()
@click.option("--port", type=int, default=8000, show_default=True)
@device_option
@site_option
@article_option
def serve(port: int, device: str, site_dir: Path, article_dir: Path) -> None:
    """Serve SITE on 127.0.0.1 and rebuild when article/, templates/ or the registry change."""
    from lossarticle.serve import ServeOptions, serve as serve_forever
    serve_forever(ServeOptions(render_options(site_dir, article_dir), port, device), echo=click.echo)


@cli.command()
@device_option
@article_option
def verify(device: str, article_dir: Path) -> None:
    """Build the whole article twice from scratch and check both site/ trees are byte-identical."""
    import tempfile

    from lossarticle.build import verify_reproducible
    with tempfile.TemporaryDirectory(prefix="lossarticle-verify-") as workdir:
        difference = verify_reproducible(article_dir, TEMPLATES, device, Path(workdir), echo=click.echo)
    if difference is not None:
        raise click.ClickException(f"the two builds differ, first at {difference}")
    click.echo("reproducible: the two cold builds are byte-identical")


@cli.command()
@device_option
@click.option("--compute/--no-compute", default=True, help="Time training and surfaces for the registry.")
@click.option("--reader/--no-reader", default=True, help="Time the built page in headless Chromium.")
@click.option("--only", multiple=True, type=click.Choice(SLUGS), help="Time only this experiment (repeatable).")
@click.option("--one-seed", is_flag=True, help="Train one seed per experiment: the cost without seed ensembles.")
@site_option
@article_option
def bench(device: str, compute: bool, reader: bool, only: tuple[str, ...], one_seed: bool, site_dir: Path,
          article_dir: Path) -> None:
    """Compute timings (GFLOP/s ratios of training and surfaces) and the reader's side of the built site."""
    if compute:
        from lossarticle.bench_compute import bench_registry, run_bench
        from lossarticle.train import resolve_device
        run_bench(resolve_device(device), bench_registry(only, one_seed), echo=click.echo)
    if reader:
        from lossarticle.bench_reader import reader_bench  # never imports torch: --no-compute runs without it
        reader_bench(site_dir, article_dir, TEMPLATES, echo=click.echo)


if __name__ == "__main__":
    cli()
