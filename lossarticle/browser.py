"""Headless Debian Chromium through Playwright, as the tests and the reader benchmark use it.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``.
The flags keep it from phoning home (this machine's network refuses it anyway).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lossarticle.errors import LossArticleError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser; a missing binary is one clear line, not a Playwright trace."""
    if not CHROMIUM.exists():
        raise LossArticleError(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
