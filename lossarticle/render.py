"""Assemble ``site/``: prose, figures, BokehJS and data, built aside and swapped in whole.

Reads only exported files (``schema.py``), so ``generate.py render`` never imports torch.
Nothing is written into ``site/`` itself: the page is built in a sibling
temporary folder and renamed into place (``site_folder.swap_in``), so a failed
build leaves the previous site exactly as it was.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import bokeh
import jinja2
from markupsafe import Markup

from lossarticle.atomic import write_atomic
from lossarticle.bounded import Limits
from lossarticle.citation import cite
from lossarticle.configs import EXPERIMENTS, Experiment
from lossarticle.content import (EXPLORER, OVERVIEW, SEEDS, SHARPNESS, SPIRAL, STATIC_FIGURES, Article, FigureRef,
                                 number_figures, parse_article, read_sources)
from lossarticle.errors import CacheError, ConfigError, ContentError, cannot_write
from lossarticle.files import script_parts
from lossarticle.scales import shared_scale
from lossarticle.schema import (DATASET_FILE, INDEX_FILE, SCHEMA_VERSION, DatasetFile, ExperimentFile, IndexEntry,
                                IndexFile, data_dir_of, experiment_path, read_dataset, read_experiment, to_json)
from lossarticle.site_folder import check_outside, check_replaceable, recover, site_lock, swap_in
from lossarticle.summaries import ExperimentSummary, summarize

if TYPE_CHECKING:  # only the type: importing posters loads matplotlib
    from lossarticle.posters import Poster

BOKEH_JS = Path(bokeh.__file__).parent / "server" / "static" / "js" / "bokeh.min.js"
BOKEH_SITE_PATH = f"bokeh/bokeh-{bokeh.__version__}.min.js"
TRAINER_SITE_PATH = "assets/trainer.js"  # loaded by a lab panel when the reader opens it (lab.py)
# The page script's parts (templates/assets/js/), in the order they are joined into assets/lossarticle.js: one
# request, one function scope, nothing to install or bundle. A part may use at load time what an earlier part
# defines (Explorer extends Player), and anything at run time.
PAGE_SCRIPT_PARTS = ("marks.js", "bokeh.js", "format.js", "decode.js", "layers.js", "proportions.js", "regions.js",
                     "hover.js", "scene.js", "embed.js", "load.js", "address.js", "player.js", "explorer.js", "lab.js",
                     "lab-yours.js", "lab-dice.js", "main.js")
# Bokeh injects <style> elements at run time (no nonce support), hence 'unsafe-inline'
# for style *elements* only; scripts are all files of our own origin.
# A host name in a published address: dot-separated labels of letters, digits and inner dashes, or an IPv6 literal.
HOST_NAME = re.compile(r"[^\W_]([\w-]*[^\W_])?(\.[^\W_]([\w-]*[^\W_])?)*\.?|[0-9a-f:.]*:[0-9a-f:.]*")
# A lab's trainer runs in a Web Worker started from a blob: URL of our own script's text: a worker from a
# file would be refused on a page opened from file:// (an opaque origin), and workers may start from nothing else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "style-src-elem 'self' 'unsafe-inline'; img-src 'self' data:; worker-src blob:; "
                           "base-uri 'none'; form-action 'none'")


@dataclass(frozen=True)
class RenderOptions:
    """What ``generate.py render`` builds, and from where."""

    site_dir: Path  # output; its data/ holds the exported JSON the page is made from
    article_dir: Path  # NN-slug.md sources
    templates_dir: Path  # base.html, figure.html, explorer.html and assets/
    registry: tuple[Experiment, ...] = EXPERIMENTS
    base_url: str | None = None  # where the site is published ("https://user.github.io/repo/"); None: unknown
    prose_limits: Limits = Limits()  # what rendering the prose may spend (bounded.Limits)

    def __post_init__(self) -> None:
        # Link previews need absolute addresses (og:image); without a base URL those tags are left out.
        if self.base_url is not None:
            problem = base_url_problem(self.base_url)
            if problem is not None:
                raise ConfigError(f"base_url={self.base_url!r}: {problem}")


def base_url_problem(url: str) -> str | None:
    """What is wrong with a published address, or None; a browser would reject what is refused here."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.endswith("/") or parts.query \
            or parts.fragment:
        return "must be an absolute http(s) address ending in '/'"
    if any(character.isspace() for character in url):
        return "must not contain spaces"
    try:
        parts.port  # noqa: B018 (urllib checks the port's range when it is read)
    except ValueError:
        return f"port {parts.netloc.rpartition(':')[2]} is not in 0-65535"
    if not HOST_NAME.fullmatch(parts.hostname or ""):
        return f"{parts.hostname or ''!r} is not a host name"
    return None


