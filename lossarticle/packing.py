"""How the figure scripts pack their arrays, and the canonical JSON order: numpy only.

The page undoes each packing (``templates/assets/js/decode.js``); the unpacking
functions here are that inverse in Python, for the tests. Torch- and Bokeh-free, so
the posters can read the same constants without pulling in a plotting library.
"""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import numpy as np

from lossarticle.scales import log_loss

CONFIDENCE_BITS = 3  # 8 shades per class: the 60 frames a run of 4 bits (16 shades) took the page past 2 MB gzip
# (region frames 755 KB of 2.13 MB; 3 bits: 527 KB); 5 bits made the figure scripts 18 % larger than 4


OVERFLOW_CODE = 65535  # pack_loss's code for a loss that overflowed


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


def canonical(node: Any) -> Any:
    """Sorted dict keys all the way down, so the JSON text never depends on insertion order."""
    if isinstance(node, dict):
        return {key: canonical(node[key]) for key in sorted(node)}
    if isinstance(node, list):
        return [canonical(item) for item in node]
    return node


def register_script(function: str, slug: str, spec: Any) -> str:
    """``window.lossarticle.<function>(slug, spec);``: a figure's or a lab's data as a script of our own origin
    (the page's CSP forbids eval), safe inside any HTML page."""
    text = json.dumps(spec, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    # No "</script>" or "<!--" can ever close or confuse the element that loads this file.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.lossarticle.{function}({json.dumps(slug)}, {text});\n"


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
    percent) and must land where ``numbers.num`` and ``pct`` land on the same float32: a value
    already rounded to 4 digits would be rounded twice, and 0.12351 would read 0.123, not 0.124.
    """
    return [float(np.format_float_positional(v, unique=True)) if np.isfinite(v) else None
            for v in np.asarray(values, dtype=np.float32).ravel()]
