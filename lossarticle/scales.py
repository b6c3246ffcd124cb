"""Colour scales of the loss maps and their labelled ticks, for the live figures and the posters alike.

Maps are coloured by the logarithm of the loss, never rounded first. Each figure has its
own scale (shared by its planes and views, so one colour is one loss within a
figure) and there is one scale shared by every figure of the article, in which
a nearly flat surface looks nearly flat. A figure's own scale is never narrower than
MIN_FIGURE_DECADES: fitted to a map whose loss varies by 9 %, the grey ramp would paint
that 9 % as a canyon. Such a figure also offers its ``local`` scale, fitted to its maps
alone, for a reader who asks to see the small change stretched.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lossarticle.schema import ExperimentFile

CLIP_DECADES = 3.0  # a figure's scale spans at most this many decades above its lowest loss
SHARED_DECADES = 5.0  # the article-wide scale spans at most this many
SMALL_RANGE = 0.25  # a map whose loss varies by less than this fraction of its lowest value says so in numbers
# A figure's scale spans at least this (0.19 decades, a factor 1.56): a change of SMALL_RANGE fills at most half
# its ramp.
MIN_FIGURE_DECADES = 2 * math.log10(1 + SMALL_RANGE)
MIN_TICKS = 3


@dataclass(frozen=True)
class Scale:
    """A colour scale over log10(loss), with the ticks its colour bar labels."""

    low: float  # log10 of the loss at the bottom colour
    high: float  # log10 of the loss at the top colour; higher losses and overflow take the top colour
    ticks: tuple[float, ...]  # losses the colour bar labels, ascending
    labels: tuple[str, ...]  # each of them as a reader reads it

    @property
    def loss_range(self) -> tuple[float, float]:
        """The losses at the bottom and top colours (a log colour mapper's low and high)."""
        return 10 ** self.low, 10 ** self.high


def log_loss(loss: np.ndarray) -> np.ndarray:
    """log10 of a loss grid, with NaN and +inf as +inf (overflowed) and 0 as -inf."""
    loss = np.asarray(loss, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(loss > 0, np.log10(np.where(loss > 0, loss, 1.0)), -np.inf)
    logs[np.isnan(loss) | np.isposinf(loss)] = np.inf
    return logs


def scale_over(losses: Iterable[np.ndarray], decades: float) -> Scale:
    """The scale from the lowest finite loss of ``losses`` to their highest, at most ``decades`` above it.

    Clipping the top keeps a surface that overflows somewhere from squashing the
    interesting valley into one colour.
    """
    finite = np.concatenate([z[np.isfinite(z)] for z in (log_loss(loss).ravel() for loss in losses)] or [[]])
    if finite.size == 0:
        low, high = 0.0, 1.0
    else:
        low = float(finite.min())
        high = min(float(finite.max()), low + decades)
        if high <= low:  # a constant map: give it a sliver of range so the mapper is defined
            high = low + 1e-6
    return scale_between(low, high)


def scale_between(low: float, high: float) -> Scale:
    """The scale from 10**low to 10**high, with its labelled ticks."""
    ticks = colour_ticks(10 ** low, 10 ** high)
    return Scale(low, high, tuple(value for value, _ in ticks), tuple(label for _, label in ticks))


def widened(scale: Scale, decades: float) -> Scale:
    """``scale``, or one ``decades`` wide centred on it where it is narrower: the map's values keep the middle
    of the ramp, so a nearly flat map looks like mid-grey with faint relief rather than a canyon."""
    if scale.high - scale.low >= decades:
        return scale
    middle = (scale.low + scale.high) / 2
    return scale_between(middle - decades / 2, middle + decades / 2)


def local_scale(losses: Sequence[np.ndarray]) -> Scale:
    """A figure's scale fitted to its maps alone, however little they vary: the reader's choice, never the default."""
    return scale_over(losses, CLIP_DECADES)


def figure_scale(losses: Sequence[np.ndarray]) -> Scale:
    """One figure's default scale, shared by its planes and views: its maps' range, at least MIN_FIGURE_DECADES."""
    return widened(local_scale(losses), MIN_FIGURE_DECADES)


def ramp_share(loss: np.ndarray, scale: Scale) -> float:
    """How much of ``scale``'s ramp a map's finite losses span (0 to 1): 1 paints its change from end to end."""
    logs = log_loss(loss)
    finite = logs[np.isfinite(logs)]
    if finite.size == 0:
        return 0.0
    low, high = max(float(finite.min()), scale.low), min(float(finite.max()), scale.high)
    return max(0.0, high - low) / (scale.high - scale.low)


def shared_scale(losses: Iterable[np.ndarray]) -> Scale:
    """The scale every figure can switch to: one colour is one loss across the whole article."""
    return scale_over(losses, SHARED_DECADES)


def decade_ticks(lo: float, hi: float, wanted: int = MIN_TICKS) -> list[float]:
    """Round losses inside [lo, hi] (lo > 0) for a log axis: the sparsest rung of the ladder 1, 1-3, 1-2-5,
    1-2-3-5-7 per decade that gives ``wanted`` of them, else the densest.

    The one ladder of the curves' axes, the colour bars and the posters, so a loss is
    labelled alike wherever it appears.
    """
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    for mantissas in ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5, 7)):
        ticks = [v for k in decades for m in mantissas if lo <= (v := float(f"{m}e{k}")) <= hi]
        if len(ticks) >= wanted:
            return ticks
    return ticks


