"""Headless Debian Chromium through Playwright, as the tests and the reader benchmark use it.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``.
The flags keep it from phoning home (this machine's network refuses it anyway).

``python -m lossarticle.browser --ensure`` (run by ``make test`` before any test)
installs Debian's ``chromium`` package when the browser is missing and this is
root on Debian/Ubuntu; anywhere else it stops with the one command to run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from lossarticle.errors import LossArticleError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@dataclass(frozen=True)
class Host:
    """What decides how this machine gets its Chromium; tests pass a fake one."""

    chromium: Path  # where the browser must be
    is_root: bool  # may install system packages
    apt_get: str | None  # path of apt-get; None off Debian/Ubuntu


def this_host() -> Host:
    """The machine we run on."""
    return Host(CHROMIUM, os.geteuid() == 0, shutil.which("apt-get"))


def apt_commands(apt_get: str) -> list[list[str]]:
    """Debian's chromium package, non-interactively (the environment adds DEBIAN_FRONTEND)."""
    return [[apt_get, "update", "-q"], [apt_get, "install", "-y", "-q", "chromium"]]


def missing_message(host: Host) -> str:
    """One line naming the command that provides the browser on ``host``."""
    if host.apt_get is None:
        return (f"{host.chromium} not found and this machine has no apt-get: install Chromium so that "
                f"{host.chromium} runs it (the tests use no other browser and never download one)")
    sudo = "" if host.is_root else "sudo "
    return (f"{host.chromium} not found: run `{sudo}apt-get update -q && {sudo}DEBIAN_FRONTEND=noninteractive "
            f"apt-get install -y -q chromium`, then try again")


def ensure_chromium(host: Host, run: Callable[..., Any] = subprocess.run,
                    echo: Callable[[str], None] = print) -> None:
    """Install Debian's chromium when it is missing and ``host`` allows; otherwise say what to run."""
    if host.chromium.exists():
        return
    if not host.is_root or host.apt_get is None:
        raise LossArticleError(missing_message(host))
    echo(f"{host.chromium} not found: installing Debian's chromium package")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in apt_commands(host.apt_get):
        status = run(command, env=environment, check=False).returncode
        if status != 0:
            raise LossArticleError(f"`{' '.join(command)}` failed with exit status {status} (its output is above)")
    if not host.chromium.exists():
        raise LossArticleError(f"apt-get installed chromium, but {host.chromium} is still missing")


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser; a missing binary is one clear line, not a Playwright trace."""
    if not CHROMIUM.exists():
        raise LossArticleError(missing_message(this_host()))
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@click.command()
@click.option("--ensure", is_flag=True, help="Install Debian's chromium if missing and possible, "
                                             "else stop with the command to run.")
def main(ensure: bool) -> None:
    """Provide the browser the tests need (make test runs this first)."""
    if not ensure:
        raise click.UsageError("nothing to do: pass --ensure")
    ensure_chromium(this_host(), echo=click.echo)


if __name__ == "__main__":
    main()