@dataclass
class RenderCache:
    """Decoded files and figure scripts kept between rebuilds by ``serve``.

    Keyed by each data file's (size, mtime), so a prose-only rebuild reuses
    them and a retrained experiment is picked up.
    """

    documents: dict[str, tuple[tuple[int, int], ExperimentFile]] = field(default_factory=dict)
    scripts: dict[str, tuple[tuple[Any, ...], str]] = field(default_factory=dict)
    posters: dict[str, tuple[tuple[Any, ...], Poster]] = field(default_factory=dict)


def stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def load_documents(options: RenderOptions, cache: RenderCache) -> dict[str, ExperimentFile]:
    """Every registry experiment's file, decoded and validated; a missing or stale file says how to fix it."""
    documents = {}
    for experiment in options.registry:
        path = experiment_path(data_dir_of(options.site_dir), experiment.slug)
        try:
            key = stamp(path)
        except FileNotFoundError as error:
            raise CacheError(f"{path}: missing; run `python generate.py train` first") from error
        cached = cache.documents.get(experiment.slug)
        if cached is None or cached[0] != key:
            try:
                cached = (key, read_experiment(path, experiment))
            except CacheError as error:
                raise CacheError(f"{error.message}; run `python generate.py train` to recompute it") from error
            cache.documents[experiment.slug] = cached
        documents[experiment.slug] = cached[1]
    return documents


def load_dataset(options: RenderOptions) -> DatasetFile:
    """The data set every experiment of the registry was trained on."""
    path = data_dir_of(options.site_dir) / DATASET_FILE
    try:
        return read_dataset(path, options.registry[0].data)
    except CacheError as error:
        raise CacheError(f"{error.message}; run `python generate.py train` to recompute it") from error


def figure_scripts(slugs: list[str], documents: dict[str, ExperimentFile], dataset: DatasetFile,
                   options: RenderOptions, cache: RenderCache) -> dict[str, str]:
    """``figures/<slug>.js`` text per slug, rebuilt only when its data file (or the shared scale) changed."""
    from lossarticle.page_data import figure_id_base, figure_script
    order = [e.slug for e in options.registry]
    shared = shared_scale(view.surface.loss for d in documents.values() for p in d.planes for view in p.views)
    scripts = {}
    for slug in slugs:
        key = (*stamp(experiment_path(data_dir_of(options.site_dir), slug)), shared)
        cached = cache.scripts.get(slug)
        if cached is None or cached[0] != key:
            # A fixed id range per experiment keeps Bokeh's ids stable whatever was built before.
            cached = (key, figure_script(documents[slug], dataset, figure_id_base(order.index(slug)), shared))
            cache.scripts[slug] = cached
        scripts[slug] = cached[1]
    return scripts


