"""The publishing workflow, checked before GitHub runs it: its schema, its shell scripts, its data cache.

The schema is check-jsonschema's vendored copy of GitHub's workflow schema (no network); the scripts go through
Debian's shellcheck, which ``make test`` provides. Each checker is also fed a broken copy of the workflow, so a
check that has stopped looking fails here instead of passing everything.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lossarticle.errors import LossArticleError
from lossarticle.system_packages import SHELLCHECK, missing_message, this_host
from tests.test_imports import imports_of, module_file

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
# `${{ expr }}` is substituted by GitHub before the shell sees the text; a plain word stands in for it.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
PLACEHOLDER = "GITHUB_EXPRESSION"


def schema_check(workflow: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on ``workflow`` against GitHub's workflow schema: exit 0 when valid, 1 with the errors."""
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(workflow)], capture_output=True, text=True, check=False)


def run_scripts(workflow: dict[str, Any]) -> list[tuple[str, str]]:
    """Every step's ``run:`` text, named by where it sits (``jobs.build.steps[2]``)."""
    return [(f"jobs.{job}.steps[{i}]", step["run"])
            for job, body in workflow["jobs"].items()
            for i, step in enumerate(body.get("steps", [])) if "run" in step]


def shellcheck(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """shellcheck's report on one run: script as GitHub's default bash would run it (expressions replaced)."""
    if not SHELLCHECK.program.exists():
        raise LossArticleError(missing_message(this_host((SHELLCHECK,))))
    path = folder / "step.sh"
    path.write_text("#!/usr/bin/env bash\n" + EXPRESSION.sub(PLACEHOLDER, script))
    # --norc: no .shellcheckrc from the machine or a parent folder may silence a check.
    return subprocess.run([str(SHELLCHECK.program), "--norc", "-s", "bash", str(path)], capture_output=True,
                          text=True, check=False)


def shellcheck_reports(workflow: Path, folder: Path) -> dict[str, str]:
    """shellcheck's findings per run: step of ``workflow``; only steps with findings appear."""
    reports = {}
    for where, script in run_scripts(yaml.safe_load(workflow.read_text())):
        result = shellcheck(script, folder)
        if result.returncode != 0:
            reports[where] = result.stdout + result.stderr
    return reports


def broken_copy(folder: Path, edit: str, replacement: str) -> Path:
    """The real workflow with one line edited, written into ``folder``."""
    text = WORKFLOW.read_text()
    assert text.count(edit) == 1, f"the edit {edit!r} must match one place in {WORKFLOW.name}"
    path = folder / "pages.yml"
    path.write_text(text.replace(edit, replacement))
    return path


def with_step(folder: Path, step: dict[str, Any]) -> Path:
    """The real workflow with ``step`` added to the build job, written into ``folder``."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["jobs"]["build"]["steps"].append(step)
    path = folder / "pages.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path


def data_cache_step() -> dict[str, Any]:
    """The build job's actions/cache step for site/data."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    [step] = [s for s in steps if s.get("uses", "").startswith("actions/cache@") and s["with"]["path"] == "site/data"]
    return step


# ---------------------------------------------------------------- the real workflow passes

def test_the_workflow_follows_githubs_schema() -> None:
    result = schema_check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_run_step_passes_shellcheck(tmp_path) -> None:
    assert len(run_scripts(yaml.safe_load(WORKFLOW.read_text()))) >= 2  # the torch install and the build
    assert shellcheck_reports(WORKFLOW, tmp_path) == {}


# ---------------------------------------------------------------- a broken workflow fails

# An unknown key under a job, and a misspelt key of a step. Only a step's own keys are checked: inputs under
# `with:` are free-form to the schema (`paths:` passes).
BROKEN_KEYS = [
    ("  build:\n    runs-on: ubuntu-latest\n", "  build:\n    runs-on: ubuntu-latest\n    timeout: 30\n",
     "$.jobs.build: Additional properties are not allowed ('timeout' was unexpected)"),
    ("        with:\n          path: site/data\n", "        wiht:\n          path: site/data\n",
     "$.jobs.build.steps[4]: Additional properties are not allowed ('wiht' was unexpected)"),
]


@pytest.mark.parametrize("text, broken_text, report", BROKEN_KEYS, ids=["unknown-job-key", "misspelt-step-key"])
def test_a_key_the_schema_does_not_know_fails_the_schema_check(tmp_path, text: str, broken_text: str,
                                                               report: str) -> None:
    result = schema_check(broken_copy(tmp_path, text, broken_text))
    assert result.returncode == 1
    assert report in result.stdout


def test_an_unquoted_variable_fails_shellcheck(tmp_path) -> None:
    broken = with_step(tmp_path, {"name": "Copy", "run": 'SOURCE="my site"\ncp -r $SOURCE public/\n'})
    reports = shellcheck_reports(broken, tmp_path)
    assert list(reports) == ["jobs.build.steps[7]"]
    assert "SC2086" in reports["jobs.build.steps[7]"]  # Double quote to prevent globbing and word splitting


def test_a_shell_syntax_error_fails_shellcheck(tmp_path) -> None:
    broken = with_step(tmp_path, {"run": 'if [ -d site ]; then\n  echo "built"\n'})  # no fi
    reports = shellcheck_reports(broken, tmp_path)
    assert list(reports) == ["jobs.build.steps[7]"]
    assert "SC1046" in reports["jobs.build.steps[7]"]  # Couldn't find 'fi' for this 'if'


@pytest.mark.parametrize("script", ['echo "${{ steps.pages.outputs.base_url }}"',
                                    'test -n "${{ github.event_name == \'push\' && \'yes\' || \'\' }}"'])
def test_expressions_are_replaced_so_shellcheck_reads_the_shell(tmp_path, script) -> None:
    # Left in place, GitHub's `${{ }}` is a bad substitution to shellcheck: the replacement is needed.
    raw = tmp_path / "raw.sh"
    raw.write_text("#!/usr/bin/env bash\n" + script + "\n")
    assert subprocess.run([str(SHELLCHECK.program), "--norc", "-s", "bash", str(raw)], capture_output=True,
                          check=False).returncode != 0
    assert shellcheck(script + "\n", tmp_path).returncode == 0


# ---------------------------------------------------------------- the caches

def hashed_files(key: str) -> list[str]:
    """The paths inside the key's ``hashFiles(...)``."""
    [arguments] = re.findall(r"hashFiles\((.*?)\)", key, re.DOTALL)
    return re.findall(r"'([^']+)'", arguments)


def compute_modules() -> set[str]:
    """Files of the lossarticle modules the compute stages may import (every import, walked without running them)."""
    seen, queue = set(), ["lossarticle.pipeline", "lossarticle.export"]
    while queue:
        module = queue.pop()
        path = module_file(module)
        if path is not None and module not in seen:
            seen.add(module)
            queue.extend(imports_of(path))
    return {module_file(module).relative_to(ROOT).as_posix() for module in seen}


def test_the_data_cache_key_covers_the_pins_and_every_compute_module() -> None:
    hashed = set(hashed_files(data_cache_step()["with"]["key"]))
    # errors.py words messages only; build.py is not imported by the stages but sets deterministic algorithms
    # and writes spiral.json and index.json.
    needed = (compute_modules() - {"lossarticle/errors.py"}) | {"lossarticle/build.py", "requirements.txt"}
    assert "lossarticle/schema.py" in needed and "lossarticle/train.py" in needed
    assert needed <= hashed, f"missing from the key: {sorted(needed - hashed)}"


def test_every_hashed_file_exists() -> None:
    # hashFiles() skips a path that matches nothing, so a typo would silently drop a file from the key.
    missing = [name for name in hashed_files(data_cache_step()["with"]["key"]) if not (ROOT / name).is_file()]
    assert missing == []


def test_only_an_exact_hit_restores_the_data() -> None:
    # The build's cache check covers the registry, not the code: an older entry (restore-keys) could hold
    # numbers another train.py made, with matching config hashes, and they would be published.
    assert "restore-keys" not in data_cache_step()["with"]


def test_pip_downloads_are_cached_on_the_pins() -> None:
    [setup] = [s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
               if s.get("uses", "").startswith("actions/setup-python@")]
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"].split() == ["requirements.txt", "requirements-dev.txt"]
    assert all((ROOT / name).is_file() for name in setup["with"]["cache-dependency-path"].split())


def test_the_readme_shows_the_key_the_workflow_uses() -> None:
    # The README prints the key in a fenced block, wrapped; joined with spaces it is the workflow's key.
    readme = (ROOT / "README.md").read_text()
    [block] = re.findall(r"```\n(site-data-.*?)\n```", readme, re.DOTALL)
    assert " ".join(block.splitlines()) == data_cache_step()["with"]["key"]
