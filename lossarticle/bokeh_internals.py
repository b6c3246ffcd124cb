"""Bokeh's private Python API that lossarticle relies on, and nothing else: the next upgrade has one file to read.

Checked against Bokeh 3.9.2, the pin in requirements.txt. ``tests/test_bokeh_internals.py``
fails if the installed Bokeh stops providing what is used here. (The page script's
counterpart is ``templates/assets/js/bokeh.js``.)

What we use and why: Bokeh numbers its models from one process-wide counter,
``bokeh.util.serialization._simple_id`` (guarded by ``_simple_id_lock``; ``make_id`` adds one,
then names the model ``p<counter>``). There is no public way to restart it, and a byte-stable
figure script needs each panel's ids to start from a number we choose (``panels.panel_item``).
"""
from __future__ import annotations

import threading

from bokeh.util import serialization as bokeh_serialization

CHECKED_AGAINST = "3.9.2"  # the Bokeh release this module was read against


def set_next_bokeh_id(first_id: int) -> None:
    """Make the next Bokeh model id ``p<first_id>`` (Bokeh's simple ids are a process-wide counter)."""
    lock: threading.Lock = bokeh_serialization._simple_id_lock
    with lock:
        bokeh_serialization._simple_id = first_id - 1


def next_bokeh_id() -> int:
    """The number Bokeh's next simple id will carry."""
    return int(bokeh_serialization._simple_id) + 1
