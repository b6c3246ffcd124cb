"""What the page animates: one script per experiment, plus what the figure templates show around it.

Each experiment becomes ``site/figures/<slug>.js``, a single call
``window.lossarticle.register("<slug>", spec)``. ``spec`` carries

* ``items``: one Bokeh ``json_item`` per panel (``panels.py`` draws them), so
  CSS, not Bokeh, decides the grid and a phone gets one column;
* ``layout``: rows of cells, the reading order on every screen; each cell a stack of
  panels, each panel ``{key, kind, plane, epoch_axis, models}``: its key in ``items``,
  what the page does with it, the plane it shows, whether its x axis is the epoch, and
  the name of every Bokeh model the page fills or switches in it, by role (``panels.py``'s
  ``*_names``). This is the one contract between the languages: the page reads these
  names and never spells one;
* ``first``: the panels the figure needs to be interactive (the page embeds the
  others right after);
* ``runs``: the per-epoch series the page moves (paths rounded to 4 significant
  digits; the loss and accuracies the readout prints kept at float32 precision, so
  it prints what the prose prints) and the decision regions of each snapshot
  frame, packed.

The page formats every number it shows (``templates/assets/js/format.js``); nothing
here pre-formats a readout.
"""
from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from bokeh.models import Model

from lossarticle import panels
from lossarticle.configs import Experiment
from lossarticle.errors import ConfigError
from lossarticle.scales import Scale, figure_scale, log_loss, range_note
from lossarticle.summaries import num, pct
from lossarticle.schema import DatasetFile, ExperimentFile, PlaneRecord, RunRecord

SPEC_VERSION = 5  # bumped when the page script must change with the spec
MAX_PANELS = 16  # three planes make 12
FIGURE_IDS = panels.PANEL_IDS * MAX_PANELS  # id_base values of two figures on one page must differ by this much
CONFIDENCE_BITS = 4  # 16 shades per class; 5 bits made the figure scripts 18 % larger (gzip), 8 bits far more
MAX_EXPLORER_WIDTHS = 6  # columns figures.css lays out
OVERFLOW_CODE = 65535  # pack_loss's code for a loss that overflowed


# ---------------------------------------------------------------- the script

