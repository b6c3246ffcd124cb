"""Static pictures of the figures, drawn at build time with matplotlib from the same records as the live ones.

Every figure of the page holds one (``posters/<slug>.svg``) from the start, so readers
without JavaScript, print, feed readers and link previews all see something true; the
live Bokeh figure replaces it once it is ready. A poster shows the figure at its last
epoch: the decision regions of the final frame over the training points, each plane's
landscape in true proportions with the path of every run, and the curves. Two more
kinds exist only as pictures: the data set (``spiral``) and the final decision regions
of every explorer network side by side (``overview``).

Colours come from where the live figures take them (``panels``: class, run and
landscape colours; ``scales``: the figure's colour scale and its labelled ticks), so a
poster and its live figure agree. Nothing here uses pyplot, a browser or a GUI: each
poster is a ``matplotlib.figure.Figure`` saved by the Agg (PNG) and SVG back ends inside
``rc_context(STYLE)``, which also fixes everything that would make two builds differ
(the SVG's date, hash salt and creator, the PNG's software stamp, the font).
"""
from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from lossarticle import style
from lossarticle.dynamics import sharpness_ratio, spikes
from lossarticle.figure_context import ExplorerChoice, ExplorerGrid, run_label
from lossarticle.numbers import num, pct
from lossarticle.packing import CONFIDENCE_BITS
from lossarticle.scales import Scale, decade_ticks, figure_scale_of, log_loss, range_note
from lossarticle.schema import DatasetFile, ExperimentFile, PlaneRecord, RunRecord
from lossarticle.summaries import LN3, STUCK_TOLERANCE, stuck_at_ln3

POSTER_DIR = "posters"  # beside index.html: posters/<slug>.svg and .png
CSS_PX_PER_INCH = 96  # an SVG of W inches is W·72 pt, which a browser lays out as W·96 CSS pixels
RASTER_DPI = 144  # the training points inside the SVG: sharp at twice the size it is laid out
PNG_DPI = 150  # a 10-inch poster is 1500 px wide: enough for a slide, and for a link preview
SINGLE_SIZE = (10.0, 3.3)  # inches; regions | landscape | loss over accuracy, like the live figure's first row
PLANES_SIZE = (10.0, 6.4)  # one landscape per plane above, regions and curves below
SPIRAL_SIZE = (6.0, 4.6)
SEEDS_SIZE = (9.0, 3.2)
PANEL_INCHES = 1.75  # one cell of the overview
# A phone's variant of the static figures: laid out at about the width a 375 px screen gives the article
# (3.4 in = 326 CSS px), so its type stays at its size, 8.5 pt or more, never under 10 CSS px there. The wide
# picture scaled to that width set 7-pt text at 4-5 px.
NARROW_INCHES = 3.4
NARROW_VIEWPORT = 640  # CSS px: a viewport at most this wide shows the narrow variant (posters.html)
NARROW_STYLE_CHANGES = {"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8.5,
                        "ytick.labelsize": 8.5, "legend.fontsize": 8.5}
SPLIT_MARKERS = {"train": "o", "validation": "^", "test": "s"}  # the data set figure's marker per split
LINE_DASHES = {"solid": "-", "dashed": (0, (4, 2)), "dotted": (0, (1, 1.6)), "dashdot": "-."}  # Bokeh's names
STYLE = {
    # matplotlib ships DejaVu Sans: the PNG has the same glyphs on every build machine. The SVG names
    # the family and lets the reader's fonts draw the text (sans-serif where DejaVu is missing).
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 8, "axes.titlesize": 8.5, "axes.labelsize": 7.5, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "axes.titlelocation": "left", "axes.titlepad": 4,
    "text.color": style.INK, "axes.labelcolor": style.MUTED, "xtick.labelcolor": style.MUTED,
    "ytick.labelcolor": style.MUTED, "xtick.color": "#999999", "ytick.color": "#999999",
    "axes.edgecolor": "#999999", "axes.linewidth": 0.6, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    "xtick.major.size": 3, "ytick.major.size": 3, "axes.spines.top": False, "axes.spines.right": False,
    "figure.facecolor": "white", "savefig.facecolor": "white",
    "text.parse_math": False,  # axis labels such as "θ_final" or "$" are text, never TeX
    "svg.fonttype": "none",  # text as text: glyphs drawn as paths cost 6 KB gzipped per poster
    "svg.hashsalt": "lossarticle-posters",  # fixed ids for clip paths and glyphs: byte-identical builds
    "svg.image_inline": True,
    "path.simplify": True,  # 1001-epoch curves drop the vertices a reader cannot see (1/9 px)
    "legend.frameon": False,
    "figure.constrained_layout.h_pad": 0.03, "figure.constrained_layout.w_pad": 0.05,
}
COORDINATE_ATTRIBUTE = re.compile(rb'( (?:d|x|y)=")([^"]*)"')  # path data and positions, in pt
LONG_DECIMAL = re.compile(rb"-?\d+\.\d{3,}")
SVG_METADATA: dict[str, str | None] = {"Date": None, "Creator": None}  # no build date, no library version
PNG_METADATA: dict[str, str | None] = {"Software": None}