class PosterShelf:
    """The posters of the figures a page places, each drawn once (or taken from ``RenderCache``) when asked for.

    A poster is redrawn only when a file it is made from changed: its experiment's
    file and the data set, for the overview every explorer network's.
    """

    def __init__(self, documents: dict[str, ExperimentFile], dataset: DatasetFile, options: RenderOptions,
                 cache: RenderCache) -> None:
        self.documents, self.dataset, self.options, self.cache = documents, dataset, options, cache
        self.drawn: dict[str, Poster] = {}  # what this build publishes, in the order the page asked

    def __call__(self, slug: str) -> Poster:
        """The poster of ``slug``: an experiment, SPIRAL, OVERVIEW, SEEDS or SHARPNESS."""
        from lossarticle import posters
        from lossarticle.figure_context import explorer_grid
        data = data_dir_of(self.options.site_dir)
        if slug == SPIRAL:
            sources, draw = [], partial(posters.spiral_poster, self.dataset)
        elif slug == OVERVIEW:
            grid = explorer_grid(self.options.registry)
            sources, draw = [c.slug for c in grid.choices], partial(posters.overview_poster, grid, self.documents,
                                                                    self.dataset)
        elif slug == SHARPNESS:
            rows = posters.measured(self.documents)
            sources, draw = [d.slug for d, _ in rows], partial(posters.sharpness_poster, rows)
        elif slug == SEEDS:
            columns = posters.seeded(self.documents)
            sources, draw = [d.slug for d in columns], partial(posters.seeds_poster, columns)
        elif slug in self.documents:
            sources, draw = [slug], partial(posters.experiment_poster, self.documents[slug], self.dataset)
        else:
            raise KeyError(f"no poster for figure {slug!r}")
        key = (stamp(data / DATASET_FILE), *(stamp(experiment_path(data, s)) for s in sources))
        cached = self.cache.posters.get(slug)
        if cached is None or cached[0] != key:
            cached = (key, draw())
            self.cache.posters[slug] = cached
        self.drawn[slug] = cached[1]
        return cached[1]

    def explorer_opening(self, article: Article) -> str:
        """The network the article's explorer opens on (its poster is the explorer's)."""
        from lossarticle.figure_context import explorer_grid
        ref = next(f for f in article.figures if f.slug == EXPLORER)
        return explorer_grid(self.options.registry).opening(ref.earlier).slug

    def files(self) -> dict[str, bytes]:
        """``posters/<slug>.svg`` and ``.png`` of every poster the page asked for, and a narrow variant's SVG."""
        files = {path: content for poster in self.drawn.values()
                 for path, content in ((poster.path("svg"), poster.svg), (poster.path("png"), poster.png))}
        return files | {p.narrow.path("svg"): p.narrow.svg for p in self.drawn.values() if p.narrow is not None}


def page_environment(templates_dir: Path) -> jinja2.Environment:
    """Jinja2 for the page templates: strict, HTML-escaped by default (titles and captions included)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir), undefined=jinja2.StrictUndefined,
                              autoescape=True, keep_trailing_newline=True)


def figure_renderer(environment: jinja2.Environment, documents: dict[str, ExperimentFile],
                    registry: tuple[Experiment, ...], posters: PosterShelf) -> Callable[[FigureRef, str], str]:
    """The callback content.parse_article uses to turn a ``:::`` container into HTML."""
    from lossarticle.figure_context import explorer_grid, figure_context
    from lossarticle.lab import lab_context

    def render(ref: FigureRef, caption_html: str) -> str:
        if ref.slug == EXPLORER:
            grid = explorer_grid(registry)
            opening = grid.opening(ref.earlier).slug
            return environment.get_template("explorer.html").render(
                number=ref.number, caption_html=Markup(caption_html), grid=grid, opening=opening,
                poster=posters(opening))
        if ref.slug in STATIC_FIGURES:
            return environment.get_template("static_figure.html").render(
                number=ref.number, caption_html=Markup(caption_html), slug=ref.slug, poster=posters(ref.slug))
        return environment.get_template("figure.html").render(
            number=ref.number, caption_html=Markup(caption_html), src=f"figures/{ref.slug}.js",
            download=experiment_path(Path("data"), ref.slug).as_posix(), figure=figure_context(documents[ref.slug]),
            poster=posters(ref.slug), lab=lab_context(documents[ref.slug]), trainer=TRAINER_SITE_PATH)

    return render


@dataclass(frozen=True)
class LinkPreview:
    """What a shared link shows (Open Graph and Twitter card tags): absolute addresses only."""

    url: str  # the page
    image: str  # a PNG poster
    image_alt: str
    image_width: int
    image_height: int


def link_preview(article: Article, posters: PosterShelf, base_url: str | None) -> LinkPreview | None:
    """The preview of the page: the poster named by ``preview_figure`` in the title's front matter, else the first
    figure's; None when the published address is unknown (relative og:image addresses are ignored by readers)."""
    if base_url is None or not article.figures:
        return None
    wanted = article.meta.get("preview_figure") or article.figures[0].slug
    poster = posters(posters.explorer_opening(article) if wanted == EXPLORER else wanted)
    return LinkPreview(url=base_url, image=base_url + poster.path("png"), image_alt=poster.alt,
                       image_width=poster.png_width, image_height=poster.png_height)


