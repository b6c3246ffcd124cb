"""How the prose, the labels and the alt texts print numbers: one place, so they read alike.

The page's readout prints the same way (templates/assets/js/format.js mirrors ``num``
and ``pct``, and a browser test compares them). Torch-free and dependency-free: the
compute stages label their axes with it too.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lossarticle.errors import ContentError

NOT_REACHED = ("is None: the data never reached this value; print it inside {% if … is not none %} … {% endif %} "
               "and say what happened otherwise")


def pct(value: float, digits: int = 1) -> str:
    """0.953 -> '95.3 %' (a thin no-break space before the sign, as in the figures).

    Short of 1 it never reads 100 %: it takes more decimals until it does not (0.995 at no
    decimal is '99.5 %', 0.9996 at one '99.96 %'); a fit that is not perfect is not called one.
    """
    text = f"{100 * reached(value, 'pct'):.{digits}f}"
    while value < 1 and text.startswith("100") and digits < 6:
        digits += 1
        text = f"{100 * value:.{digits}f}"
    return f"{text}\u202f%"


def ordinal(value: int) -> str:
    """1 -> '1st', 2 -> '2nd', 12 -> '12th', 50 -> '50th': a rank in words the prose can use."""
    value = int(value)
    suffix = "th" if value % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def thousands(value: int) -> str:
    """An integer with thousands separators: 91503 -> '91,503'."""
    return f"{int(reached(value, 'thousands')):,}"


def num(value: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, without scientific notation for readable sizes."""
    if reached(value, "num") == 0 or not np.isfinite(value):
        return str(value)
    magnitude = int(np.floor(np.log10(abs(value))))
    if -5 <= magnitude < 6:
        return f"{value:.{max(digits - 1 - magnitude, 0)}f}"
    return f"{value:.{digits - 1}e}"


def reached(value: Any, name: str) -> Any:
    """``value``, unless it is None: a filter given a value never reached says so instead of a TypeError."""
    if value is None:
        raise ContentError(f"{name}: the value {NOT_REACHED}")
    return value
