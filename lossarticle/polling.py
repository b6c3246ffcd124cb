"""Waiting for a condition that no event announces: the one poll loop of the library, the bench and the tests.

Prefer an event when there is one (``threading.Event``, a line a child prints, a
Playwright ``wait_for_selector``). Poll only what cannot be awaited: a file another
process writes, or a page whose Content Security Policy forbids ``eval`` and so
Playwright's ``wait_for_function``. Torch-free, so every half of the code can use it.
"""
from __future__ import annotations

import time
from collections.abc import Callable

POLL_S = 0.05  # between checks: well under a human's notice, and a few hundred checks a minute at most


def wait_until(condition: Callable[[], object], timeout_s: float, what: str,
               pause: Callable[[float], object] = time.sleep) -> None:
    """Return once ``condition()`` is true; after ``timeout_s`` raise ``TimeoutError`` saying ``what`` never
    happened.

    ``pause(seconds)`` waits between checks: ``time.sleep`` by default; a Playwright
    caller passes the page's own wait, so the page's events keep arriving meanwhile.
    The deadline is on the monotonic clock, so a changed wall clock cannot end it early.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} (waited {timeout_s:g} s)")
        pause(POLL_S)