def figure_script(document: ExperimentFile, dataset: DatasetFile, id_base: int, shared: Scale) -> str:
    """The text of ``site/figures/<slug>.js``: one ``register`` call, safe inside any HTML page.

    ``shared`` is the article-wide colour scale the reader can switch the landscapes to.
    """
    spec = figure_spec(document, dataset, id_base, shared)
    text = json.dumps(spec, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    # No "</script>" or "<!--" can ever close or confuse the element that loads this file.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.lossarticle.register({json.dumps(document.slug)}, {text});\n"


def figure_spec(document: ExperimentFile, dataset: DatasetFile, id_base: int, shared: Scale) -> dict[str, Any]:
    """Everything the page script needs for one experiment, with Bokeh ids counted from ``id_base``."""
    if id_base < 1:
        raise ValueError(f"id_base={id_base}: must be a positive integer")
    slug, planes = document.slug, [p.method for p in document.planes]
    scales = {"figure": figure_scale_of(document), "shared": shared}
    found = figure_panels(document, dataset, scales)
    if len(found) > MAX_PANELS:
        raise ValueError(f"{slug}: {len(found)} panels, more than the {MAX_PANELS} an id range holds")
    items = {key: panels.panel_item(f"fig-{slug}-{key}", panel.build, id_base + index * panels.PANEL_IDS)
             for index, (key, panel) in enumerate(found.items())}
    data = canonical({
        "version": SPEC_VERSION, "slug": slug, "max_epoch": document.max_epoch, "planes": planes,
        "classes": list(panels.class_colours(dataset)), "confidence_bits": CONFIDENCE_BITS,
        "region_shape": [len(document.region_axes.y), len(document.region_axes.x)],
        "layout": spec_layout(layout_rows(planes), found), "layout_name": layout_name(planes),
        "first": first_panels(planes),
        "titles": {"gap": panels.GAP_TITLE, "distance": panels.DISTANCE_TITLE},
        "runs": [run_data(run, index) for index, run in enumerate(document.runs)],
        "landscapes": {plane.method: landscape_views(plane) for plane in document.planes},
        "scales": {key: {"low": scale.loss_range[0], "high": scale.loss_range[1], "ticks": list(scale.ticks),
                         "labels": list(scale.labels)} for key, scale in scales.items()},
    })
    data["items"] = items  # Bokeh's own key order is left alone: it is already deterministic
    return {key: data[key] for key in sorted(data)}


def figure_scale_of(document: ExperimentFile) -> Scale:
    """The colour scale of one figure: every view of every plane, so one colour is one loss throughout."""
    return figure_scale([view.surface.loss for plane in document.planes for view in plane.views])


def landscape_views(plane: PlaneRecord) -> list[dict[str, Any]]:
    """What the page switches when the reader changes a landscape's proportions, and each view's loss, packed."""
    return [{"name": view.name, "title": panels.view_title(plane, view), "note": range_note(view.surface.loss),
             "x_range": list(panels.grid_extent(view.surface.x)), "y_range": list(panels.grid_extent(view.surface.y)),
             "loss": pack_loss(view.surface.loss)} for view in plane.views]


def pack_loss(loss: np.ndarray) -> dict[str, Any]:
    """A loss grid as 16-bit steps of log10(loss) between its own extremes, about a third of float32's bytes.

    Code 65535 is overflow (inf or NaN); 0…65534 span [low, high] of the finite log losses, a step of
    (high − low)/65534 decades, so a value is off by at most half a step: 0.01 % of the loss on a map
    spanning 6 decades, far below one of the 128 colours or the 4 digits the hover shows. Each row is stored as
    differences from its left neighbour (mod 2¹⁶, the first as is), low bytes then high bytes,
    gzipped: a smooth surface leaves mostly small differences, which compress.
    """
    logs = log_loss(loss)
    finite = np.isfinite(logs)
    low = float(logs[finite].min()) if finite.any() else 0.0
    high = float(logs[finite].max()) if finite.any() else 1.0
    span = high - low if high > low else 1.0
    codes = np.full(logs.shape, OVERFLOW_CODE, np.uint16)
    codes[finite] = np.round((logs[finite] - low) / span * (OVERFLOW_CODE - 1)).astype(np.uint16)
    steps = codes.copy()
    steps[:, 1:] = codes[:, 1:] - codes[:, :-1]  # uint16 arithmetic wraps: mod 2¹⁶, as the page undoes it
    planes = np.concatenate([(steps & 0xFF).astype(np.uint8).ravel(), (steps >> 8).astype(np.uint8).ravel()])
    return {"shape": list(codes.shape), "low": low, "high": high,
            "data": base64.b64encode(gzip.compress(planes.tobytes(), compresslevel=9, mtime=1)).decode("ascii")}


def unpack_loss(packed: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`pack_loss` (what the page does), for tests and notebooks."""
    ny, nx = packed["shape"]
    raw = np.frombuffer(gzip.decompress(base64.b64decode(packed["data"])), np.uint8)
    steps = raw[:ny * nx].astype(np.uint16) | (raw[ny * nx:].astype(np.uint16) << 8)
    codes = np.cumsum(steps.reshape(ny, nx), axis=1, dtype=np.uint16)  # wraps mod 2¹⁶
    loss = 10.0 ** (packed["low"] + codes / (OVERFLOW_CODE - 1) * (packed["high"] - packed["low"]))
    return np.where(codes == OVERFLOW_CODE, np.inf, loss)


def figure_id_base(index: int) -> int:
    """A safe ``id_base`` for the ``index``-th figure of a page: ranges of ``FIGURE_IDS`` never overlap."""
    return 1000 + index * FIGURE_IDS


def canonical(node: Any) -> Any:
    """Sorted dict keys all the way down, so the JSON text never depends on insertion order."""
    if isinstance(node, dict):
        return {key: canonical(node[key]) for key in sorted(node)}
    if isinstance(node, list):
        return [canonical(item) for item in node]
    return node


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


def float32_values(values: np.ndarray) -> list[float | None]:
    """Each float32 as the shortest decimal that reads back as it; non-finite become null.

    The readout rounds these to the prose's precision (3 significant digits, one decimal of a
    percent) and must land where ``summaries.num`` and ``pct`` land on the same float32: a value
    already rounded to 4 digits would be rounded twice, and 0.12351 would read 0.123, not 0.124.
    """
    return [float(np.format_float_positional(v, unique=True)) if np.isfinite(v) else None
            for v in np.asarray(values, dtype=np.float32).ravel()]


def run_data(run: RunRecord, index: int) -> dict[str, Any]:
    """Per-epoch series of one run (index = epoch) and its region frames, for the page to animate."""
    colour, dash = panels.run_style(index)
    rounded = panels.rounded
    return {
        "name": run.name, "label": run_label(run), "colour": colour, "dash": dash,
        "epochs": run.epochs, "diverged": run.diverged,
        "loss": float32_values(run.train_loss), "train_acc": float32_values(run.train_acc),
        "val_acc": float32_values(run.val_acc),
        "frames": [int(f) for f in run.regions.frames],
        "regions": encode_regions(run.regions.label, run.regions.confidence),
        "paths": {path.method: {"x": rounded(path.coords[:, 0]), "y": rounded(path.coords[:, 1]),
                                "surface_loss": rounded(path.surface_loss), "distance": rounded(path.distance)}
                  for path in run.paths},
    }


# ---------------------------------------------------------------- panels and layout

EPOCH_AXIS = ("loss", "accuracy", "gap", "distance")  # kinds of panel whose x axis is the epoch: the page marks it


@dataclass(frozen=True)
class Panel:
    """One Bokeh plot of a figure, and what the page needs to know to drive it."""

    key: str  # unique in its figure: the key of its item and the suffix of its element's id
    kind: str  # what the page does with it: regions, landscape, loss, accuracy, gap or distance
    plane: str | None  # the direction method a landscape or strip shows; None for the others
    build: Callable[[], Model]  # draws it
    models: dict[str, Any]  # role -> name of each model the page fills or switches (panels.py's *_names)

    def entry(self) -> dict[str, Any]:
        """The panel as a layout cell of the spec lists it."""
        return {"key": self.key, "kind": self.kind, "plane": self.plane, "epoch_axis": self.kind in EPOCH_AXIS,
                "models": self.models}


def panel_key(kind: str, plane: str | None = None) -> str:
    """``regions``, ``loss``, …, or ``landscape-pca`` for a panel of one plane."""
    return kind if plane is None else f"{kind}-{plane}"


def layout_name(planes: Sequence[str]) -> str:
    """``planes`` when several planes sit side by side, else ``single``; a CSS modifier."""
    return "planes" if len(planes) > 1 else "single"


def layout_rows(planes: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of a CSS grid, each cell a stack of panel keys; also the phone's one-column reading order.

    What moves comes first (the landscapes and the decision regions, then the curves), so a
    phone reader scrolling down from the controls sees them first; the strips of what a plane
    hides come last. With several planes each strip stays in its plane's column.
    """
    def row(*cells: tuple[int, list[str]]) -> dict[str, Any]:
        return {"columns": sum(span for span, _ in cells), "cells": [{"span": s, "keys": k} for s, k in cells]}

    if len(planes) > 1:
        return [row(*((1, [panel_key("landscape", m)]) for m in planes)),
                row((1, [panel_key("regions")]), (len(planes) - 1, [panel_key("loss"), panel_key("accuracy")])),
                row(*((1, [panel_key("gap", m)]) for m in planes)),
                row(*((1, [panel_key("distance", m)]) for m in planes))]
    plane = planes[0]
    return [row((1, [panel_key("regions")]), (1, [panel_key("landscape", plane)]),
                (1, [panel_key("loss"), panel_key("accuracy")])),
            row((1, [panel_key("gap", plane)]), (1, [panel_key("distance", plane)]))]


def spec_layout(rows: list[dict[str, Any]], found: dict[str, Panel]) -> list[dict[str, Any]]:
    """:func:`layout_rows` with each key replaced by its panel's entry: what the page lays out and drives."""
    return [{"columns": row["columns"],
             "cells": [{"span": cell["span"], "panels": [found[key].entry() for key in cell["keys"]]}
                       for cell in row["cells"]]} for row in rows]


def first_panels(planes: Sequence[str]) -> list[str]:
    """The panels a figure is interactive with: the first plane's landscape and the regions.

    The page embeds these as one Bokeh document, marks the figure ready, then embeds the
    other landscapes, curves and strips (each Bokeh panel costs 0.1-0.2 s of main thread to
    build and paint, a landscape the most).
    """
    return [panel_key("landscape", planes[0]), panel_key("regions")]


def figure_panels(document: ExperimentFile, dataset: DatasetFile, scales: dict[str, Scale]) -> dict[str, Panel]:
    """Every panel of the figure, keyed as in :func:`layout_rows`, in a fixed order (each one's Bokeh ids follow it)."""
    runs, names = document.runs, [run.name for run in document.runs]
    found = [Panel(panel_key("regions"), "regions", None, partial(panels.regions_plot, document.region_axes, dataset),
                   {})]
    for plane in document.planes:
        method = plane.method
        found.append(Panel(panel_key("landscape", method), "landscape", method,
                           partial(panels.landscape_plot, plane, scales),
                           panels.landscape_names(method, (view.name for view in plane.views), scales)))
    found.append(Panel(panel_key("loss"), "loss", None, partial(panels.loss_plot, runs, document.seeds),
                       panels.loss_names(names)))
    found.append(Panel(panel_key("accuracy"), "accuracy", None, partial(panels.accuracy_plot, runs, dataset.classes),
                       panels.accuracy_names(names)))
    for plane in document.planes:
        method = plane.method
        found.append(Panel(panel_key("gap", method), "gap", method, partial(panels.gap_plot, method, runs),
                           panels.gap_names(method)))
        found.append(Panel(panel_key("distance", method), "distance", method,
                           partial(panels.distance_plot, method, runs), panels.distance_names(method)))
    return {panel.key: panel for panel in found}


# ---------------------------------------------------------------- around the script: the figure templates

@dataclass(frozen=True)
class RunChoice:
    """One entry of a figure's run menu."""

    index: int
    label: str  # "adam · lr 0.005"
    epochs: int
    diverged: bool


@dataclass(frozen=True)
class FigureContext:
    """What ``templates/figure.html`` shows before the script runs."""

    slug: str
    title: str
    max_epoch: int  # the slider's end
    runs: tuple[RunChoice, ...]
    notes: tuple[str, ...]  # one sentence per diverged run
    layout_class: str  # CSS modifier of the plots' grid
    stretchable: bool  # some plane has a stretched view besides its true proportions
    description: str  # what the figure shows, in words, for screen readers (aria-describedby)
    extents: str  # which part of each plane its map shows, in the figcaption

    @property
    def multi_run(self) -> bool:
        return len(self.runs) > 1


def figure_context(document: ExperimentFile) -> FigureContext:
    """The figure template's view of one experiment file."""
    runs = tuple(RunChoice(i, run_label(r), r.epochs, r.diverged) for i, r in enumerate(document.runs))
    return FigureContext(slug=document.slug, title=document.title, max_epoch=document.max_epoch, runs=runs,
                         notes=divergence_notes(document.runs),
                         layout_class=f"la-plots--{layout_name([p.method for p in document.planes])}",
                         stretchable=any(len(p.views) > 1 for p in document.planes),
                         description=describe(document), extents=extent_note(document))


def describe(document: ExperimentFile) -> str:
    """The figure in words, from its data: what each run's loss and accuracy did, and where its path went."""
    sentences = [f"{document.title}, trained for up to {document.config.epochs} epochs."]
    for run in document.runs:
        who = f"With {run.name} (learning rate {run.lr:g}), the" if len(document.runs) > 1 else "The"
        sentences.append(f"{who} training loss goes from {num(float(run.train_loss[0]))} to "
                         f"{num(float(run.train_loss[-1]))}, and accuracy ends at {pct(float(run.train_acc[-1]))} "
                         f"on the training set and {pct(float(run.val_acc[-1]))} on validation"
                         + (f"; training diverged at epoch {run.epochs}." if run.diverged else "."))
    for plane in document.planes:
        path = document.reference.path(plane.method)
        start = path.coords[0]
        sentences.append(f"On the map “{panels.plane_title(plane.method)}” the path starts at "
                         f"({num(float(start[0]), 2)}, {num(float(start[1]), 2)}) and ends at the centre, at most "
                         f"{num(float(path.distance.max()), 2)} from the plane.")
    return " ".join(sentences)


def extent_note(document: ExperimentFile) -> str:
    """The extent of every map in true proportions, from the surfaces' own grids."""
    parts = []
    for plane in document.planes:
        surface = plane.views[0].surface
        reach = float(surface.x[-1])
        how = "the standard extent of a random plane" if plane.method == "random" else "the path's reach plus a margin"
        parts.append(f"{panels.plane_title(plane.method)}: a and b within ±{num(reach, 2)} ({how})")
    return "Maps in true proportions, centred on the final weights. " + "; ".join(parts) + "."


def run_label(run: RunRecord) -> str:
    """``adam · lr 0.005``: the name readers pick in the run menu."""
    return f"{run.name} · lr {run.lr:g}"


def divergence_notes(runs: Sequence[RunRecord]) -> tuple[str, ...]:
    """One sentence per diverged run, named when there are several runs."""
    notes = []
    for run in runs:
        if run.diverged:
            who = f"{run.name}: t" if len(runs) > 1 else "T"
            notes.append(f"{who}raining diverged at epoch {run.epochs}.")
    return tuple(notes)


@dataclass(frozen=True)
class ExplorerChoice:
    """One button of the explorer."""

    slug: str
    title: str  # accessible name, e.g. "5 hidden layers × 20 neurons"
    label: str  # what the button says, e.g. "5 × 20"


@dataclass(frozen=True)
class ExplorerGrid:
    """The explorer's buttons: networks without a depth × width place first, then the grid by rows."""

    singles: tuple[ExplorerChoice, ...]  # e.g. the logistic baseline
    depths: tuple[int, ...]  # row heads
    widths: tuple[int, ...]  # column heads
    cells: tuple[tuple[ExplorerChoice | None, ...], ...]  # [row][column]; None where the registry has no net

    @property
    def rows(self) -> tuple[tuple[int, tuple[ExplorerChoice | None, ...]], ...]:
        """(depth, that row's cells) pairs, for the template's loop."""
        return tuple(zip(self.depths, self.cells))

    @property
    def choices(self) -> tuple[ExplorerChoice, ...]:
        """Every choice in reading order: the first is shown first."""
        return self.singles + tuple(c for row in self.cells for c in row if c is not None)


def explorer_grid(registry: Sequence[Experiment]) -> ExplorerGrid:
    """The explorer's layout from the registry's ``explorer``, ``depth`` and ``width`` fields."""
    offered = [e for e in registry if e.explorer]
    singles = tuple(ExplorerChoice(e.slug, e.title, e.title) for e in offered if e.depth == 0)
    networks: dict[tuple[int, int], Experiment] = {}
    for e in offered:
        if e.depth > 0 and networks.setdefault((e.depth, e.width), e) is not e:
            raise ConfigError(f"{e.slug}.explorer=True: the explorer already has a {e.depth} × {e.width} network "
                              f"({networks[e.depth, e.width].slug})")
    depths = tuple(sorted({d for d, _ in networks}))
    widths = tuple(sorted({w for _, w in networks}))
    if len(widths) > MAX_EXPLORER_WIDTHS:
        raise ConfigError(f"explorer: {len(widths)} widths, more than the {MAX_EXPLORER_WIDTHS} columns the "
                          f"page lays out (templates/assets/figures.css, .la-cols-N)")
    cells = tuple(tuple(choice(networks[d, w]) if (d, w) in networks else None for w in widths) for d in depths)
    return ExplorerGrid(singles, depths, widths, cells)


def choice(experiment: Experiment) -> ExplorerChoice:
    return ExplorerChoice(experiment.slug, experiment.title, f"{experiment.depth}\u2009×\u2009{experiment.width}")
