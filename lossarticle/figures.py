"""Bokeh figures for the article: one script per experiment, driven by ``assets/lossarticle.js``.

Each experiment becomes ``site/figures/<slug>.js``, which holds a single call
``window.lossarticle.register("<slug>", spec)``. ``spec`` carries

* ``items``: one Bokeh ``json_item`` per panel (regions, each plane's landscape,
  loss, accuracy, and what each plane hides), so CSS, not Bokeh, decides the
  grid and a phone gets one column;
* ``layout``: rows of cells of item keys, the reading order on every screen;
* ``runs``: the per-epoch series the page needs to move things (rounded to
  4 significant digits) and the decision regions of each snapshot frame.

Nothing in a Bokeh document moves by itself: the page's CSP forbids the ``eval``
that Bokeh's ``CustomJS`` needs, so the page's own script finds these named
models and fills or moves them (``<run>`` is a run name, ``<plane>`` a method):

* sources filled once: ``loss-<run>``, ``train-acc-<run>``, ``val-acc-<run>``;
  on each change of the focused run: ``gap-recorded-<plane>``,
  ``gap-surface-<plane>``, ``distance-<plane>`` and the titles
  ``gap-title-<plane>``, ``distance-title-<plane>``;
* sources moved every epoch: ``regions-image``, ``path-<plane>-<run>``,
  ``now-<plane>``. The epoch markers on the curves and the current point on the
  loss curve are HTML overlays the page places with each plot's own scales: as
  glyphs they cost a repaint of four plots per step.

Model ids come from Bokeh's counter, which :func:`figure_script` restarts at
``id_base + PANEL_IDS * panel index``: a script is byte-stable, and figures whose
``id_base`` differ by ``FIGURE_IDS`` share no id (see :func:`figure_id_base`).
"""
from __future__ import annotations

import base64
import gzip
import json
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import contourpy
import numpy as np
from bokeh.embed import json_item
from bokeh.models import (ColorBar, ColumnDataSource, FixedTicker, LinearColorMapper, Model, PrintfTickFormatter,
                          Range1d, Span)
from bokeh.plotting import figure as bokeh_figure
from bokeh.util import serialization as bokeh_serialization

SPEC_VERSION = 1  # bumped when the page script must change with the spec
PANEL_IDS = 400  # Bokeh ids reserved per panel (a landscape uses about 70)
MAX_PANELS = 16  # three planes make 12
FIGURE_IDS = PANEL_IDS * MAX_PANELS  # id_base values of two figures on one page must differ by this much
CLASS_COLOURS = ("#E69F00", "#56B4E9", "#009E73")  # Okabe–Ito: orange, sky blue, bluish green
RUN_STYLES = (("#D55E00", "solid"), ("#0072B2", "dashed"), ("#CC79A7", "dotted"), ("#000000", "dashdot"))
SIGNIFICANT = 4  # digits kept for curves and paths: below what a 300-pixel axis can show
CONFIDENCE_BITS = 5  # 32 shades per class; 8 bits gzip three times larger for no visible change
CLIP_DECADES = 3.0  # colour scale spans at most this many decades above the lowest loss
CONTOUR_LEVELS = 6
FONT = "Helvetica, Arial, sans-serif"
INK, MUTED, RULE = "#222222", "#666666", "#e4e4e4"
LANDSCAPE_PALETTE = tuple(f"#{v:02x}{v:02x}{min(v + 6, 255):02x}" for v in np.linspace(250, 70, 128).astype(int))
PLANE_TITLES = {"pca": "PCA of the path", "random": "Random directions", "init-final": "Initial → final weights"}
HEIGHT_SQUARE, HEIGHT_CURVE, HEIGHT_STRIP = 300, 150, 170
CURVE_LEFT = 44  # pixels left of every time axis: stacked curves line up epoch for epoch
GAP_TITLE, DISTANCE_TITLE = "Loss: recorded vs. read off the plane", "Distance from the plane"
THIN_NBSP = "\u202f"
# Bokeh repaints only a plot's overlay layer when nothing else changed: everything that moves
# with the epoch lives there, so a slider step never redraws images, curves or axes.
MOVING = "overlay"


