"""Where a figure's panels sit: the rows and cells of its CSS grid, which is also a phone's reading order.

Plain data, no Bokeh: the spec (``page_data``) fills each cell with its panel's
entry, and the figure template (``figure_context``) reads the layout's name.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bokeh.models import Model

EPOCH_AXIS = ("loss", "accuracy", "gap", "distance", "units", "sharpness")  # kinds whose x axis is the epoch:
#                                                                             the page marks it


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


def layout_rows(planes: Sequence[str], measured: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of a CSS grid, each cell a stack of panel keys; also the phone's one-column reading order.

    Each plane's strips (the loss and distance the map cannot show) sit in one cell with its
    landscape or right beside it, so at every width they are read with their map: a phone
    reads landscape, strips, next landscape. (Strips in rows of their own ended up 2,000 px
    below their maps at 375 px.) With several planes each column is one plane, landscape over
    strips, and the decision regions and the curves follow; with one, the regions, the
    landscape and its strips share the first row and the curves the second. The ``measured``
    strips (live units, sharpness: keys of panels only some figures have) get a last row.
    """
    def row(*cells: tuple[int, list[str]]) -> dict[str, Any]:
        return {"columns": sum(span for span, _ in cells), "cells": [{"span": s, "keys": k} for s, k in cells]}

    def strips(plane: str) -> list[str]:
        return [panel_key("gap", plane), panel_key("distance", plane)]

    last = [row(*((1, [key]) for key in measured))] if measured else []
    if len(planes) > 1:
        return [row(*((1, [panel_key("landscape", m), *strips(m)]) for m in planes)),
                row((1, [panel_key("regions")]), (len(planes) - 1, [panel_key("loss"), panel_key("accuracy")])),
                *last]
    plane = planes[0]
    return [row((1, [panel_key("regions")]), (1, [panel_key("landscape", plane)]), (1, strips(plane))),
            row((1, [panel_key("loss")]), (1, [panel_key("accuracy")])), *last]


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