@dataclass(frozen=True)
class Poster:
    """One figure's static picture, as the site publishes it."""

    slug: str  # the figure: an experiment, "spiral" or "overview"
    svg: bytes  # what the page shows: vectors, with the images inside rasterized
    png: bytes  # for slides and link previews
    width: int  # CSS pixels the SVG is laid out at (the img's width and height attributes)
    height: int
    png_width: int  # pixels of the PNG (og:image:width)
    png_height: int
    alt: str  # what the picture shows, in words
    narrow: Poster | None = None  # the same picture laid out for a phone (SVG only), where its type would be tiny

    def path(self, extension: str) -> str:
        """``posters/<slug>.svg`` or ``.png``, relative to the page."""
        return poster_path(self.slug, extension)

    @property
    def narrow_media(self) -> str:
        """The media query under which a page shows the narrow variant."""
        return f"(max-width: {NARROW_VIEWPORT}px)"


def poster_path(slug: str, extension: str) -> str:
    """The one place a poster's file name is spelled."""
    if extension not in ("svg", "png"):
        raise ValueError(f"poster extension {extension!r} (known: svg, png)")
    return f"{POSTER_DIR}/{slug}.{extension}"


# ---------------------------------------------------------------- the posters

def experiment_poster(document: ExperimentFile, dataset: DatasetFile) -> Poster:
    """The poster of an experiment's figure at its last epoch."""
    with matplotlib.rc_context(STYLE):
        figure = draw_experiment(document, dataset)
        return saved(document.slug, figure, experiment_alt(document))


def spiral_poster(dataset: DatasetFile) -> Poster:
    """The data set: every split in the class colours, one marker per split."""
    with matplotlib.rc_context(STYLE):
        wide = saved("spiral", draw_spiral(dataset), spiral_alt(dataset))
    with matplotlib.rc_context(STYLE | NARROW_STYLE_CHANGES):
        return replace(wide, narrow=saved("spiral-narrow", draw_spiral(dataset, narrow=True), wide.alt, png_too=False))


def overview_poster(grid: ExplorerGrid, documents: dict[str, ExperimentFile], dataset: DatasetFile) -> Poster:
    """Final decision regions of every explorer network: depth rows × width columns, singles first."""
    with matplotlib.rc_context(STYLE):
        wide = saved("overview", draw_overview(grid, documents, dataset), overview_alt(grid, documents))
    with matplotlib.rc_context(STYLE | NARROW_STYLE_CHANGES):
        narrow = saved("overview-narrow", draw_overview_narrow(grid, documents, dataset), wide.alt,
                       png_too=False)
    return replace(wide, narrow=narrow)


def seeds_poster(documents: Sequence[ExperimentFile]) -> Poster:
    """Every initialization's final training loss, one column per architecture, ln 3 marked and counted."""
    with matplotlib.rc_context(STYLE):
        wide = saved("seeds", draw_seeds(documents), seeds_alt(documents))
    with matplotlib.rc_context(STYLE | NARROW_STYLE_CHANGES):
        return replace(wide, narrow=saved("seeds-narrow", draw_seeds(documents, narrow=True), wide.alt, png_too=False))


