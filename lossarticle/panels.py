"""How Bokeh draws a figure's panels: regions, landscapes, curves and the strips of what a plane hides.

Each builder takes records of the file format (``schema.py``) and returns one
Bokeh plot: the figure's static layer, drawn once. What moves with the epoch is
not in these documents at all: the page script (``templates/assets/js/``) draws it on its
own layer (the path so far and the current points over each landscape, the
decision-region frame beneath the regions plot, the epoch markers and the current
loss over the curves), placed from each plot's frame and scales, so a slider step
touches no Bokeh model. The page's CSP forbids the ``eval`` that Bokeh's ``CustomJS``
needs, so the page fills or switches some models itself, found by name. The
``*_names`` functions below are the only place those names are spelled: each
builder names its models with one, and ``page_data`` writes the same names, by role,
into each panel of the figure's spec, where the page reads them. A test walks every
spec against the panels' documents (``tests/test_page_data.py``).

Model ids come from Bokeh's counter, which :func:`panel_item` restarts for each
panel, so a serialized panel is byte-stable.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from bokeh.embed import json_item
from bokeh.models import (ColorBar, ColumnDataSource, FixedTicker, HoverTool, LogColorMapper, Model,
                          PrintfTickFormatter, Range1d, Span, Title)
from bokeh.plotting import figure as bokeh_figure

from lossarticle.bokeh_internals import next_bokeh_id, set_next_bokeh_id
from lossarticle.dynamics import sharpness_ratio
from lossarticle.scales import Scale, decade_ticks, log_loss, range_note
from lossarticle.schema import AxesRecord, DatasetFile, PlaneRecord, RunRecord, SeedsRecord
from lossarticle.style import (FONT, INK, LANDSCAPE_PALETTE, MUTED, RULE, class_colours, contour_lines, epoch_range,
                               grid_extent, log_range, rounded, run_style, strip_title, view_title)

PANEL_IDS = 400  # Bokeh ids reserved per panel (a landscape uses about 70)
HEIGHT_SQUARE, HEIGHT_CURVE, HEIGHT_STRIP = 300, 150, 170
FRAME_LANDSCAPE = 250  # a landscape's frame height until the page makes it its width (proportions.js): its
# frame is 238-283 px wide in a row of three at 1280 px and in a phone's one column (measured on the built site)
HEIGHT_LANDSCAPE = FRAME_LANDSCAPE + 67  # the room the page keeps for it until embedded: axes and title took 67 px
CURVE_LEFT = 44  # pixels left of every time axis: stacked curves line up epoch for epoch
FAINT_SEEDS, FAINT_POINTS = 40, 80  # other initializations drawn behind the drawn one, and epochs kept of each
GAP_DECADES = 3.0  # the recorded-vs-plane strip shows at most this many decades above its lowest loss


# ---------------------------------------------------------------- serialization with stable ids

def panel_item(target_id: str, build: Callable[[], Model], first_id: int) -> dict[str, Any]:
    """Build one panel and serialize it with ids counted from ``first_id``.

    Each panel restarts the counter: Bokeh also spends ids on the byte buffers of
    the arrays it serializes, and spends two more the first time in a process, so
    one running count would shift every later panel's ids between runs.
    """
    set_next_bokeh_id(first_id)
    item = dict(json_item(build(), target_id))
    used = next_bokeh_id() - first_id
    if used > PANEL_IDS:
        raise ValueError(f"{target_id}: {used} Bokeh ids, more than the {PANEL_IDS} reserved per panel")
    return item


# ---------------------------------------------------------------- the names the page looks up

def landscape_names(method: str, views: Iterable[str], scales: Iterable[str]) -> dict[str, Any]:
    """A landscape's models the page switches or fills, by role: per view its image, the image's
    source (the page fills in the loss) and its iso-lines per colour scale; the title, the range
    note, the colour mapper and the colour bar."""
    scales = tuple(scales)
    return {"title": f"title-{method}", "note": f"note-{method}", "mapper": f"mapper-{method}",
            "bar": f"bar-{method}",
            "views": {view: {"image": f"image-{method}-{view}", "source": f"image-source-{method}-{view}",
                             "contours": {scale: f"contours-{method}-{view}-{scale}" for scale in scales}}
                      for view in views}}


def loss_names(runs: Iterable[str]) -> dict[str, Any]:
    """The loss plot's line source of each run, by run name: filled once."""
    return {"runs": {run: f"loss-{run}" for run in runs}}