def page_script(templates_dir: Path) -> str:
    """``assets/lossarticle.js``: the page script's parts joined in ``PAGE_SCRIPT_PARTS`` order in one scope."""
    parts = [f"/* ---------------- js/{name} */\n\n{text}" for name, text in script_parts(
        templates_dir, "js", PAGE_SCRIPT_PARTS, "the page script's order", "lossarticle/render.py, PAGE_SCRIPT_PARTS")]
    return ("/* lossarticle's page script, joined from templates/assets/js/ by lossarticle/render.py: edit those. */\n"
            "(function () {\n\"use strict\";\n\n" + "\n".join(parts) + "})();\n")


def render_page(article: Article, environment: jinja2.Environment, preview: LinkPreview | None,
                base_url: str | None) -> str:
    """index.html from base.html."""
    return environment.get_template("base.html").render(
        meta=article.meta, lead_html=Markup(article.lead_html), footnotes_html=Markup(article.footnotes_html),
        sections=[{"id": s.id, "title": s.title, "html": Markup(s.html)} for s in article.sections],
        csp=CONTENT_SECURITY_POLICY, bokeh_js=BOKEH_SITE_PATH, preview=preview,
        citation=cite(article.meta, url=base_url))


def published_index(documents: dict[str, ExperimentFile]) -> IndexFile:
    """The index of what this build publishes: exactly the files it read and checked."""
    return IndexFile(schema_version=SCHEMA_VERSION, dataset=DATASET_FILE, experiments=tuple(
        IndexEntry(d.slug, d.title, experiment_path(Path(), d.slug).name, d.config_hash) for d in documents.values()))


def build_files(options: RenderOptions, cache: RenderCache) -> dict[str, str | bytes]:
    """Every generated file of the site, by relative path; a page-template mistake is one line.

    A mistake shows at compile time (syntax, a missing include) or only when the
    template runs (``{{ 1/0 }}``, a TypeError): either is named by the template's line.
    Exceptions raised elsewhere are bugs and keep their traceback.
    """
    try:
        return gather_files(options, cache)
    except Exception as error:
        if not isinstance(error, jinja2.TemplateError) and not template_frames(error, options.templates_dir):
            raise
        raise ContentError(describe_template_error(error, options.templates_dir)) from error


def template_frames(error: BaseException, templates_dir: Path) -> list[traceback.FrameSummary]:
    """The frames of ``error``'s traceback that ran a page template (Jinja names them by the template's file)."""
    folder = templates_dir.resolve()
    return [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().parent == folder]


