"""The Debian packages the tests run: ``chromium`` (the browser tests) and ``shellcheck`` (the workflow's scripts).

Nothing is downloaded on its own (no ``playwright install``, no linter binary): both
come from Debian. ``python -m lossarticle.system_packages --ensure`` (run by
``make test`` before any test) installs whichever are missing, in one apt-get call,
when this is root on Debian/Ubuntu; anywhere else it stops with the one command to run.
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


@dataclass(frozen=True)
class Package:
    """A Debian package and the program of it that the tests run."""

    name: str  # the package apt-get installs
    program: Path  # the file that shows it is installed; the tests run exactly this one


CHROMIUM = Package("chromium", Path("/usr/bin/chromium"))
SHELLCHECK = Package("shellcheck", Path("/usr/bin/shellcheck"))
TEST_PACKAGES = (CHROMIUM, SHELLCHECK)  # what `make test` provides


@dataclass(frozen=True)
class Host:
    """What decides how this machine gets the packages; tests pass a fake one."""

    packages: tuple[Package, ...]  # what must be installed
    is_root: bool  # may install system packages
    apt_get: str | None  # path of apt-get; None off Debian/Ubuntu


def this_host(packages: tuple[Package, ...] = TEST_PACKAGES) -> Host:
    """The machine we run on, needing ``packages``."""
    return Host(packages, os.geteuid() == 0, shutil.which("apt-get"))


def missing_packages(host: Host) -> tuple[Package, ...]:
    """The packages whose program is not there, in the order ``host`` lists them."""
    return tuple(package for package in host.packages if not package.program.exists())


def apt_commands(apt_get: str, packages: tuple[Package, ...]) -> list[list[str]]:
    """One update, then one install of all of ``packages`` (the environment adds DEBIAN_FRONTEND)."""
    return [[apt_get, "update", "-q"], [apt_get, "install", "-y", "-q", *(p.name for p in packages)]]


def missing_message(host: Host) -> str:
    """One line naming the command that provides the missing packages on ``host``."""
    missing = missing_packages(host)
    programs, names = ", ".join(str(p.program) for p in missing), " ".join(p.name for p in missing)
    if host.apt_get is None:
        return (f"{programs} not found and this machine has no apt-get: install {names} so that {programs} "
                f"{'runs it' if len(missing) == 1 else 'run them'} (the tests use no other copy and never "
                f"download one)")
    sudo = "" if host.is_root else "sudo "
    return (f"{programs} not found: run `{sudo}apt-get update -q && {sudo}DEBIAN_FRONTEND=noninteractive "
            f"apt-get install -y -q {names}`, then try again")


def ensure_packages(host: Host, run: Callable[..., Any] = subprocess.run,
                    echo: Callable[[str], None] = print) -> None:
    """Install the missing packages when ``host`` allows; otherwise say what to run."""
    missing = missing_packages(host)
    if not missing:
        return
    if not host.is_root or host.apt_get is None:
        raise LossArticleError(missing_message(host))
    names = " ".join(p.name for p in missing)
    echo(f"{', '.join(str(p.program) for p in missing)} not found: installing Debian's "
         f"{'package' if len(missing) == 1 else 'packages'} {names}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in apt_commands(host.apt_get, missing):
        status = run(command, env=environment, check=False).returncode
        if status != 0:
            raise LossArticleError(f"`{' '.join(command)}` failed with exit status {status} (its output is above)")
    still = missing_packages(host)
    if still:
        raise LossArticleError(f"apt-get installed {names}, but {', '.join(str(p.program) for p in still)} "
                               f"{'is' if len(still) == 1 else 'are'} still missing")


@click.command()
@click.option("--ensure", is_flag=True, help="Install the missing test packages (chromium, shellcheck) if "
                                             "possible, else stop with the command to run.")
def main(ensure: bool) -> None:
    """Provide the system packages the tests need (make test runs this first)."""
    if not ensure:
        raise click.UsageError("nothing to do: pass --ensure")
    ensure_packages(this_host(), echo=click.echo)


if __name__ == "__main__":
    main()
