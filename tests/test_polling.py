from __future__ import annotations

import itertools

import pytest

from lossarticle.polling import POLL_S, wait_until


def test_wait_until_returns_as_soon_as_the_condition_holds() -> None:
    checks = itertools.count(1)
    pauses: list[float] = []
    wait_until(lambda: next(checks) >= 3, 60, "never", pause=pauses.append)
    assert pauses == [POLL_S, POLL_S]  # false, pause, false, pause, true


def test_wait_until_names_what_never_happened() -> None:
    with pytest.raises(TimeoutError, match=r"^the figure never became ready \(waited 0 s\)$"):
        wait_until(lambda: False, 0, "the figure never became ready", pause=lambda seconds: None)