def seeded(documents: dict[str, ExperimentFile]) -> list[ExperimentFile]:
    """The architectures trained from many initializations, in registry order (the seeds figure's columns)."""
    return [d for d in documents.values() if d.config.seeds > 1 and d.config.depth > 0]


def draw_seeds(documents: Sequence[ExperimentFile], narrow: bool = False) -> Figure:
    """A strip per architecture: its final losses on a log axis, those within tolerance of ln 3 in orange.

    On a phone (``narrow``) the strips are rows with the loss along the width: eleven columns of labels
    do not fit in 326 pixels at a readable size.
    """
    count = len(documents)
    figure = Figure(figsize=(NARROW_INCHES, 0.36 * count + 1.4) if narrow else SEEDS_SIZE, layout="constrained")
    ax = figure.add_subplot()
    label_size = None if narrow else 6.5  # None: the narrow style's own tick size

    def at(place: np.ndarray | float, loss: np.ndarray | float) -> tuple:
        """(x, y) of a loss in a strip: the strips are columns, or rows on a phone."""
        return (loss, place) if narrow else (place, loss)

    (ax.set_xscale if narrow else ax.set_yscale)("log")
    (ax.axvline if narrow else ax.axhline)(LN3, color=style.MUTED, linewidth=0.8, linestyle=(0, (4, 2)))
    finite = np.concatenate([d.seeds.final_train_loss[np.isfinite(d.seeds.final_train_loss)] for d in documents]
                            or [np.zeros(0, np.float32)])
    top = float(finite.max()) * 2.5 if finite.size else 10.0
    for column, document in enumerate(documents):
        loss = document.seeds.final_train_loss.astype(np.float64)
        shown = np.where(np.isfinite(loss), loss, top)  # a diverged initialization sits on the top edge
        stuck = stuck_at_ln3(loss)
        # Spread the dots across the column by a golden-ratio sequence, not at random: the same picture
        # on every build, and no two neighbouring seeds on top of each other.
        offsets = (np.arange(len(shown)) * 0.6180339887 % 1.0 - 0.5) * 0.6
        ax.scatter(*at(column + offsets[~stuck], shown[~stuck]), s=5, color=style.INK, linewidths=0, alpha=0.7)
        ax.scatter(*at(column + offsets[stuck], shown[stuck]), s=5, color=style.RUN_STYLES[0][0], linewidths=0,
                   alpha=0.8)
        ax.text(*at(column, top * 1.15), f"{int(stuck.sum())}/{len(loss)}", ha="left" if narrow else "center",
                va="center" if narrow else "bottom", fontsize=label_size, color=style.MUTED)
    places, labels = range(count), [seeds_label(d) for d in documents]
    if narrow:
        ax.set_yticks(places, labels)
        ax.set_ylim(count - 0.4, -0.6)  # the first architecture on top, as the wide figure reads left to right
        ax.set_xlim(float(finite.min()) / 2 if finite.size else 1e-3, top * 6)
        ax.set_xlabel("final training loss")
    else:
        ax.set_xticks(places, labels, rotation=0, fontsize=label_size)
        ax.set_xlim(-0.6, count - 0.4)
        ax.set_ylim(float(finite.min()) / 2 if finite.size else 1e-3, top * 1.8)
        ax.set_ylabel("final training loss")
    value_axis = ax.xaxis if narrow else ax.yaxis
    value_axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    value_axis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    where = "beside each row" if narrow else "above each column"
    ax.set_title(f"Every initialization's final loss;{chr(10) if narrow else ' '}orange: within "
                 f"{STUCK_TOLERANCE} of ln 3 (dashed),{chr(10) if narrow else ' '}counted {where}")
    return figure


def measured(documents: dict[str, ExperimentFile]) -> list[tuple[ExperimentFile, RunRecord]]:
    """Every run whose curvature the files hold, in registry and run order: the sharpness figure's rows."""
    return [(d, run) for d in documents.values() for run in d.runs if run.curvature is not None]


def sharpness_poster(rows: Sequence[tuple[ExperimentFile, RunRecord]]) -> Poster:
    """Each measured run's loss and its sharpness over its own edge of stability, spikes marked."""
    with matplotlib.rc_context(STYLE):
        wide = saved("sharpness", draw_sharpness(rows), sharpness_alt(rows))
    with matplotlib.rc_context(STYLE | NARROW_STYLE_CHANGES):
        return replace(wide, narrow=saved("sharpness-narrow", draw_sharpness(rows, narrow=True), wide.alt,
                                          png_too=False))


