"""The labs: networks a reader trains in the page (``configs.LABS``), and what the page needs to train them.

``your-run`` (the optimizers figure): the reference network again, from the stored θ₀, on the same
training points, with the reader's optimizer and learning rate; its path is projected on the figure's
first plane exactly as ``project.py`` projects ours. ``dice`` (the twenty-layer section): the network
and its ``drawn_from`` twin from one fresh initialization, placed among the stored initializations by
the rules the article counts them with.

The page decides nothing on its own: every threshold it applies to a reader's run is one of ours
(``measures``, ``summaries``, ``scales``), sent as a number, and the stored counts it compares with come
from the exported files. The payload is ``lab/<slug>.js``, one ``registerLab`` call loaded only when
the reader opens the panel; the trainer itself is ``assets/trainer.js`` (``trainer_script.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lossarticle.measures import FIT_ACCURACY, LATE_FRACTION, late
from lossarticle.packing import canonical, register_script
from lossarticle.scales import CLIP_DECADES, MIN_FIGURE_DECADES
from lossarticle.schema import DatasetFile, ExperimentFile, RunRecord, encode_array as packed
from lossarticle.style import CLASS_COLOURS, LANDSCAPE_PALETTE, RUN_STYLES
from lossarticle.summaries import LN3, STUCK_TOLERANCE, stuck_at_ln3

LAB_VERSION = 1  # bumped when the payload's meaning changes (the page refuses another)
LR_RANGE = (1e-4, 1.0)  # the learning-rate control's ends, on a log scale
# A reader's run is "far from the plane" when the distance the picture leaves out is more than half of its
# distance from the map's centre (the path leaves the plane at more than 30°): from there on the map's
# loss under the drawn point is not the loss of the weights it stands for (the article's own argument).
FAR_FROM_PLANE = 0.5
MAP_RESOLUTION = 41  # the reader's own map (dice): grid points per axis, after a coarse first pass
MAP_COARSE = 21
MAP_MARGIN = 0.25  # beyond the paths' extent, as a share of it: surface.SurfaceConfig's default
READER_COLOUR = RUN_STYLES[3][0]  # the reader's run: black, the fourth run style, drawn solid and thicker


@dataclass(frozen=True)
class LabContext:
    """What ``templates/lab.html`` shows before the script runs: the panel's kind, script and words."""

    kind: str  # configs.LABS
    src: str  # lab/<slug>.js
    title: str  # the panel's summary line
    without_script: str  # one sentence: what the panel does, for readers without JavaScript and in print


def lab_context(document: ExperimentFile) -> LabContext | None:
    """The lab panel of a figure, or None when its experiment has none."""
    config = document.config
    if config.lab == "your-run":
        return LabContext("your-run", lab_path(config.slug), "Train your own run",
                          f"With JavaScript, this panel trains the {network_words(document)} in your browser from "
                          "the same initial weights with an optimizer and learning rate you choose, and draws its "
                          "path on this figure's plane beside ours.")
    elif config.lab == "dice":
        return LabContext("dice", lab_path(config.slug), "Roll the dice",
                          f"With JavaScript, this panel draws a fresh initialization, trains the "
                          f"{network_words(document)} and its twin without skip connections from it in your "
                          "browser, and places the outcome among our initializations.")
    elif config.lab == "":
        return None
    else:
        raise ValueError(f"unknown lab {config.lab!r}")


LAB_DIR = "lab"  # beside index.html (site_folder.SITE_ENTRIES knows it)


def lab_path(slug: str) -> str:
    """Where a figure's lab payload goes in the site, and the address the page loads it from."""
    return f"{LAB_DIR}/{slug}.js"


def network_words(document: ExperimentFile) -> str:
    depth, width = document.config.depth, document.config.width
    return f"{depth}-hidden-layer network of {width} neurons" if depth else "logistic regression"


def lab_script(document: ExperimentFile, dataset: DatasetFile, twin: ExperimentFile | None) -> str:
    """The text of ``lab/<slug>.js``: one ``registerLab`` call, safe inside any HTML page."""
    return register_script("registerLab", document.slug, canonical(lab_spec(document, dataset, twin)))


