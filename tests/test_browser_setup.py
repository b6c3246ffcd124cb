"""Providing the browser: ``make test`` installs Debian's Chromium or stops first, never downloads one.

The machine is faked (a Host and a recording runner), so these run anywhere.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from lossarticle import browser
from lossarticle.browser import Host, ensure_chromium
from lossarticle.errors import LossArticleError

ROOT = Path(__file__).resolve().parents[1]


class FakeApt:
    """Records commands; a successful install creates the browser file, as Debian's package does."""

    def __init__(self, chromium: Path, status: int = 0, installs: bool = True) -> None:
        self.chromium, self.status, self.installs = chromium, status, installs
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, command: list[str], env: dict[str, str], check: bool) -> SimpleNamespace:
        self.calls.append((command, env.get("DEBIAN_FRONTEND")))
        if command[1] == "install" and self.status == 0 and self.installs:
            self.chromium.write_text("#!/bin/sh\n")
        return SimpleNamespace(returncode=self.status)


def test_present_browser_runs_nothing(tmp_path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    apt = FakeApt(chromium)
    ensure_chromium(Host(chromium, is_root=True, apt_get="/usr/bin/apt-get"), run=apt, echo=lambda line: None)
    assert apt.calls == []


def test_root_on_debian_installs_the_chromium_package(tmp_path) -> None:
    chromium, said = tmp_path / "chromium", []
    apt = FakeApt(chromium)
    ensure_chromium(Host(chromium, is_root=True, apt_get="/usr/bin/apt-get"), run=apt, echo=said.append)
    assert apt.calls == [(["/usr/bin/apt-get", "update", "-q"], "noninteractive"),
                         (["/usr/bin/apt-get", "install", "-y", "-q", "chromium"], "noninteractive")]
    assert chromium.exists() and said == [f"{chromium} not found: installing Debian's chromium package"]


@pytest.mark.parametrize("is_root, apt_get, message", [
    (False, "/usr/bin/apt-get", "{c} not found: run `sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive "
                                "apt-get install -y -q chromium`, then try again"),
    (True, None, "{c} not found and this machine has no apt-get: install Chromium so that {c} runs it "
                 "(the tests use no other browser and never download one)"),
    (False, None, "{c} not found and this machine has no apt-get: install Chromium so that {c} runs it "
                  "(the tests use no other browser and never download one)"),
])
def test_where_it_cannot_install_it_names_the_command(tmp_path, is_root, apt_get, message) -> None:
    chromium = tmp_path / "chromium"
    apt = FakeApt(chromium)
    with pytest.raises(LossArticleError) as caught:
        ensure_chromium(Host(chromium, is_root, apt_get), run=apt, echo=lambda line: None)
    assert caught.value.message == message.format(c=chromium)
    assert apt.calls == []


def test_a_failed_or_empty_install_is_one_line(tmp_path) -> None:
    chromium = tmp_path / "chromium"
    with pytest.raises(LossArticleError, match=r"^`/usr/bin/apt-get update -q` failed with exit status 100 "):
        ensure_chromium(Host(chromium, True, "/usr/bin/apt-get"), run=FakeApt(chromium, status=100),
                        echo=lambda line: None)
    with pytest.raises(LossArticleError, match=f"^apt-get installed chromium, but {chromium} is still missing$"):
        ensure_chromium(Host(chromium, True, "/usr/bin/apt-get"), run=FakeApt(chromium, installs=False),
                        echo=lambda line: None)


def test_ensure_command_exits_1_with_one_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(browser, "this_host", lambda: Host(tmp_path / "chromium", False, "/usr/bin/apt-get"))
    result = CliRunner().invoke(browser.main, ["--ensure"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith(f"Error: {tmp_path / 'chromium'} not found: run `sudo apt-get update -q")


def test_make_test_provides_the_browser_before_any_test() -> None:
    # A dry run lists the recipes in the order make would run them.
    dry = subprocess.run(["make", "-n", "test", f"PY={sys.executable}"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    ensure = next(i for i, line in enumerate(dry) if "-m lossarticle.browser --ensure" in line)
    tests = next(i for i, line in enumerate(dry) if "-m pytest" in line)
    assert ensure < tests
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    assert "apt-get" not in (ROOT / ".ci" / "run").read_text()