def sharpness_row_label(document: ExperimentFile, run: RunRecord) -> str:
    config = document.config
    name = f"{config.depth}×{config.width}"
    return name if len(document.runs) == 1 else f"{name} {run.name}"


def draw_sharpness(rows: Sequence[tuple[ExperimentFile, RunRecord]], narrow: bool = False) -> Figure:
    """One row per run: the training loss (log) and the sharpness over the run's threshold (log, 1 dashed).

    Dashed grey verticals are the spikes (``dynamics.spikes``). On a phone (``narrow``) each row keeps
    the sharpness alone: two columns of axes do not fit in 326 pixels at a readable size.
    """
    columns = 1 if narrow else 2
    figure = Figure(figsize=(NARROW_INCHES if narrow else 9.0, (1.25 if narrow else 1.05) * len(rows) + 0.6),
                    layout="constrained")
    grid = figure.subplots(len(rows), columns, squeeze=False, sharex="row")
    for index, (document, run) in enumerate(rows):
        epochs, ratio = sharpness_ratio(run)
        colour, _ = style.run_style(list(document.runs).index(run))
        spike_epochs = spikes(run.train_loss, run.train_acc)
        axes = list(grid[index])
        if not narrow:
            loss_ax = axes.pop(0)
            loss_ax.semilogy(np.arange(run.epochs + 1), run.train_loss, color=colour, linewidth=1)
            loss_ax.set_ylabel(f"{sharpness_row_label(document, run)}\nloss")
        ax = axes[0]
        ax.semilogy(epochs, ratio, color=colour, linewidth=1)
        ax.axhline(1.0, color=style.INK, linewidth=0.7, linestyle=(0, (4, 2)))
        if narrow:
            ax.set_ylabel(sharpness_row_label(document, run))
        for each in grid[index]:
            for epoch in spike_epochs:
                each.axvline(epoch, color=style.MUTED, linewidth=0.6, linestyle=(0, (2, 2)))
            each.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            each.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    for each in grid[-1]:
        each.set_xlabel("epoch")
    grid[0][-1].set_title("sharpness ÷ its edge of stability (1, dashed)")
    if not narrow:
        grid[0][0].set_title("training loss; spikes dotted")
    return figure


def sharpness_alt(rows: Sequence[tuple[ExperimentFile, RunRecord]]) -> str:
    parts = []
    for document, run in rows:
        _, ratio = sharpness_ratio(run)
        spike_epochs = spikes(run.train_loss, run.train_acc)
        parts.append(f"{sharpness_row_label(document, run)}: largest {num(float(np.nanmax(ratio)))} times its edge, "
                     f"{len(spike_epochs)} spike{'s' if len(spike_epochs) != 1 else ''}")
    return "Training loss and sharpness over its edge of stability, per run; " + "; ".join(parts) + "."


def seeds_label(document: ExperimentFile) -> str:
    config = document.config
    return f"{config.depth}×{config.width}" + ("\nskip" if config.skip else "")


def seeds_alt(documents: Sequence[ExperimentFile]) -> str:
    def stuck(document: ExperimentFile) -> int:
        return int(stuck_at_ln3(document.seeds.final_train_loss).sum())

    parts = [f"{seeds_label(d).replace(chr(10), ' ')}: {stuck(d)} of {d.seeds.count} at ln 3" for d in documents]
    return "Final training loss of every initialization, per architecture; " + "; ".join(parts) + "."


def saved(slug: str, figure: Figure, alt: str, png_too: bool = True) -> Poster:
    """SVG and PNG bytes of ``figure``, with nothing in them that depends on the build's time or host.

    A phone's variant (``png_too=False``) has no PNG: slides and link previews take the wide one.
    """
    freeze_layout(figure)
    svg, png = io.BytesIO(), io.BytesIO()
    figure.savefig(svg, format="svg", dpi=RASTER_DPI, metadata=SVG_METADATA)
    if png_too:
        figure.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    inches = figure.get_size_inches()
    width, height = (round(float(v) * CSS_PX_PER_INCH) for v in inches)
    png_width, png_height = (round(float(v) * PNG_DPI) for v in inches)
    return Poster(slug, compact_svg(svg.getvalue()), png.getvalue(), width, height, png_width, png_height, alt)