def accuracy_names(runs: Iterable[str]) -> dict[str, Any]:
    """The accuracy plot's train and validation line sources, by run name: filled once."""
    runs = tuple(runs)
    return {"train": {run: f"train-acc-{run}" for run in runs}, "val": {run: f"val-acc-{run}" for run in runs}}


def gap_names(method: str) -> dict[str, str]:
    """The recorded-vs-plane strip's two line sources and title: refilled when the focused run changes."""
    return {"title": f"gap-title-{method}", "recorded": f"gap-recorded-{method}", "surface": f"gap-surface-{method}"}


def distance_names(method: str) -> dict[str, str]:
    """The distance strip's line source and title: refilled when the focused run changes."""
    return {"title": f"distance-title-{method}", "distance": f"distance-{method}"}


# ---------------------------------------------------------------- shared by every panel


def base_plot(title: str, height: int, x_range: tuple[float, float], y_range: tuple[float, float],
              left: int = 8, **options: Any) -> Any:
    """A quiet, fixed-range plot: no toolbar, no tools, thin rules, the article's type.

    ``left`` reserves room for the y axis, so stacked curves share one left edge.
    """
    plot = bokeh_figure(height=height, sizing_mode="stretch_width", tools="", toolbar_location=None,
                        x_range=Range1d(*x_range), y_range=Range1d(*y_range), title=title,
                        min_border_left=left, min_border_right=12, min_border_top=6, min_border_bottom=6,
                        outline_line_color=None, background_fill_color="#ffffff", border_fill_color=None,
                        **options)
    plot.title.text_font, plot.title.text_font_style = FONT, "normal"
    plot.title.text_font_size, plot.title.text_color = "13px", INK
    for axis in (plot.xaxis, plot.yaxis):
        axis.axis_label_text_font, axis.major_label_text_font = FONT, FONT
        axis.axis_label_text_font_size, axis.major_label_text_font_size = "11px", "10px"
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_color, axis.major_label_text_color = MUTED, MUTED
        axis.axis_line_color, axis.major_tick_line_color, axis.minor_tick_line_color = "#999999", "#999999", None
    plot.grid.grid_line_color = RULE
    return plot


def empty_source(name: str, *columns: str) -> ColumnDataSource:
    """A named source the page fills: shipping the data once, in the figure's runs, halves the file."""
    return ColumnDataSource(data={column: [] for column in columns}, name=name)


def legend_style(plot: Any, location: str = "top_right") -> None:
    """Small, borderless legends that do not hide the curves' ends."""
    plot.legend.location = location
    plot.legend.label_text_font, plot.legend.label_text_font_size = FONT, "10px"
    plot.legend.label_height = plot.legend.glyph_height = 12
    plot.legend.glyph_width, plot.legend.spacing, plot.legend.padding, plot.legend.margin = 18, 0, 4, 4
    plot.legend.background_fill_alpha, plot.legend.border_line_alpha = 0.8, 0.0


# ---------------------------------------------------------------- decision regions

def regions_plot(axes: AxesRecord, dataset: DatasetFile) -> Any:
    """The training points over a see-through frame: the page draws the focused run's regions beneath it.

    The regions change with the epoch, so they are the page's (a 100×100 ImageData
    put under this plot, scaled without smoothing); the x and y ranges are the
    edges of the region grid, so the page's pixels land on the cells they stand for.
    """
    x_edges, y_edges = grid_extent(axes.x), grid_extent(axes.y)
    plot = base_plot("Decision regions", HEIGHT_SQUARE, x_edges, y_edges)
    plot.background_fill_color = None  # the page's regions show through the frame
    plot.xaxis.axis_label, plot.yaxis.axis_label = "x₁ (standardized)", "x₂ (standardized)"
    plot.grid.visible = False
    points = dataset.train_x.astype(np.float64)
    for cls, colour in enumerate(class_colours(dataset)):
        mine = points[dataset.train_y == cls]
        # No outline: stroking 1083 circles doubles the cost of drawing them.
        plot.scatter(x=np.round(mine[:, 0], 3).astype(np.float32), y=np.round(mine[:, 1], 3).astype(np.float32),
                     size=4, fill_color=colour, line_color=None)
    return plot


# ---------------------------------------------------------------- landscapes

