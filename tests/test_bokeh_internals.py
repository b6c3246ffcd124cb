"""The installed Bokeh still provides the private API ``lossarticle/bokeh_internals.py`` uses.

The page script's side (``templates/assets/js/bokeh.js``) is checked in a real browser, against the
BokehJS bundle the site ships: ``tests/test_browser.py::test_bokeh_provides_what_the_page_script_uses``.
"""
from __future__ import annotations

import threading

from bokeh.models import Range1d
from bokeh.util import serialization as bokeh_serialization

from lossarticle.bokeh_internals import next_bokeh_id, set_next_bokeh_id


def test_bokeh_still_has_the_id_counter_and_its_lock() -> None:
    assert type(bokeh_serialization._simple_id) is int
    lock = bokeh_serialization._simple_id_lock
    assert isinstance(lock, type(threading.Lock()))


def test_restarting_the_counter_names_the_next_model_and_counts_on() -> None:
    set_next_bokeh_id(123_457)
    assert next_bokeh_id() == 123_457
    first, second = Range1d(), Range1d()
    assert (first.id, second.id) == ("p123457", "p123458")  # Bokeh's own make_id follows the counter we set
    assert next_bokeh_id() == 123_459