def compact_svg(svg: bytes) -> bytes:
    """Coordinates (``d``, ``x``, ``y``) to 0.01 pt, where matplotlib writes six decimals.

    A fiftieth of a pixel on a 2× screen; 15 % less gzipped for a poster, a third less for
    the data set's 1500 markers.
    """
    def round_number(match: re.Match[bytes]) -> bytes:
        return f"{float(match[0]):.2f}".rstrip("0").rstrip(".").encode()

    def round_attribute(match: re.Match[bytes]) -> bytes:
        return match[1] + LONG_DECIMAL.sub(round_number, match[2]) + b'"'

    return COORDINATE_ATTRIBUTE.sub(round_attribute, svg)


def freeze_layout(figure: Figure) -> None:
    """Lay the figure out once, then pin every axes at its position rounded to 10⁻⁶ of the figure.

    Constrained layout solves with kiwisolver, which orders its variables by memory
    address: the same figure comes out a last bit apart between runs (249.74371705416476
    or …482 pt), which is enough to change a hash-named SVG clip id. Rounding removes that,
    and both files then share one layout (and skip a second solve).
    """
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    for ax in figure.axes:
        ax.set_position([round(float(v), 6) for v in ax.get_position(original=True).bounds])


# ---------------------------------------------------------------- drawing an experiment

def draw_experiment(document: ExperimentFile, dataset: DatasetFile) -> Figure:
    """One landscape per plane, the regions of the reference run, loss and accuracy; the live figure's layout."""
    planes, runs, scale = document.planes, document.runs, figure_scale_of(document)
    if len(planes) == 1:
        figure = Figure(figsize=SINGLE_SIZE, layout="constrained")
        cells = figure.add_gridspec(2, 3, width_ratios=(1.0, 1.2, 1.15))
        regions, landscapes = figure.add_subplot(cells[:, 0]), [figure.add_subplot(cells[:, 1])]
        loss, accuracy = figure.add_subplot(cells[0, 2]), figure.add_subplot(cells[1, 2])
    else:
        figure = Figure(figsize=PLANES_SIZE, layout="constrained")
        cells = figure.add_gridspec(2, len(planes), height_ratios=(1.15, 1.0))
        landscapes = [figure.add_subplot(cells[0, i]) for i in range(len(planes))]
        regions, loss = figure.add_subplot(cells[1, 0]), figure.add_subplot(cells[1, 1])
        accuracy = figure.add_subplot(cells[1, 2:])
    draw_regions(regions, document, dataset)
    for ax, plane in zip(landscapes, planes):
        mappable = draw_landscape(ax, plane, runs, scale)
    colour_bar(figure, mappable, landscapes, scale)
    draw_loss(loss, runs)
    draw_accuracy(accuracy, runs, dataset.classes)
    if len(planes) > 1:
        loss.set_xlabel("epoch")
    return figure


def region_colours(label: np.ndarray, confidence: np.ndarray, colours: Sequence[str]) -> np.ndarray:
    """RGB of each region pixel, as the page paints it: low confidence fades the class colour to white.

    The page does this in ``assets/lossarticle.js`` (``colourLut``) from the same
    ``CONFIDENCE_BITS``; the weights below are those, so a poster and its live figure agree.
    """
    levels = (1 << CONFIDENCE_BITS) - 1
    shade = (confidence >> (8 - CONFIDENCE_BITS)).astype(np.float64) / levels
    weight = 0.1 + 0.55 * shade
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=np.float64)[label]
    return np.floor(255 + (rgb - 255) * weight[..., None] + 0.5).astype(np.uint8)  # Math.round, not banker's


