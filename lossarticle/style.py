"""The article's look, shared by the live figures (``panels``, Bokeh) and the posters (``posters``, matplotlib).

Colours, type, titles and the geometry both drawings agree on, with no plotting
library behind them: a poster drawn without Bokeh and a live figure drawn with it
take their colours, titles and extents from here, so they cannot drift apart.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import contourpy
import numpy as np

from lossarticle.scales import Scale
from lossarticle.schema import DatasetFile, PlaneRecord, RunRecord, ViewRecord

CLASS_COLOURS = ("#E69F00", "#56B4E9", "#009E73")  # Okabe–Ito: orange, sky blue, bluish green
RUN_STYLES = (("#D55E00", "solid"), ("#0072B2", "dashed"), ("#CC79A7", "dotted"), ("#000000", "dashdot"))
SIGNIFICANT = 4  # digits kept for curves, paths and contours: below what a 300-pixel axis can show
CONTOUR_LEVELS = 6
FONT = "Helvetica, Arial, sans-serif"
INK, MUTED, RULE = "#222222", "#666666", "#e4e4e4"
LANDSCAPE_PALETTE = tuple(f"#{v:02x}{v:02x}{min(v + 6, 255):02x}" for v in np.linspace(250, 70, 128).astype(int))
PLANE_TITLES = {"pca": "PCA of the path", "random": "Random directions", "init-final": "Initial → final"}
STRIP_TITLES = {"gap": "loss recorded vs. read off the plane", "distance": "distance from the plane"}


def rounded(values: Iterable[float], digits: int = SIGNIFICANT) -> list[float | None]:
    """Floats to ``digits`` significant digits; non-finite become null (JSON has no NaN).

    The one rounding of what the page is sent; decimal formatting, not ``np.round(v · 10^k)``,
    so a value prints as its shortest decimal and never as 0.12340000000000001.
    """
    out: list[float | None] = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        out.append(float(f"{v:.{digits}g}") if math.isfinite(v) else None)
    return out


def run_style(index: int) -> tuple[str, str]:
    """Colour and dash of the ``index``-th run: both differ, so the runs survive greyscale printing."""
    return RUN_STYLES[index % len(RUN_STYLES)]


def plane_title(method: str) -> str:
    """A reader's name for a direction method (closed set: an unknown one is a bug upstream)."""
    if method in PLANE_TITLES:
        return PLANE_TITLES[method]
    raise ValueError(f"unknown plane {method!r} (known: {', '.join(PLANE_TITLES)})")


def class_colours(dataset: DatasetFile) -> tuple[str, ...]:
    """One colour per class; the palette has three."""
    if dataset.classes > len(CLASS_COLOURS):
        raise ValueError(f"{dataset.classes} classes, but only {len(CLASS_COLOURS)} class colours")
    return CLASS_COLOURS[:dataset.classes]


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


def grid_extent(axis: np.ndarray) -> tuple[float, float]:
    """Left and right edges of an image whose pixel centres are ``axis`` (uniform spacing)."""
    step = float(axis[1] - axis[0]) if len(axis) > 1 else 1.0
    return float(axis[0]) - step / 2, float(axis[-1]) + step / 2


AXIS_NAMES = {"pca": ("PC1", "PC2"), "init-final": ("the θ₀→θ_final axis", "the orthogonal axis"),
              "random": ("direction 1", "direction 2")}


def stretch_label(method: str, stretch: float) -> str:
    """What a view does to proportions: "true proportions" or "PC2 stretched ×12"."""
    if stretch == 1:
        return "true proportions"
    axis, factor = (AXIS_NAMES[method][1], stretch) if stretch > 1 else (AXIS_NAMES[method][0], 1 / stretch)
    return f"{axis} stretched ×{factor:.0f}" if factor >= 10 else f"{axis} stretched ×{factor:.1f}"


def view_title(plane: PlaneRecord, view: ViewRecord) -> str:
    return f"{plane_title(plane.method)} · {stretch_label(plane.method, view.stretch)}"


def contour_lines(x: np.ndarray, y: np.ndarray, z: np.ndarray, scale: Scale) -> dict[str, list]:
    """Iso-loss lines at evenly spaced log levels inside the colour scale, every other vertex kept."""
    generator = contourpy.contour_generator(np.asarray(x, np.float64), np.asarray(y, np.float64),
                                            np.clip(np.asarray(z, np.float64), scale.low, scale.high),
                                            line_type=contourpy.LineType.Separate)
    xs, ys = [], []
    for level in np.linspace(scale.low, scale.high, CONTOUR_LEVELS + 2)[1:-1]:
        for line in generator.lines(float(level)):
            thinned = np.vstack([line[:-1:2], line[-1:]])  # 101-point grids: halving is invisible
            xs.append(rounded(thinned[:, 0]))
            ys.append(rounded(thinned[:, 1]))
    return {"xs": xs, "ys": ys}


def epoch_range(runs: Sequence[RunRecord]) -> tuple[float, float]:
    """The shared x range of every curve: epoch 0 to the longest run."""
    return 0.0, float(max(run.epochs for run in runs)) or 1.0


def focus_title(text: str, runs: Sequence[RunRecord], index: int = 0) -> str:
    """A panel title that names the focused run when there are several (the page rewrites it)."""
    return f"{text} ({runs[index].name})" if len(runs) > 1 else text


def strip_title(kind: str, method: str, runs: Sequence[RunRecord], index: int = 0) -> str:
    """A gap or distance strip's title, "PCA of the path (sgd):⏎distance from the plane": three planes' strips
    look alike, and on a phone they sit in one column, so each names its plane (and the focused run)."""
    if kind not in STRIP_TITLES:
        raise ValueError(f"unknown strip {kind!r} (known: {', '.join(STRIP_TITLES)})")
    # Two lines, the run on the first: one would be clipped in a phone's 300-pixel strip (Bokeh does not wrap).
    return f"{focus_title(plane_title(method), runs, index)}:\n{STRIP_TITLES[kind]}"