def colour_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """At least three labelled loss values inside [lo, hi] (lo > 0): the decade ladder over a wide range,
    evenly spaced round numbers over a narrow one, with as many digits as tell them apart."""
    if hi / lo >= 10 and len(values := decade_ticks(lo, hi)) >= MIN_TICKS:
        return [(v, f"{v:g}") for v in values]
    step = linear_step(lo, hi)
    first = math.ceil(lo / step - 1e-9)
    values = [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    digits = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if f"{step:.1e}"[2] == "5" and step < 1 else 0)
    digits = max(digits, decimals_needed(values))
    return [(v, f"{v:.{digits}f}") for v in values]


def linear_step(lo: float, hi: float) -> float:
    """The largest round step (1, 2 or 5 times a power of ten) that puts at least three ticks in [lo, hi]."""
    exponent = math.floor(math.log10(hi - lo))
    for k in range(exponent, exponent - 4, -1):
        for mantissa in (5, 2, 1):
            step = mantissa * 10.0 ** k
            if math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1 >= MIN_TICKS:
                return step
    return (hi - lo) / (MIN_TICKS - 1)


def decimals_needed(values: Sequence[float]) -> int:
    """Fewest decimals that print every value differently."""
    for digits in range(0, 10):
        if len({f"{v:.{digits}f}" for v in values}) == len(values):
            return digits
    return 10


def relative_range(loss: np.ndarray) -> float:
    """(highest − lowest) / lowest finite loss of a map: how much of its level the map's colours span."""
    finite = np.asarray(loss, np.float64)[np.isfinite(loss)]
    if finite.size == 0 or finite.min() <= 0:
        return math.inf
    return float((finite.max() - finite.min()) / finite.min())


def range_note(loss: np.ndarray) -> str:
    """A sentence for maps whose colours stretch a small change, else nothing."""
    spread = relative_range(loss)
    if spread >= SMALL_RANGE:
        return ""
    return f"The loss varies by {100 * spread:.{1 if spread < 0.1 else 0}f} % across this map."


def figure_scale_of(document: ExperimentFile) -> Scale:
    """The colour scale of one figure: every view of every plane, so one colour is one loss throughout."""
    return figure_scale(figure_losses(document))


def local_scale_of(document: ExperimentFile) -> Scale | None:
    """The figure's scale stretched over its own maps, where that differs from its default; else None."""
    local = local_scale(figure_losses(document))
    return None if local == figure_scale_of(document) else local


def figure_losses(document: ExperimentFile) -> list[np.ndarray]:
    """The loss grid of every view of every plane of a figure."""
    return [view.surface.loss for plane in document.planes for view in plane.views]