def draw_regions(ax: Axes, document: ExperimentFile, dataset: DatasetFile, labelled: bool = True,
                 points: bool = True) -> None:
    """The reference run's decision regions at its last frame, under the training points."""
    run, axes, colours = document.reference, document.region_axes, style.class_colours(dataset)
    image = region_colours(run.regions.label[-1], run.regions.confidence[-1], colours)
    extent = (*style.grid_extent(axes.x), *style.grid_extent(axes.y))
    # The SVG holds the 100 × 100 regions as they are (4 KB) and the points as one image of their own:
    # 1083 vector circles cost 16 KB gzipped, antialiased ones on the regions 48 KB, these 7 KB.
    ax.imshow(image, origin="lower", extent=extent, interpolation="none", aspect="equal")
    if points:
        ax.scatter(dataset.train_x[:, 0], dataset.train_x[:, 1], s=2.2, c=[colours[k] for k in dataset.train_y],
                   linewidths=0, antialiased=False, rasterized=True)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    if labelled:
        ax.set_title(style.focus_title("Decision regions", document.runs))
        ax.set_xlabel("x₁ (standardized)")
        ax.set_ylabel("x₂ (standardized)")


def landscape_colours() -> ListedColormap:
    """The live landscapes' palette; overflow (inf, NaN) and losses above the scale take its top colour."""
    cmap = ListedColormap(style.LANDSCAPE_PALETTE, name="lossarticle-landscape")
    return cmap.with_extremes(over=style.LANDSCAPE_PALETTE[-1], under=style.LANDSCAPE_PALETTE[0],
                              bad=style.LANDSCAPE_PALETTE[-1])


def draw_landscape(ax: Axes, plane: PlaneRecord, runs: Sequence[RunRecord], scale: Scale) -> AxesImage:
    """The plane's true view on the figure's colour scale, with iso-loss lines and every run's whole path."""
    view = plane.view("true")
    surface = view.surface
    image = log_loss(surface.loss)
    extent = (*style.grid_extent(surface.x), *style.grid_extent(surface.y))
    mappable = ax.imshow(image, origin="lower", extent=extent, cmap=landscape_colours(),
                         norm=Normalize(scale.low, scale.high), interpolation="none", aspect="equal")
    lines = style.contour_lines(surface.x, surface.y, image.astype(np.float32), scale)
    ax.add_collection(LineCollection([np.column_stack(line) for line in zip(lines["xs"], lines["ys"])],
                                     colors="#ffffff", alpha=0.75, linewidths=0.6))
    for index, run in enumerate(runs):
        colour, dash = style.run_style(index)
        coords = run.path(plane.method).coords[:run.epochs + 1]
        ax.plot(coords[:, 0], coords[:, 1], color=colour, linestyle=LINE_DASHES[dash], linewidth=1.6,
                solid_capstyle="round", label=run.name)
        ax.plot(coords[-1, 0], coords[-1, 1], marker="o", markersize=5.5, color=colour,
                markeredgecolor="#ffffff", markeredgewidth=1.0, linestyle="none")
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_title(style.view_title(plane, view))
    note = range_note(surface.loss)
    ax.set_xlabel(plane.axis_labels[0] + (f"\n{note}" if note else ""))
    ax.set_ylabel(plane.axis_labels[1])
    return mappable


def colour_bar(figure: Figure, mappable: AxesImage, axes: list[Axes], scale: Scale) -> None:
    """One key for the figure's landscapes (they share one scale), labelled in loss at the scale's ticks."""
    bar = figure.colorbar(mappable, ax=axes, fraction=0.05 if len(axes) == 1 else 0.025, pad=0.02, aspect=30)
    bar.set_ticks(list(scale.ticks), labels=list(scale.labels))
    bar.ax.minorticks_off()
    bar.ax.tick_params(length=0, labelsize=6.5)
    bar.outline.set_visible(False)
    bar.ax.set_title("loss", fontsize=6.5, color=style.MUTED, loc="left")


