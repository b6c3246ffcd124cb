"""Headless Debian Chromium through Playwright, as the tests and the reader benchmark use it.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``,
which ``make test`` provides through :mod:`lossarticle.system_packages`.
The flags keep it from phoning home (this machine's network refuses it anyway).
"""
from __future__ import annotations

from typing import Any

from lossarticle.errors import LossArticleError
from lossarticle.system_packages import CHROMIUM as CHROMIUM_PACKAGE
from lossarticle.system_packages import missing_message, this_host

CHROMIUM = CHROMIUM_PACKAGE.program
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser; a missing binary is one clear line, not a Playwright trace."""
    if not CHROMIUM.exists():
        raise LossArticleError(missing_message(this_host((CHROMIUM_PACKAGE,))))
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