def describe_template_error(error: BaseException, templates_dir: Path) -> str:
    """``templates/base.html:66: template syntax: …`` for a mistake in a page template."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{templates_dir.name}/{error.name}:{error.lineno}: template syntax: {error.message}"
    frames = template_frames(error, templates_dir)
    where = f"{templates_dir.name}/{Path(frames[-1].filename).name}:{frames[-1].lineno}: " if frames else ""
    if isinstance(error, jinja2.TemplateNotFound):
        return f"{where}template not found: {error.name}"
    what = "unknown variable" if isinstance(error, jinja2.UndefinedError) else type(error).__name__
    message = error.message if isinstance(error, jinja2.TemplateError) else str(error)
    return " ".join(f"{where}{what}: {message}".split())


def gather_files(options: RenderOptions, cache: RenderCache) -> dict[str, str | bytes]:
    """Every generated file of the site (text, and the posters' bytes), by relative path; gathers all before
    writing."""
    environment = page_environment(options.templates_dir)
    # Sources and figure slugs first: an editor's typo is reported before any data is read.
    sources = read_sources(options.article_dir, options.article_dir.name)
    figures = number_figures(sources, tuple(e.slug for e in options.registry), options.prose_limits)
    documents = load_documents(options, cache)
    dataset = load_dataset(options)
    summaries: dict[str, ExperimentSummary] = {slug: summarize(d) for slug, d in documents.items()}
    posters = PosterShelf(documents, dataset, options, cache)
    article = parse_article(sources, summaries, figures,
                            figure_renderer(environment, documents, options.registry, posters), options.prose_limits)
    slugs = [f.slug for f in article.figures if f.slug not in (EXPLORER, *STATIC_FIGURES)]
    if any(f.slug == EXPLORER for f in article.figures):
        slugs += [e.slug for e in options.registry if e.explorer and e.slug not in slugs]
    preview = link_preview(article, posters, options.base_url)
    files: dict[str, str | bytes] = {"index.html": render_page(article, environment, preview, options.base_url),
                                     f"data/{INDEX_FILE}": to_json(published_index(documents)),
                                     "assets/lossarticle.js": page_script(options.templates_dir)}
    for slug, text in figure_scripts(slugs, documents, dataset, options, cache).items():
        files[f"figures/{slug}.js"] = text
    return files | lab_files(article, documents, dataset, options) | posters.files()


def lab_files(article: Article, documents: dict[str, ExperimentFile], dataset: DatasetFile,
              options: RenderOptions) -> dict[str, str]:
    """``lab/<slug>.js`` for each placed figure with a lab, and the trainer they share (none without a lab)."""
    from lossarticle.lab import lab_path, lab_script
    from lossarticle.trainer_script import trainer_script
    files = {}
    for ref in article.figures:
        document = documents.get(ref.slug)
        if document is None or not document.config.lab:
            continue
        twin = documents.get(document.config.drawn_from) if document.config.drawn_from else None
        files[lab_path(ref.slug)] = lab_script(document, dataset, twin)
    if files:
        files[TRAINER_SITE_PATH] = trainer_script(options.templates_dir)
    return files


def render_site(options: RenderOptions, cache: RenderCache | None = None,
                echo: Callable[[str], None] = print) -> Path:
    """Build the whole site beside ``site_dir`` and swap it in; returns ``site_dir``."""
    site = options.site_dir
    check_outside(site, (options.article_dir, options.templates_dir))
    check_replaceable(site, (options.article_dir, options.templates_dir, Path.cwd()))
    with site_lock(site, echo):
        recover(site, echo)
        files = build_files(options, cache or RenderCache())
        left_out = unpublished(options)
        try:
            write_site(options, files)
        except OSError as error:
            raise cannot_write(error, site.parent) from error
    for path in left_out:
        echo(f"{path}: no experiment of the registry has this file: it is not published, and went with the "
             f"previous site")
    scripts = sum(name.startswith("figures/") for name in files)
    posters = sum(name.startswith("posters/") and name.endswith(".png") for name in files)  # one PNG a poster
    echo(f"rendered {site / 'index.html'} ({scripts} figure scripts, {posters} posters)")
    return site


def unpublished(options: RenderOptions) -> list[Path]:
    """Data files of the current site that no experiment of the registry owns: the swap leaves them behind."""
    data = data_dir_of(options.site_dir)
    known = {DATASET_FILE, INDEX_FILE} | {experiment_path(data, e.slug).name for e in options.registry}
    return sorted(p for p in data.glob("*.json") if p.name not in known and not p.name.startswith("."))


def write_site(options: RenderOptions, files: dict[str, str | bytes]) -> None:
    """Write ``files`` and the static ones into a sibling folder, then swap it in."""
    site = options.site_dir
    site.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site.name}.build-", dir=site.parent))
    try:
        for relative, text in files.items():
            write_atomic(staging / relative, text)
        copy_static(options, staging)
        swap_in(staging, site)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def copy_static(options: RenderOptions, staging: Path) -> None:
    """Assets but the page script's and the trainer's parts (joined already), BokehJS from the installed package,
    and the data files read (hard-linked when possible)."""
    assets = options.templates_dir / "assets"
    shutil.copytree(assets, staging / "assets", dirs_exist_ok=True,
                    ignore=lambda folder, names: ["js", "trainer"] if Path(folder) == assets else [])
    (staging / BOKEH_SITE_PATH).parent.mkdir(parents=True)
    shutil.copyfile(BOKEH_JS, staging / BOKEH_SITE_PATH)
    source = data_dir_of(options.site_dir)
    names = [DATASET_FILE] + [experiment_path(source, e.slug).name for e in options.registry]
    for name in names:
        try:
            os.link(source / name, staging / "data" / name)
        except OSError:
            shutil.copyfile(source / name, staging / "data" / name)
    staging.chmod(0o755)  # mkdtemp makes 0700; the site is public
    for path in staging.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