def draw_loss(ax: Axes, runs: Sequence[RunRecord]) -> None:
    """Training loss of every run on a log axis, ticks as the live figure labels them."""
    for index, run in enumerate(runs):
        colour, dash = style.run_style(index)
        ax.plot(np.arange(run.epochs + 1), run.train_loss[:run.epochs + 1], color=colour,
                linestyle=LINE_DASHES[dash], linewidth=1.2, label=run.name)
    low, high = style.log_range([run.train_loss for run in runs])
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.yaxis.set_major_locator(FixedLocator(decade_ticks(low, high)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(*style.epoch_range(runs))
    ax.set_title("Training loss")
    ax.grid(axis="y", color=style.RULE, linewidth=0.6)
    ax.set_axisbelow(True)
    if len(runs) > 1:
        ax.legend(loc="upper right", handlelength=2.2, borderaxespad=0.2)


def draw_accuracy(ax: Axes, runs: Sequence[RunRecord], classes: int) -> None:
    """Train (solid) and validation (dashed) accuracy in percent, chance level dotted."""
    ax.axhline(100 / classes, color="#bbbbbb", linewidth=0.8, linestyle=":")
    for index, run in enumerate(runs):
        colour, _ = style.run_style(index)
        epochs = np.arange(run.epochs + 1)
        ax.plot(epochs, 100 * run.train_acc[:run.epochs + 1], color=colour, linewidth=1.2)
        ax.plot(epochs, 100 * run.val_acc[:run.epochs + 1], color=colour, linewidth=1.2, alpha=0.8,
                linestyle=(0, (2, 2)))
    ax.set_ylim(0, 102)
    ax.set_yticks([0, 50, 100])
    ax.set_xlim(*style.epoch_range(runs))
    ax.set_title("Accuracy (%)")
    ax.set_xlabel("epoch")
    ax.grid(axis="y", color=style.RULE, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(handles=[Line2D([], [], color=style.INK, linewidth=1.2, label="train"),
                       Line2D([], [], color=style.INK, linewidth=1.2, linestyle=(0, (2, 2)), label="val")],
              loc="lower right", ncols=2, handlelength=2.2, borderaxespad=0.2)


# ---------------------------------------------------------------- the static figures

def draw_spiral(dataset: DatasetFile, narrow: bool = False) -> Figure:
    """Train, validation and test points in the class colours, one marker per split, with a legend: at the
    right, or below the points on a phone, where the picture has no width to spare."""
    figure = Figure(figsize=(NARROW_INCHES, 4.9) if narrow else SPIRAL_SIZE, layout="constrained")
    ax = figure.add_subplot()
    colours = style.class_colours(dataset)
    splits = data_splits(dataset)
    # Vectors here, the points being the figure: 1500 markers cost 22 KB gzipped (a crisp image 18 KB).
    for (name, (points, labels)), size in zip(splits.items(), (2.6, 3.7, 3.3)):
        for label, colour in enumerate(colours):
            mine = points[labels == label]
            ax.plot(mine[:, 0], mine[:, 1], linestyle="none", marker=SPLIT_MARKERS[name], markersize=size,
                    color=colour, markeredgecolor="#ffffff", markeredgewidth=0.3)
    split_keys = [Line2D([], [], marker=SPLIT_MARKERS[name], color="#777777", linestyle="none", markersize=5,
                         label=f"{name} · {len(labels):,} points") for name, (_, labels) in splits.items()]
    class_keys = [Line2D([], [], marker="o", color=colour, linestyle="none", markersize=6, label=f"class {k + 1}")
                  for k, colour in enumerate(colours)]
    if narrow:
        figure.legend(handles=split_keys + class_keys, loc="outside lower center", ncols=2, handletextpad=0.3,
                      columnspacing=1.0)
    else:
        ax.legend(handles=split_keys + class_keys, loc="center left", bbox_to_anchor=(1.02, 0.5), handletextpad=0.3)
    ax.set_aspect("equal")
    ax.set_title(f"The spiral: {dataset.classes} classes, {sum(len(y) for _, y in splits.values()):,} points")
    ax.set_xlabel("x₁ (standardized)")
    ax.set_ylabel("x₂ (standardized)")
    return figure


def data_splits(dataset: DatasetFile) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Points and labels of each split, in the order the legend lists them."""
    return {"train": (dataset.train_x, dataset.train_y), "validation": (dataset.val_x, dataset.val_y),
            "test": (dataset.test_x, dataset.test_y)}


def draw_overview(grid: ExplorerGrid, documents: dict[str, ExperimentFile], dataset: DatasetFile) -> Figure:
    """Small multiples: the singles (the logistic baseline) in a first column, then depth rows × width columns."""
    lead = 1 if grid.singles else 0
    rows, columns = max(len(grid.depths), len(grid.singles), 1), lead + len(grid.widths)
    figure = Figure(figsize=(PANEL_INCHES * columns, PANEL_INCHES * rows + 0.2), layout="constrained")
    cells = figure.add_gridspec(rows, columns)
    for row, single in enumerate(grid.singles):
        overview_panel(figure.add_subplot(cells[row, 0]), single, documents, dataset)
    for row, (depth, choices) in enumerate(grid.rows):
        for column, choice in enumerate(choices):
            if choice is None:
                continue
            ax = figure.add_subplot(cells[row, lead + column])
            overview_panel(ax, choice, documents, dataset)
            if column == 0 or choices[column - 1] is None:
                ax.set_ylabel(f"{depth} hidden layer{'s' if depth > 1 else ''}", fontsize=7.5)
    return figure


def draw_overview_narrow(grid: ExplorerGrid, documents: dict[str, ExperimentFile], dataset: DatasetFile) -> Figure:
    """The overview on a phone: the same networks two to a row, in the explorer's order, each titled with its
    depth × width, since four columns at phone width leave 80 pixels a panel and 4-pixel type."""
    columns = 2
    rows = max(1, math.ceil(len(grid.choices) / columns))
    panel = NARROW_INCHES / columns
    figure = Figure(figsize=(NARROW_INCHES, panel * 1.08 * rows + 0.35), layout="constrained")
    cells = figure.add_gridspec(rows, columns)
    for index, choice in enumerate(grid.choices):
        overview_panel(figure.add_subplot(cells[index // columns, index % columns]), choice, documents, dataset,
                       narrow=True)
    figure.suptitle("hidden layers × neurons per layer", color=style.MUTED)
    return figure


def overview_panel(ax: Axes, choice: ExplorerChoice, documents: dict[str, ExperimentFile],
                   dataset: DatasetFile, narrow: bool = False) -> None:
    """One network's final regions, titled with its shape and final training accuracy.

    No training points: ten copies of them cost 40 KB gzipped, and the spiral figure shows them.
    ``narrow``: a panel of the phone's two-column variant.
    """
    document = documents[choice.slug]
    draw_regions(ax, document, dataset, labelled=False, points=False)
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    accuracy = pct(final_train_acc(document.reference), 0)
    if narrow:  # half a phone's width: the accuracy on a line of its own, in the narrow style's title size
        ax.set_title(f"{choice.label}\ntrain {accuracy}")
    else:
        ax.set_title(f"{choice.label} · train {accuracy}", fontsize=7.5)


def final_train_acc(run: RunRecord) -> float:
    """Training accuracy after the run's last epoch."""
    return float(run.train_acc[run.epochs])


# ---------------------------------------------------------------- words

def experiment_alt(document: ExperimentFile) -> str:
    """The alt text of an experiment's poster: what it shows, with the numbers it shows."""
    run = document.reference
    if len(document.runs) > 1:
        paths = f"the paths of {len(document.runs)} runs ({', '.join(run_label(r) for r in document.runs)})"
    else:
        paths = "the path of training"
    planes = ", ".join(style.plane_title(p.method) for p in document.planes)
    return (f"{document.title} after {run.epochs} epochs. Decision regions over the training points "
            f"(train accuracy {pct(final_train_acc(run))}); {paths} on the loss landscape "
            f"({planes}), in true proportions; training loss from {num(float(run.train_loss[0]))} "
            f"to {num(float(run.train_loss[run.epochs]))}.")


def spiral_alt(dataset: DatasetFile) -> str:
    sizes = ", ".join(f"{len(labels):,} {name}" for name, (_, labels) in data_splits(dataset).items())
    return f"The spiral data set: {dataset.classes} interleaved classes, {sizes} points, standardized."


def overview_alt(grid: ExplorerGrid, documents: dict[str, ExperimentFile]) -> str:
    parts = [f"{c.title}: {pct(final_train_acc(documents[c.slug].reference), 0)}" for c in grid.choices]
    return "Final decision regions of every network in the explorer, with training accuracy: " + "; ".join(parts) + "."