def lab_spec(document: ExperimentFile, dataset: DatasetFile, twin: ExperimentFile | None) -> dict[str, Any]:
    """The payload of one lab: the data, the network(s) and the rules, as plain JSON with base64 arrays."""
    common = {"version": LAB_VERSION, "lab": document.config.lab, "slug": document.slug,
              "x": packed(dataset.train_x.astype(np.float32)), "y": packed(dataset.train_y.astype(np.uint8)),
              "classes": list(CLASS_COLOURS[:dataset.classes]), "reader_colour": READER_COLOUR,
              "fit_accuracy": FIT_ACCURACY}
    if document.config.lab == "your-run":
        return common | your_run_spec(document)
    elif document.config.lab == "dice":
        if twin is None:
            raise ValueError(f"{document.slug}: a dice lab needs its twin {document.config.drawn_from!r}")
        return common | dice_spec(document, twin)
    else:
        raise ValueError(f"{document.slug}: no lab to build (lab={document.config.lab!r})")


def your_run_spec(document: ExperimentFile) -> dict[str, Any]:
    """θ₀, the first plane, the stored runs' settings (the controls start from them) and the input grid."""
    weights = document.lab_weights
    if weights is None:
        raise ValueError(f"{document.slug}: the file holds no lab weights")
    return {"net": net_spec(document), "theta0": packed(weights.theta0.astype(np.float32)),
            "plane": {"method": document.planes[0].method, "origin": packed(weights.origin),
                      "d1": packed(weights.d1), "d2": packed(weights.d2),
                      "lengths": list(document.planes[0].axis_lengths)},
            "runs": [run_settings(run) for run in document.runs],
            "lr_range": list(LR_RANGE), "far": FAR_FROM_PLANE,
            "region_axes": {"x": packed(document.region_axes.x), "y": packed(document.region_axes.y)}}


def dice_spec(document: ExperimentFile, twin: ExperimentFile) -> dict[str, Any]:
    """Both nets (the plain twin first), their stored outcomes, the outcome rules and the map's settings."""
    return {"nets": [net_spec(twin) | outcomes(twin), net_spec(document) | outcomes(document)],
            "rules": {"late_fraction": LATE_FRACTION, "ln3": LN3, "stuck_tolerance": STUCK_TOLERANCE,
                      "fit_accuracy": FIT_ACCURACY},
            "map": {"resolution": MAP_RESOLUTION, "coarse": MAP_COARSE, "margin": MAP_MARGIN,
                    "clip_decades": CLIP_DECADES, "min_decades": MIN_FIGURE_DECADES,
                    "palette": list(LANDSCAPE_PALETTE)},
            "stored_seeds": [document.config.seed, document.config.seed + document.config.seeds - 1]}


def net_spec(document: ExperimentFile) -> dict[str, Any]:
    """One network as the trainer builds it, and how long and with what it is trained."""
    reference = document.reference
    return {"slug": document.slug, "title": document.title, "sizes": list(document.architecture.sizes),
            "skip": document.architecture.skip, "epochs": document.config.epochs,
            "optimizer": run_settings(reference)}


def run_settings(run: RunRecord) -> dict[str, Any]:
    """A stored run's optimizer as the trainer takes it (PyTorch's defaults for the rest: train.make_optimizer)."""
    return {"name": run.name, "kind": run.optimizer, "lr": run.lr, "momentum": run.momentum}


def outcomes(document: ExperimentFile) -> dict[str, Any]:
    """How the stored initializations ended, by the article's rules (late measure): stuck at ln 3, holding
    90 % training accuracy, or neither (a diverged one included)."""
    stuck = stuck_at_ln3(late(document.seeds.train_loss))
    fit = late(document.seeds.train_acc) >= FIT_ACCURACY
    return {"count": document.seeds.count, "stuck": int(stuck.sum()), "fit": int((fit & ~stuck).sum()),
            "neither": int((~stuck & ~fit).sum())}
