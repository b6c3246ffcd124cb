"""Providing Debian's chromium and shellcheck: ``make test`` installs what is missing or stops first.

The machine is faked (a Host whose programs live in tmp_path, and a recording runner), so these run anywhere.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from lossarticle import system_packages
from lossarticle.errors import LossArticleError
from lossarticle.system_packages import Host, Package, ensure_packages

ROOT = Path(__file__).resolve().parents[1]
APT_GET = "/usr/bin/apt-get"


def packages_in(folder: Path) -> tuple[Package, Package]:
    """Chromium and shellcheck, with their programs in ``folder`` instead of /usr/bin."""
    return Package("chromium", folder / "chromium"), Package("shellcheck", folder / "shellcheck")


class FakeApt:
    """Records commands; a successful install creates the programs of the packages it names, as Debian's do."""

    def __init__(self, packages: tuple[Package, ...], status: int = 0, installs: bool = True) -> None:
        self.programs = {p.name: p.program for p in packages}
        self.status, self.installs = status, installs
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, command: list[str], env: dict[str, str], check: bool) -> SimpleNamespace:
        self.calls.append((command, env.get("DEBIAN_FRONTEND")))
        if command[1] == "install" and self.status == 0 and self.installs:
            for name in command[4:]:
                self.programs[name].write_text("#!/bin/sh\n")
        return SimpleNamespace(returncode=self.status)


def test_present_packages_run_nothing(tmp_path) -> None:
    packages = packages_in(tmp_path)
    for package in packages:
        package.program.write_text("")
    apt = FakeApt(packages)
    ensure_packages(Host(packages, is_root=True, apt_get=APT_GET), run=apt, echo=lambda line: None)
    assert apt.calls == []


def test_root_on_debian_installs_every_missing_package_in_one_call(tmp_path) -> None:
    packages, said = packages_in(tmp_path), []
    apt = FakeApt(packages)
    ensure_packages(Host(packages, is_root=True, apt_get=APT_GET), run=apt, echo=said.append)
    assert apt.calls == [([APT_GET, "update", "-q"], "noninteractive"),
                         ([APT_GET, "install", "-y", "-q", "chromium", "shellcheck"], "noninteractive")]
    assert all(p.program.exists() for p in packages)
    assert said == [f"{tmp_path / 'chromium'}, {tmp_path / 'shellcheck'} not found: installing Debian's packages "
                    f"chromium shellcheck"]


def test_only_the_missing_package_is_installed(tmp_path) -> None:
    chromium, shellcheck = packages = packages_in(tmp_path)
    chromium.program.write_text("")
    apt, said = FakeApt(packages), []
    ensure_packages(Host(packages, is_root=True, apt_get=APT_GET), run=apt, echo=said.append)
    assert [command for command, _ in apt.calls] == [[APT_GET, "update", "-q"],
                                                     [APT_GET, "install", "-y", "-q", "shellcheck"]]
    assert said == [f"{shellcheck.program} not found: installing Debian's package shellcheck"]


@pytest.mark.parametrize("is_root, apt_get, message", [
    (False, APT_GET, "{s} not found: run `sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive "
                     "apt-get install -y -q shellcheck`, then try again"),
    (True, None, "{s} not found and this machine has no apt-get: install shellcheck so that {s} runs it "
                 "(the tests use no other copy and never download one)"),
    (False, None, "{s} not found and this machine has no apt-get: install shellcheck so that {s} runs it "
                  "(the tests use no other copy and never download one)"),
])
def test_where_it_cannot_install_it_names_the_command(tmp_path, is_root, apt_get, message) -> None:
    chromium, shellcheck = packages = packages_in(tmp_path)
    chromium.program.write_text("")
    apt = FakeApt(packages)
    with pytest.raises(LossArticleError) as caught:
        ensure_packages(Host(packages, is_root, apt_get), run=apt, echo=lambda line: None)
    assert caught.value.message == message.format(s=shellcheck.program)
    assert apt.calls == []


def test_the_command_names_every_missing_package(tmp_path) -> None:
    packages = packages_in(tmp_path)
    with pytest.raises(LossArticleError) as caught:
        ensure_packages(Host(packages, False, APT_GET), run=FakeApt(packages), echo=lambda line: None)
    assert caught.value.message == (f"{tmp_path / 'chromium'}, {tmp_path / 'shellcheck'} not found: run "
                                    f"`sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install "
                                    f"-y -q chromium shellcheck`, then try again")


def test_a_failed_or_empty_install_is_one_line(tmp_path) -> None:
    packages = packages_in(tmp_path)
    with pytest.raises(LossArticleError, match=r"^`/usr/bin/apt-get update -q` failed with exit status 100 "):
        ensure_packages(Host(packages, True, APT_GET), run=FakeApt(packages, status=100), echo=lambda line: None)
    with pytest.raises(LossArticleError, match=f"^apt-get installed chromium shellcheck, but {tmp_path / 'chromium'}, "
                                               f"{tmp_path / 'shellcheck'} are still missing$"):
        ensure_packages(Host(packages, True, APT_GET), run=FakeApt(packages, installs=False), echo=lambda line: None)


def test_ensure_command_exits_1_with_one_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(system_packages, "this_host", lambda: Host(packages_in(tmp_path), False, APT_GET))
    result = CliRunner().invoke(system_packages.main, ["--ensure"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith(f"Error: {tmp_path / 'chromium'}, {tmp_path / 'shellcheck'} not found: run "
                                    f"`sudo apt-get update -q")


def test_make_test_provides_the_packages_before_any_test() -> None:
    # A dry run lists the recipes in the order make would run them.
    dry = subprocess.run(["make", "-n", "test", f"PY={sys.executable}"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    ensure = next(i for i, line in enumerate(dry) if "-m lossarticle.system_packages --ensure" in line)
    tests = next(i for i, line in enumerate(dry) if "-m pytest" in line)
    assert ensure < tests
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    assert "apt-get" not in (ROOT / ".ci" / "run").read_text()