# ---------------------------------------------------------------- public API

def figure_script(slug: str, payload: dict[str, Any], dataset: dict[str, Any], id_base: int) -> str:
    """The text of ``site/figures/<slug>.js``: one ``register`` call, safe inside any HTML page."""
    spec = figure_spec(slug, payload, dataset, id_base)
    text = json.dumps(spec, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    # No "</script>" or "<!--" can ever close or confuse the element that loads this file.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.lossarticle.register({json.dumps(slug)}, {text});\n"


def figure_context(slug: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What ``templates/figure.html`` needs besides slug, number, caption, src and download."""
    runs = payload["runs"]
    last = max_epoch(payload)
    return {
        "max_epoch": last,
        "runs": [{"name": r["name"], "label": run_label(r), "epochs": int(r["epochs"]),
                  "diverged": bool(r["diverged"])} for r in runs],
        "multi_run": len(runs) > 1,
        "planes": [{"method": m, "title": plane_title(m), "axis_labels": list(payload["planes"][m]["axis_labels"])}
                   for m in plane_order(payload)],
        "readout": readout_text(runs[0], last, last, len(runs) > 1),
        "notes": divergence_notes(runs),
        "layout_class": f"la-plots--{layout_name(payload)}",
    }


# ---------------------------------------------------------------- words shared with the page

def max_epoch(payload: dict[str, Any]) -> int:
    """The slider's end: the longest run, so a diverged single run stops the slider where it stopped."""
    return max(int(run["epochs"]) for run in payload["runs"])


def run_label(run: dict[str, Any]) -> str:
    """``adam · lr 0.005``: the name readers pick in the run menu."""
    return f"{run['name']} · lr {run['lr']:g}"


def plane_title(method: str) -> str:
    """A reader's name for a direction method (closed set: an unknown one is a bug upstream)."""
    if method in PLANE_TITLES:
        return PLANE_TITLES[method]
    raise ValueError(f"unknown plane {method!r} (known: {', '.join(PLANE_TITLES)})")


def divergence_notes(runs: Sequence[dict[str, Any]]) -> list[str]:
    """One sentence per diverged run, named when there are several runs."""
    notes = []
    for run in runs:
        if run["diverged"]:
            who = f"{run['name']}: t" if len(runs) > 1 else "T"
            notes.append(f"{who}raining diverged at epoch {int(run['epochs'])}.")
    return notes


def format_loss(loss: float) -> str:
    """Two significant digits, as the page's ``formatLoss`` writes them (0.41, 0.0028, 3.1e-4)."""
    if not math.isfinite(loss):
        return "∞" if loss > 0 else "—"
    if loss >= 0.001:
        return f"{loss:.{max(0, 1 - math.floor(math.log10(loss)))}f}"
    mantissa, exponent = f"{loss:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_percent(fraction: float) -> str:
    """Whole percent with a thin no-break space, rounding halves up like ``Math.round``."""
    if not math.isfinite(fraction):
        return "—"
    return f"{math.floor(100 * fraction + 0.5)}{THIN_NBSP}%"


def readout_text(run: dict[str, Any], epoch: int, last: int, named: bool) -> str:
    """``epoch 37 / 300 · loss 0.41 · train 88 % · val 86 %``; the page's ``readout`` mirrors it."""
    parts = [f"epoch {epoch} / {last}"] + ([run["name"]] if named else [])
    stopped = int(run["epochs"])
    if epoch > stopped:
        return " · ".join(parts + [f"diverged at epoch {stopped}"])
    # Format the values the page gets (4 significant digits), so both write the same text.
    loss, train, val = (math.nan if v is None else v for v in
                        rounded([run["train_loss"][epoch], run["train_acc"][epoch], run["val_acc"][epoch]]))
    parts += [f"loss {format_loss(loss)}", f"train {format_percent(train)}", f"val {format_percent(val)}"]
    if run["diverged"] and epoch == stopped:
        parts.append(f"training diverged at epoch {stopped}")
    return " · ".join(parts)


# ---------------------------------------------------------------- the spec

def figure_spec(slug: str, payload: dict[str, Any], dataset: dict[str, Any], id_base: int) -> dict[str, Any]:
    """Everything the page script needs for one experiment, with Bokeh ids counted from ``id_base``."""
    if id_base < 1:
        raise ValueError(f"id_base={id_base}: must be a positive integer")
    planes = plane_order(payload)
    builders = panel_builders(payload, dataset)
    if len(builders) > MAX_PANELS:
        raise ValueError(f"{slug}: {len(builders)} panels, more than the {MAX_PANELS} an id range holds")
    items = {key: panel_item(f"fig-{slug}-{key}", build, id_base + index * PANEL_IDS)
             for index, (key, build) in enumerate(builders.items())}
    data = canonical({
        "version": SPEC_VERSION, "slug": slug, "max_epoch": max_epoch(payload), "planes": planes,
        "classes": list(CLASS_COLOURS[:class_count(dataset)]), "confidence_bits": CONFIDENCE_BITS,
        "region_shape": [len(payload["regions_axes"]["y"]), len(payload["regions_axes"]["x"])],
        "layout": layout_rows(payload), "layout_name": layout_name(payload),
        "titles": {"gap": GAP_TITLE, "distance": DISTANCE_TITLE},
        "runs": [run_data(run, index, planes) for index, run in enumerate(payload["runs"])],
    })
    data["items"] = items  # Bokeh's own key order is left alone: it is already deterministic
    return {key: data[key] for key in sorted(data)}


def figure_id_base(index: int) -> int:
    """A safe ``id_base`` for the ``index``-th figure of a page: ranges of ``FIGURE_IDS`` never overlap."""
    return 1000 + index * FIGURE_IDS


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


def set_next_bokeh_id(first_id: int) -> None:
    """Make the next Bokeh model id ``p<first_id>`` (Bokeh's simple ids are a process-wide counter)."""
    lock: threading.Lock = bokeh_serialization._simple_id_lock
    with lock:
        bokeh_serialization._simple_id = first_id - 1


def next_bokeh_id() -> int:
    """The number Bokeh's next simple id will carry."""
    return int(bokeh_serialization._simple_id) + 1


def canonical(node: Any) -> Any:
    """Sorted dict keys all the way down, so the JSON text never depends on insertion order."""
    if isinstance(node, dict):
        return {key: canonical(node[key]) for key in sorted(node)}
    if isinstance(node, list):
        return [canonical(item) for item in node]
    return node


def class_count(dataset: dict[str, Any]) -> int:
    """Classes in the training labels; the palette has a colour for each of at most three."""
    count = int(np.max(dataset["train_y"])) + 1
    if count > len(CLASS_COLOURS):
        raise ValueError(f"{count} classes, but only {len(CLASS_COLOURS)} class colours")
    return count


def rounded(values: Iterable[float], digits: int = SIGNIFICANT) -> list[float | None]:
    """Floats to ``digits`` significant digits; non-finite become null (JSON has no NaN)."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        out.append(float(f"{v:.{digits}g}") if math.isfinite(v) else None)
    return out


def encode_regions(label: np.ndarray, confidence: np.ndarray) -> str:
    """One byte per pixel, ``label << bits | confidence >> (8 - bits)``, gzipped then base64.

    gzip, not zlib, because BokehJS already ships a gunzip the page can reuse;
    ``mtime=1`` keeps the header fixed (mtime=0 lets Python 3.11 write the host's OS byte).
    """
    if int(label.max(initial=0)) >= 1 << (8 - CONFIDENCE_BITS):
        raise ValueError(f"labels up to {int(label.max())} do not fit beside {CONFIDENCE_BITS} confidence bits")
    codes = (label.astype(np.uint8) << CONFIDENCE_BITS) | (confidence.astype(np.uint8) >> (8 - CONFIDENCE_BITS))
    raw = np.ascontiguousarray(codes, dtype=np.uint8).tobytes()
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=1)).decode("ascii")


def run_data(run: dict[str, Any], index: int, planes: Sequence[str]) -> dict[str, Any]:
    """Per-epoch series of one run (index = epoch) and its region frames, for the page to animate."""
    colour, dash = run_style(index)
    regions = run["regions"]
    return {
        "name": run["name"], "label": run_label(run), "colour": colour, "dash": dash,
        "epochs": int(run["epochs"]), "diverged": bool(run["diverged"]),
        "loss": rounded(run["train_loss"]), "train_acc": rounded(run["train_acc"]),
        "val_acc": rounded(run["val_acc"]),
        "frames": [int(f) for f in regions["frames"]],
        "regions": encode_regions(regions["label"], regions["confidence"]),
        "paths": {plane: {"x": rounded(run["paths"][plane]["coords"][:, 0]),
                          "y": rounded(run["paths"][plane]["coords"][:, 1]),
                          "surface_loss": rounded(run["paths"][plane]["surface_loss"]),
                          "distance": rounded(run["paths"][plane]["distance"])} for plane in planes},
    }


def run_style(index: int) -> tuple[str, str]:
    """Colour and dash of the ``index``-th run: both differ, so the runs survive greyscale printing."""
    return RUN_STYLES[index % len(RUN_STYLES)]


# ---------------------------------------------------------------- layout

def layout_name(payload: dict[str, Any]) -> str:
    """``planes`` when several planes sit side by side, else ``single``; a CSS modifier."""
    return "planes" if len(payload["planes"]) > 1 else "single"


def plane_order(payload: dict[str, Any]) -> list[str]:
    """Planes in the order the experiment lists them (the JSON file sorts its keys alphabetically)."""
    listed = [m for m in payload.get("config", {}).get("planes", ()) if m in payload["planes"]]
    return listed + sorted(m for m in payload["planes"] if m not in listed)


def layout_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a CSS grid, each cell a stack of panel keys; also the phone's one-column reading order."""
    planes = plane_order(payload)

    def row(*cells: tuple[int, list[str]]) -> dict[str, Any]:
        return {"columns": sum(span for span, _ in cells), "cells": [{"span": s, "keys": k} for s, k in cells]}

    if len(planes) > 1:
        return [row(*((1, [f"landscape-{m}", f"gap-{m}", f"distance-{m}"]) for m in planes)),
                row((1, ["regions"]), (len(planes) - 1, ["loss", "accuracy"]))]
    plane = planes[0]
    return [row((1, ["regions"]), (1, [f"landscape-{plane}"]), (1, ["loss", "accuracy"])),
            row((1, [f"gap-{plane}"]), (1, [f"distance-{plane}"]))]


def panel_builders(payload: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Callable[[], Model]]:
    """How to build every Bokeh plot of the figure, keyed as in :func:`layout_rows`, in a fixed order."""
    runs, planes = payload["runs"], plane_order(payload)
    scale = colour_scale([payload["planes"][m]["surface"]["loss"] for m in planes])
    builders: dict[str, Callable[[], Model]] = {"regions": partial(regions_plot, payload, dataset)}
    for method in planes:
        builders[f"landscape-{method}"] = partial(landscape_plot, method, payload["planes"][method], runs, scale)
    builders["loss"] = partial(loss_plot, runs)
    builders["accuracy"] = partial(accuracy_plot, runs, class_count(dataset))
    for method in planes:
        builders[f"gap-{method}"] = partial(gap_plot, method, runs)
        builders[f"distance-{method}"] = partial(distance_plot, method, runs)
    return builders


# ---------------------------------------------------------------- plots

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
    """A named source the page fills: shipping the data once, in ``runs``, halves the file."""
    return ColumnDataSource(data={column: [] for column in columns}, name=name)


def log_range(values: Iterable[np.ndarray], cap_decades: float | None = None) -> tuple[float, float]:
    """A log-axis range over the positive finite values, widened by a fifth of a decade each side."""
    flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    good = flat[np.isfinite(flat) & (flat > 0)]
    if good.size == 0:
        return 0.1, 10.0
    lo, hi = float(good.min()), float(good.max())
    if cap_decades is not None:
        hi = min(hi, lo * 10 ** cap_decades)
    return lo / 10 ** 0.2, hi * 10 ** 0.2


def legend_style(plot: Any, location: str = "top_right") -> None:
    """Small, borderless legends that do not hide the curves' ends."""
    plot.legend.location = location
    plot.legend.label_text_font, plot.legend.label_text_font_size = FONT, "10px"
    plot.legend.label_height = plot.legend.glyph_height = 12
    plot.legend.glyph_width, plot.legend.spacing, plot.legend.padding, plot.legend.margin = 18, 0, 4, 4
    plot.legend.background_fill_alpha, plot.legend.border_line_alpha = 0.8, 0.0


def grid_extent(axis: np.ndarray) -> tuple[float, float]:
    """Left and right edges of an image whose pixel centres are ``axis`` (uniform spacing)."""
    step = float(axis[1] - axis[0]) if len(axis) > 1 else 1.0
    return float(axis[0]) - step / 2, float(axis[-1]) + step / 2


def regions_plot(payload: dict[str, Any], dataset: dict[str, Any]) -> Any:
    """Decision regions of the focused run, filled by the page, under the training points."""
    x_edges, y_edges = grid_extent(payload["regions_axes"]["x"]), grid_extent(payload["regions_axes"]["y"])
    plot = base_plot("Decision regions", HEIGHT_SQUARE, x_edges, y_edges)
    plot.xaxis.axis_label, plot.yaxis.axis_label = "x₁ (standardized)", "x₂ (standardized)"
    plot.grid.visible = False
    plot.image_rgba(image="image", x=x_edges[0], y=y_edges[0], dw=x_edges[1] - x_edges[0],
                    dh=y_edges[1] - y_edges[0], source=empty_source("regions-image", "image"), level=MOVING)
    points, labels = np.asarray(dataset["train_x"], dtype=np.float64), np.asarray(dataset["train_y"])
    for cls, colour in enumerate(CLASS_COLOURS[:class_count(dataset)]):
        mine = points[labels == cls]
        # No outline: stroking 1083 circles doubles the cost of every frame that changes the regions.
        plot.scatter(x=np.round(mine[:, 0], 3).astype(np.float32), y=np.round(mine[:, 1], 3).astype(np.float32),
                     size=4, fill_color=colour, line_color=None, level=MOVING)  # must stay above the image
    return plot


def colour_scale(losses: Sequence[np.ndarray]) -> tuple[float, float]:
    """log10 range shared by a figure's planes, so one colour is one loss in every landscape.

    The top is clipped to ``CLIP_DECADES`` above the lowest loss: a surface that
    overflows somewhere must not squash the interesting valley into one colour.
    """
    logs = [log_loss(loss) for loss in losses]
    finite = np.concatenate([z[np.isfinite(z)] for z in logs]) if logs else np.array([])
    if finite.size == 0:
        return 0.0, 1.0
    low = float(finite.min())
    high = min(float(finite.max()), low + CLIP_DECADES)
    return low, high if high > low else low + 1.0


def log_loss(loss: np.ndarray) -> np.ndarray:
    """log10 of a loss grid, with NaN and +inf as +inf (overflowed) and 0 as -inf."""
    loss = np.asarray(loss, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(loss > 0, np.log10(np.where(loss > 0, loss, 1.0)), -np.inf)
    logs[np.isnan(loss) | np.isposinf(loss)] = np.inf
    return logs


def clipped_log_loss(loss: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    """The image a landscape draws: log10 loss inside ``scale``; overflow and huge values take the top."""
    return np.round(np.clip(log_loss(loss), *scale), 3).astype(np.float32)


def contour_lines(x: np.ndarray, y: np.ndarray, z: np.ndarray, scale: tuple[float, float]) -> dict[str, list]:
    """Iso-loss lines at evenly spaced log levels inside the colour scale, every other vertex kept."""
    generator = contourpy.contour_generator(np.asarray(x, np.float64), np.asarray(y, np.float64),
                                            np.asarray(z, np.float64), line_type=contourpy.LineType.Separate)
    xs, ys = [], []
    for level in np.linspace(*scale, CONTOUR_LEVELS + 2)[1:-1]:
        for line in generator.lines(float(level)):
            thinned = np.vstack([line[:-1:2], line[-1:]])  # 101-point grids: halving is invisible
            xs.append(rounded(thinned[:, 0]))
            ys.append(rounded(thinned[:, 1]))
    return {"xs": xs, "ys": ys}


def landscape_plot(method: str, plane: dict[str, Any], runs: Sequence[dict[str, Any]],
                   scale: tuple[float, float]) -> Any:
    """log10 loss on one plane, iso-lines, and each run's path so far (paths filled by the page)."""
    surface = plane["surface"]
    x, y = np.asarray(surface["x"]), np.asarray(surface["y"])
    x_edges, y_edges = grid_extent(x), grid_extent(y)
    plot = base_plot(plane_title(method), HEIGHT_SQUARE, x_edges, y_edges)
    plot.xaxis.axis_label, plot.yaxis.axis_label = plane["axis_labels"]
    plot.grid.visible = False
    image = clipped_log_loss(surface["loss"], scale)
    mapper = LinearColorMapper(palette=list(LANDSCAPE_PALETTE), low=round(scale[0], 4), high=round(scale[1], 4))
    plot.image(image=[image], x=x_edges[0], y=y_edges[0], dw=x_edges[1] - x_edges[0],
               dh=y_edges[1] - y_edges[0], color_mapper=mapper)
    plot.multi_line(xs="xs", ys="ys", source=ColumnDataSource(contour_lines(x, y, image, scale)),
                    line_color="#ffffff", line_alpha=0.75, line_width=0.8)
    for index, run in enumerate(runs):
        colour, dash = run_style(index)
        plot.line("x", "y", source=empty_source(f"path-{method}-{run['name']}", "x", "y"),
                  line_color=colour, line_dash=dash, line_width=2.2, level=MOVING)
    plot.scatter("x", "y", source=empty_source(f"now-{method}", "x", "y", "colour"), size=9,
                 fill_color="colour", line_color="#ffffff", line_width=1.5, level=MOVING)
    plot.add_layout(colour_bar(mapper, scale), "right")
    return plot


def nice_values(lo: float, hi: float, mantissas: Sequence[int]) -> list[float]:
    """1-2-5 style values between ``lo`` and ``hi`` (both > 0), ascending."""
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return [float(f"{m}e{k}") for k in decades for m in mantissas if lo <= float(f"{m}e{k}") <= hi]


def loss_ticks(lo: float, hi: float, wanted: int = 3) -> list[float]:
    """Tick values for a log loss axis: powers of ten when they are enough, else 1-2-5, else 1-2-3-5."""
    for mantissas in ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5, 7)):
        ticks = nice_values(lo, hi, mantissas)
        if len(ticks) >= wanted:
            return ticks
    return ticks


def log_ticks(plot: Any) -> None:
    """Plain-number ticks on a log axis (0.1, not 10⁻¹): readers compare them with the readout."""
    y = plot.y_range
    plot.yaxis.ticker = FixedTicker(ticks=loss_ticks(y.start, y.end))
    plot.yaxis.formatter = PrintfTickFormatter(format="%g")
    plot.ygrid.ticker = plot.yaxis.ticker


def colour_bar(mapper: LinearColorMapper, scale: tuple[float, float]) -> ColorBar:
    """The key to the landscape's shades, labelled in loss, not log loss; the top shade also means 'higher'."""
    values = loss_ticks(10 ** scale[0], 10 ** scale[1], wanted=4)
    ticks = [round(math.log10(v), 6) for v in values]
    bar = ColorBar(color_mapper=mapper, width=8, padding=4, margin=4, title="loss",
                   ticker=FixedTicker(ticks=ticks), major_label_overrides={t: f"{v:g}" for t, v in zip(ticks, values)},
                   title_text_font=FONT, title_text_font_size="10px", title_text_font_style="normal",
                   title_text_color=MUTED, major_label_text_font=FONT, major_label_text_font_size="9px",
                   major_label_text_color=MUTED, major_tick_line_color=None, bar_line_color=None,
                   label_standoff=4)
    return bar


def epoch_range(runs: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """The shared x range of every curve: epoch 0 to the longest run."""
    return 0.0, float(max(int(run["epochs"]) for run in runs)) or 1.0


def loss_plot(runs: Sequence[dict[str, Any]]) -> Any:
    """Training loss of every run on a log axis, a dot at the current epoch of each."""
    plot = base_plot("Training loss", HEIGHT_CURVE, epoch_range(runs),
                     log_range([r["train_loss"] for r in runs]), left=CURVE_LEFT, y_axis_type="log")
    log_ticks(plot)
    for index, run in enumerate(runs):
        colour, dash = run_style(index)
        legend = {"legend_label": run["name"]} if len(runs) > 1 else {}
        plot.line("x", "y", source=empty_source(f"loss-{run['name']}", "x", "y"), line_color=colour,
                  line_dash=dash, line_width=1.6, **legend)
    if len(runs) > 1:
        legend_style(plot)
    return plot


def accuracy_plot(runs: Sequence[dict[str, Any]], classes: int) -> Any:
    """Train (solid) and validation (dotted) accuracy in percent, with chance level for reference."""
    plot = base_plot("Accuracy (%)", HEIGHT_CURVE, epoch_range(runs), (0.0, 102.0), left=CURVE_LEFT)
    plot.xaxis.axis_label = "epoch"
    plot.yaxis.ticker = [0, 50, 100]
    plot.add_layout(Span(location=100 / classes, dimension="width", line_color="#bbbbbb", line_width=1,
                         line_dash="dotted"))
    for index, run in enumerate(runs):
        colour, _ = run_style(index)
        plot.line("x", "y", source=empty_source(f"train-acc-{run['name']}", "x", "y"), line_color=colour,
                  line_width=1.6, legend_label="train")
        plot.line("x", "y", source=empty_source(f"val-acc-{run['name']}", "x", "y"), line_color=colour,
                  line_width=1.6, line_dash=[2, 2], line_alpha=0.8, legend_label="val")
    legend_style(plot, "bottom_right")
    plot.legend.orientation = "horizontal"
    return plot


def focus_title(text: str, runs: Sequence[dict[str, Any]]) -> str:
    """A panel title that names the focused run when there are several (the page rewrites it)."""
    return f"{text} ({runs[0]['name']})" if len(runs) > 1 else text


def gap_plot(method: str, runs: Sequence[dict[str, Any]]) -> Any:
    """The focused run's recorded loss against the surface's loss at its projection on the plane."""
    series = [r["train_loss"] for r in runs] + [r["paths"][method]["surface_loss"] for r in runs]
    plot = base_plot(focus_title(GAP_TITLE, runs), HEIGHT_STRIP, epoch_range(runs),
                     log_range(series, cap_decades=CLIP_DECADES), left=CURVE_LEFT, y_axis_type="log")
    plot.title.name = f"gap-title-{method}"
    plot.xaxis.axis_label = "epoch"
    log_ticks(plot)
    plot.line("x", "y", source=empty_source(f"gap-recorded-{method}", "x", "y"), line_color=INK,
              line_width=1.6, legend_label="recorded")
    plot.line("x", "y", source=empty_source(f"gap-surface-{method}", "x", "y"), line_color="#D55E00",
              line_width=1.8, line_dash="dashed", legend_label="on the plane")
    legend_style(plot)
    return plot


def distance_plot(method: str, runs: Sequence[dict[str, Any]]) -> Any:
    """How far the focused run's weights are from the plane: what the landscape cannot show."""
    top = max(float(np.nanmax(np.where(np.isfinite(d), d, np.nan))) if np.isfinite(d).any() else 0.0
              for d in (np.asarray(r["paths"][method]["distance"], np.float64) for r in runs))
    plot = base_plot(focus_title(DISTANCE_TITLE, runs), HEIGHT_STRIP, epoch_range(runs), (0.0, top * 1.08 or 1.0),
                     left=CURVE_LEFT)
    plot.title.name = f"distance-title-{method}"
    plot.xaxis.axis_label = "epoch"
    plot.yaxis.ticker.desired_num_ticks = 4
    plot.line("x", "y", source=empty_source(f"distance-{method}", "x", "y"), line_color=INK, line_width=1.6)
    return plot