def landscape_plot(plane: PlaneRecord, scales: dict[str, Scale]) -> Any:
    """The loss on one plane on a log colour scale, every view and scale ready for the page to switch.

    Each view draws its own surface (computed over the extent it shows) as a named
    image with iso-lines per scale; the page shows one view and one scale at a time
    (the models :func:`landscape_names` names). The image holds
    the loss itself, so hovering reads it off; overflow (inf, NaN) takes the top
    colour. Hover also gives the plane coordinates and the accuracy there. The loss
    arrives packed in the figure's spec (packing.pack_loss: a third of the bytes)
    and the page fills the image with it: here it is a placeholder of the grid's shape.
    The runs' paths are the page's: they move with the epoch.
    """
    first, scale = plane.views[0], scales["figure"]
    names = landscape_names(plane.method, (view.name for view in plane.views), scales)
    x_edges, y_edges = grid_extent(first.surface.x), grid_extent(first.surface.y)
    plot = base_plot(view_title(plane, first), HEIGHT_LANDSCAPE, x_edges, y_edges)
    # True proportions need a frame as tall as it is wide (axes, title, note and colour bar take room too): with
    # a frame_height, Bokeh makes the plot as tall as the frame and those, and the page sets it to the width.
    plot.frame_height = FRAME_LANDSCAPE
    plot.title.name = names["title"]
    plot.xaxis.axis_label, plot.yaxis.axis_label = plane.axis_labels
    plot.grid.visible = False
    low, high = scale.loss_range
    mapper = LogColorMapper(palette=list(LANDSCAPE_PALETTE), low=low, high=high,
                            nan_color=LANDSCAPE_PALETTE[-1], name=names["mapper"])
    images = []
    for view in plane.views:
        surface, shown, named = view.surface, view is first, names["views"][view.name]
        x_edges, y_edges = grid_extent(surface.x), grid_extent(surface.y)
        accuracy = np.round(100 * surface.accuracy).astype(np.uint8)  # whole percent: hover text, not colour
        source = ColumnDataSource({"image": [np.full(accuracy.shape, np.nan, np.float32)], "accuracy": [accuracy]},
                                  name=named["source"])
        images.append(plot.image(image="image", source=source, x=x_edges[0], y=y_edges[0],
                                 dw=x_edges[1] - x_edges[0], dh=y_edges[1] - y_edges[0], color_mapper=mapper,
                                 name=named["image"], visible=shown))
        log_image = log_loss(surface.loss)
        for key, each in scales.items():
            plot.multi_line(xs="xs", ys="ys",
                            source=ColumnDataSource(contour_lines(surface.x, surface.y, log_image, each)),
                            line_color="#ffffff", line_alpha=0.75, line_width=0.8,
                            name=named["contours"][key], visible=shown and key == "figure")
    plot.add_tools(HoverTool(renderers=images, tooltips=[("a", "$x{0.[0000]}"), ("b", "$y{0.[0000]}"),
                                                         ("loss", "@image{0.[0000]}"),
                                                         ("accuracy", "@accuracy %")]))
    plot.add_layout(colour_bar(mapper, scale, names["bar"]), "right")
    note = range_note(first.surface.loss)
    plot.add_layout(Title(text=note, name=names["note"], text_font=FONT, text_font_size="10px",
                          text_font_style="normal", text_color=MUTED), "below")
    return plot


def log_ticks(plot: Any) -> None:
    """Plain-number ticks on a log axis (0.1, not 10⁻¹): readers compare them with the readout."""
    y = plot.y_range
    plot.yaxis.ticker = FixedTicker(ticks=decade_ticks(y.start, y.end))
    plot.yaxis.formatter = PrintfTickFormatter(format="%g")
    plot.ygrid.ticker = plot.yaxis.ticker


def colour_bar(mapper: LogColorMapper, scale: Scale, name: str) -> ColorBar:
    """The key to the landscape's shades, with at least three labelled losses."""
    return ColorBar(color_mapper=mapper, width=8, padding=4, margin=4, title="loss", name=name,
                    ticker=FixedTicker(ticks=list(scale.ticks)),
                    major_label_overrides=dict(zip(scale.ticks, scale.labels)),
                    title_text_font=FONT, title_text_font_size="10px", title_text_font_style="normal",
                    title_text_color=MUTED, major_label_text_font=FONT, major_label_text_font_size="9px",
                    major_label_text_color=MUTED, major_tick_line_color=None, bar_line_color=None,
                    label_standoff=4)


# ---------------------------------------------------------------- curves over the epochs

def hover_epochs(plot: Any, renderers: list[Any], value: tuple[str, str]) -> None:
    """Hovering a curve reads the epoch and the value there (Bokeh's own tool: no eval, so no CSP change)."""
    plot.add_tools(HoverTool(renderers=renderers, mode="vline", tooltips=[("epoch", "@x"), value]))


