"""What the page animates: one script per experiment, its spec, which is the contract with the page script.

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

from collections.abc import Callable
from functools import partial
from typing import Any

from lossarticle import panels, style
from lossarticle.figure_context import run_label
from lossarticle.figure_layout import Panel, first_panels, layout_name, layout_rows, panel_key, spec_layout
from lossarticle.measures import fit_epoch
from lossarticle.packing import (CONFIDENCE_BITS, canonical, encode_regions, float32_values, pack_loss,
                                 register_script)
from lossarticle.scales import Scale, figure_scale_of, local_scale_of, range_note
from lossarticle.schema import DatasetFile, ExperimentFile, PlaneRecord, RunRecord

SPEC_VERSION = 6  # bumped when the page script must change with the spec
MAX_PANELS = 16  # three planes make 12
FIGURE_IDS = panels.PANEL_IDS * MAX_PANELS  # id_base values of two figures on one page must differ by this much


def figure_script(document: ExperimentFile, dataset: DatasetFile, id_base: int, shared: Scale) -> str:
    """The text of ``site/figures/<slug>.js``: one ``register`` call, safe inside any HTML page.

    ``shared`` is the article-wide colour scale the reader can switch the landscapes to.
    """
    return register_script("register", document.slug, figure_spec(document, dataset, id_base, shared))


def figure_spec(document: ExperimentFile, dataset: DatasetFile, id_base: int, shared: Scale) -> dict[str, Any]:
    """Everything the page script needs for one experiment, with Bokeh ids counted from ``id_base``."""
    if id_base < 1:
        raise ValueError(f"id_base={id_base}: must be a positive integer")
    slug, planes = document.slug, [p.method for p in document.planes]
    scales = {"figure": figure_scale_of(document), "shared": shared}
    if (local := local_scale_of(document)) is not None:  # only a nearly flat figure has a scale of its own to offer
        scales["local"] = local
    found = figure_panels(document, dataset, scales)
    if len(found) > MAX_PANELS:
        raise ValueError(f"{slug}: {len(found)} panels, more than the {MAX_PANELS} an id range holds")
    items = {key: panels.panel_item(f"fig-{slug}-{key}", panel.build, id_base + index * panels.PANEL_IDS)
             for index, (key, panel) in enumerate(found.items())}
    data = canonical({
        "version": SPEC_VERSION, "slug": slug, "max_epoch": document.max_epoch, "planes": planes,
        "classes": list(style.class_colours(dataset)), "confidence_bits": CONFIDENCE_BITS,
        "region_shape": [len(document.region_axes.y), len(document.region_axes.x)],
        "layout": spec_layout(layout_rows(planes, tuple(measured_panels(document))), found),
        "layout_name": layout_name(planes),
        "first": first_panels(planes),
        "titles": strip_titles(document),
        "runs": [run_data(run, index) for index, run in enumerate(document.runs)],
        "landscapes": {plane.method: landscape_views(plane) for plane in document.planes},
        "scales": {key: {"low": scale.loss_range[0], "high": scale.loss_range[1], "ticks": list(scale.ticks),
                         "labels": list(scale.labels)} for key, scale in scales.items()},
    })
    data["items"] = items  # Bokeh's own key order is left alone: it is already deterministic
    return {key: data[key] for key in sorted(data)}


def landscape_views(plane: PlaneRecord) -> list[dict[str, Any]]:
    """What the page switches when the reader changes a landscape's proportions, and each view's loss, packed."""
    return [{"name": view.name, "title": style.view_title(plane, view), "note": range_note(view.surface.loss),
             "x_range": list(style.grid_extent(view.surface.x)), "y_range": list(style.grid_extent(view.surface.y)),
             "loss": pack_loss(view.surface.loss)} for view in plane.views]


def strip_titles(document: ExperimentFile) -> dict[str, dict[str, list[str]]]:
    """Each strip's title per focused run, by kind and plane: the page swaps them on a change of run, so the
    wording (plane and run named) is spelled here once, never pieced together by the script."""
    runs = document.runs
    return {kind: {plane.method: [style.strip_title(kind, plane.method, runs, index) for index in range(len(runs))]
                   for plane in document.planes} for kind in ("gap", "distance")}


def figure_id_base(index: int) -> int:
    """A safe ``id_base`` for the ``index``-th figure of a page: ranges of ``FIGURE_IDS`` never overlap."""
    return 1000 + index * FIGURE_IDS


def run_data(run: RunRecord, index: int) -> dict[str, Any]:
    """Per-epoch series of one run (index = epoch) and its region frames, for the page to animate."""
    colour, dash = style.run_style(index)
    rounded = style.rounded
    return {
        "name": run.name, "label": run_label(run), "colour": colour, "dash": dash,
        "epochs": run.epochs, "diverged": run.diverged,
        "loss": float32_values(run.train_loss), "train_acc": float32_values(run.train_acc),
        "val_acc": float32_values(run.val_acc), "weight_norm": float32_values(run.weight_norm),
        "fit_epoch": fit_epoch(run.train_acc),  # first at FIT_ACCURACY: marked on the path
        "frames": [int(f) for f in run.regions.frames],
        "regions": encode_regions(run.regions.label, run.regions.confidence),
        "paths": {path.method: {"x": rounded(path.coords[:, 0]), "y": rounded(path.coords[:, 1]),
                                "surface_loss": rounded(path.surface_loss), "distance": rounded(path.distance)}
                  for path in run.paths},
    }


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
    found += [Panel(key, key, None, build, {}) for key, build in measured_panels(document).items()]
    return {panel.key: panel for panel in found}


def measured_panels(document: ExperimentFile) -> dict[str, Callable[[], Any]]:
    """The strips of what the curves do not show, where the file has it: the reference run's live units per
    layer (any hidden layer), and the sharpness against its edge of stability (``config.curvature``)."""
    found: dict[str, Callable[[], Any]] = {}
    if document.config.depth > 0:
        found["units"] = partial(panels.units_plot, document.reference, document.config.width)
    if any(run.curvature is not None for run in document.runs):
        found["sharpness"] = partial(panels.sharpness_plot, document.runs)
    return found