def loss_plot(runs: Sequence[RunRecord], seeds: SeedsRecord) -> Any:
    """Training loss of every run on a log axis, the other initializations faintly behind the first.

    The current point is an overlay of the page's. Other initializations are drawn
    thinned (at most FAINT_SEEDS of them, FAINT_POINTS epochs each), which is all a
    150-pixel panel can show of them.
    """
    others = faint_curves(seeds)
    plot = base_plot("Training loss", HEIGHT_CURVE, epoch_range(runs),
                     log_range([r.train_loss for r in runs] + others["ys"]), left=CURVE_LEFT, y_axis_type="log")
    log_ticks(plot)
    if others["xs"]:
        plot.multi_line(xs="xs", ys="ys", source=ColumnDataSource(others), line_color=MUTED, line_alpha=0.18,
                        line_width=1.0)
    lines, names = [], loss_names(run.name for run in runs)
    for index, run in enumerate(runs):
        colour, dash = run_style(index)
        legend = {"legend_label": run.name} if len(runs) > 1 else {}
        lines.append(plot.line("x", "y", source=empty_source(names["runs"][run.name], "x", "y"), line_color=colour,
                               line_dash=dash, line_width=1.6, **legend))
    if len(runs) > 1:
        legend_style(plot)
    hover_epochs(plot, lines, ("loss", "@y{0.[0000]}"))
    return plot


def faint_curves(seeds: SeedsRecord) -> dict[str, list[np.ndarray]]:
    """The loss of the first ``FAINT_SEEDS`` initializations but the drawn one (drawn in full), thinned for the page."""
    epochs = seeds.train_loss.shape[1]
    columns = np.unique(np.round(np.linspace(0, epochs - 1, min(FAINT_POINTS, epochs))).astype(np.int64))
    others = [s for s in range(seeds.count) if s != seeds.drawn][:FAINT_SEEDS]
    rows = seeds.train_loss[others][:, columns]
    x = columns.astype(np.float32)
    # Three digits: a faint curve needs no more. A null (non-finite) becomes NaN, which Bokeh draws as a gap.
    return {"xs": [x for _ in rows], "ys": [np.asarray(rounded(row, 3), np.float32) for row in rows]}


def accuracy_plot(runs: Sequence[RunRecord], classes: int) -> Any:
    """Train (solid) and validation (dotted) accuracy in percent, with chance level for reference."""
    plot = base_plot("Accuracy (%)", HEIGHT_CURVE, epoch_range(runs), (0.0, 102.0), left=CURVE_LEFT)
    plot.xaxis.axis_label = "epoch"
    plot.yaxis.ticker = [0, 50, 100]
    plot.add_layout(Span(location=100 / classes, dimension="width", line_color="#bbbbbb", line_width=1,
                         line_dash="dotted"))
    lines, names = [], accuracy_names(run.name for run in runs)
    for index, run in enumerate(runs):
        colour, _ = run_style(index)
        lines.append(plot.line("x", "y", source=empty_source(names["train"][run.name], "x", "y"), line_color=colour,
                               line_width=1.6, legend_label="train"))
        lines.append(plot.line("x", "y", source=empty_source(names["val"][run.name], "x", "y"), line_color=colour,
                               line_width=1.6, line_dash=[2, 2], line_alpha=0.8, legend_label="val"))
    hover_epochs(plot, lines, ("accuracy", "@y{0.0} %"))
    legend_style(plot, "bottom_right")
    plot.legend.orientation = "horizontal"
    return plot


def gap_plot(method: str, runs: Sequence[RunRecord]) -> Any:
    """The focused run's recorded loss against the surface's loss at its projection on the plane."""
    series = [r.train_loss for r in runs] + [r.path(method).surface_loss for r in runs]
    plot = base_plot(strip_title("gap", method, runs), HEIGHT_STRIP, epoch_range(runs),
                     log_range(series, cap_decades=GAP_DECADES), left=CURVE_LEFT, y_axis_type="log")
    names = gap_names(method)
    plot.title.name = names["title"]
    plot.xaxis.axis_label = "epoch"
    log_ticks(plot)
    lines = [plot.line("x", "y", source=empty_source(names["recorded"], "x", "y"), line_color=INK,
                       line_width=1.6, legend_label="recorded"),
             plot.line("x", "y", source=empty_source(names["surface"], "x", "y"), line_color="#D55E00",
                       line_width=1.8, line_dash="dashed", legend_label="on the plane")]
    hover_epochs(plot, lines, ("loss", "@y{0.[0000]}"))
    legend_style(plot)
    return plot


def distance_plot(method: str, runs: Sequence[RunRecord]) -> Any:
    """How far the focused run's weights are from the plane: what the landscape cannot show."""
    top = max(float(run.path(method).distance.max()) for run in runs)
    plot = base_plot(strip_title("distance", method, runs), HEIGHT_STRIP, epoch_range(runs), (0.0, top * 1.08 or 1.0),
                     left=CURVE_LEFT)
    names = distance_names(method)
    plot.title.name = names["title"]
    plot.xaxis.axis_label = "epoch"
    plot.yaxis.ticker.desired_num_ticks = 4
    line = plot.line("x", "y", source=empty_source(names["distance"], "x", "y"), line_color=INK, line_width=1.6)
    hover_epochs(plot, [line], ("distance", "@y{0.[000]}"))
    return plot


# ---------------------------------------------------------------- what the curves do not show: curvature, units

def sharpness_plot(runs: Sequence[RunRecord]) -> Any:
    """Each run's sharpness over its own threshold (log), the edge at 1, and for adaptive runs λ_max(H) over
    2/η: gradient descent's limit, which Adam is not held to."""
    measured = [run for run in runs if run.curvature is not None]
    ratios = [sharpness_ratio(run)[1] for run in measured]
    raw = [run.curvature.hessian * run.lr / 2 for run in measured if run.curvature.adaptive]
    plot = base_plot("Sharpness ÷ its edge of stability", HEIGHT_STRIP, epoch_range(runs),
                     log_range([*ratios, *raw, np.ones(1)]), left=CURVE_LEFT, y_axis_type="log")
    plot.xaxis.axis_label = "epoch"
    log_ticks(plot)
    plot.add_layout(Span(location=1.0, dimension="width", line_color=INK, line_width=1, line_dash="dashed"))
    lines = []
    for index, run in enumerate(runs):
        if run.curvature is None:
            continue
        colour, dash = run_style(index)
        epochs, ratio = sharpness_ratio(run)
        quantity = "λmax(P⁻¹H)" if run.curvature.adaptive else "λmax(H)"
        label = f"{run.name}: {quantity}" if len(runs) > 1 else quantity
        lines.append(plot.line(epochs, np.asarray(rounded(ratio, 4), np.float64), line_color=colour, line_dash=dash,
                               line_width=1.5, legend_label=label))
        if run.curvature.adaptive and len(runs) == 1:
            lines.append(plot.line(epochs, np.asarray(rounded(run.curvature.hessian * run.lr / 2, 4), np.float64),
                                   line_color=MUTED, line_width=1.2, line_dash="dotted",
                                   legend_label="λmax(H) ÷ 2/η, gradient descent's edge"))
    hover_epochs(plot, lines, ("÷ edge", "@y{0.[000]}"))
    legend_style(plot, "top_left")
    return plot


def units_plot(run: RunRecord, width: int) -> Any:
    """Live units of each hidden layer at every region frame of ``run``: a layer with none passes no signal.

    One rectangle per frame and layer, from the frame's epoch to the next one's; dark is every unit
    live, white none. Static: the page only marks the epoch over it.
    """
    live, frames = run.regions.live_units, run.regions.frames.astype(np.float64)
    depth = live.shape[1]
    ends = np.append(frames[1:], max(frames[-1], 1.0))
    left, right = np.repeat(frames, depth), np.repeat(ends, depth)
    layer = np.tile(np.arange(1, depth + 1, dtype=np.float64), len(frames))
    share = live.ravel().astype(np.float64) / width
    colour = [f"#{v:02x}{v:02x}{v:02x}" for v in np.round(255 - 200 * share).astype(int)]
    plot = base_plot(f"Live units per hidden layer ({run.name})", HEIGHT_STRIP, epoch_range([run]),
                     (0.5, depth + 0.5), left=CURVE_LEFT)
    plot.xaxis.axis_label, plot.yaxis.axis_label = "epoch", "layer"
    plot.yaxis.ticker = FixedTicker(ticks=sorted({1, depth, *range(5, depth + 1, 5)}))
    plot.grid.visible = False
    source = ColumnDataSource({"left": left, "right": right, "bottom": layer - 0.45, "top": layer + 0.45,
                               "colour": colour, "layer": layer.astype(int), "live": live.ravel().astype(int),
                               "epoch": np.repeat(frames, depth).astype(int)})
    quads = plot.quad(left="left", right="right", bottom="bottom", top="top", fill_color="colour", line_color=None,
                      source=source)
    plot.add_tools(HoverTool(renderers=[quads], tooltips=[("layer", "@layer"), ("from epoch", "@epoch"),
                                                          ("live units", f"@live of {width}")]))
    return plot
