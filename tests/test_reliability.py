"""Interrupted and failing builds never cost the previous site or cache; divergence is survivable."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import pytest
from click.testing import CliRunner

from generate import cli
from lossarticle.build import TrainOptions, train_experiments
from lossarticle.configs import DataConfig, Run
from lossarticle.errors import CacheError, LossArticleError
from lossarticle.pipeline import compute_experiment
from tests.tiny import PARK, TINY_ARTICLE, TINY_PROSE, TINY_REGISTRY, Child, copy_data, render_tiny, tiny, write_article

CPU = torch.device("cpu")
from tests.tiny import file_tree as tree

ROOT = Path(__file__).resolve().parents[1]

# Runs in a child process: do the real work, but stall inside os.replace so the parent can
# kill the process at the worst moment (temporary file written, not yet renamed).
STALL_THEN_RUN = """
import os, sys
sys.path[:0] = [{root!r}]
real_replace = os.replace
def stalled_replace(src, dst):
    print("STALLED", flush=True)
    {park}
    real_replace(src, dst)
os.replace = stalled_replace
{body}
"""
TRAIN_BODY = """
from pathlib import Path
from lossarticle.build import TrainOptions, train_experiments
from tests.tiny import TINY_REGISTRY
train_experiments(TrainOptions(data_dir=Path({data!r}), registry=TINY_REGISTRY, device="cpu", force=True,
                               progress=False), echo=print)
"""



def kill_when_stalled(code: str) -> None:
    """Start ``code`` in a child, wait until it stalls inside os.replace, then SIGKILL it."""
    child = Child(code)
    child.line(lambda line: "STALLED" in line, "the child never reached os.replace")
    assert child.kill() == -signal.SIGKILL


def test_killed_training_keeps_the_cache_and_the_next_run_recovers(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    before = tree(site / "data")
    kill_when_stalled(STALL_THEN_RUN.format(root=str(ROOT), park=PARK,
                                            body=TRAIN_BODY.format(data=str(site / "data"))))
    leftovers = [p.name for p in (site / "data").glob(".*.tmp")]
    assert leftovers, "the child was killed before writing anything; the test proves nothing"
    assert tree(site / "data") == {**before, **{n: tree(site / "data")[n] for n in leftovers}}
    said: list[str] = []
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, device="cpu", progress=False),
                      echo=said.append)
    assert said == [f"{e.slug}: cached, up to date" for e in TINY_REGISTRY]
    assert tree(site / "data") == before  # leftovers removed, finished files untouched


def test_a_failing_figure_half_way_leaves_the_previous_site(tmp_path, tiny_site, monkeypatch) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_PROSE)
    render_tiny(site, article)
    before = tree(site)
    write_article(article, TINY_ARTICLE)  # now with figures: the second one fails
    import lossarticle.page_data as page_data
    real = page_data.figure_script
    calls: list[str] = []

    def failing_second(document, *args, **kwargs):
        calls.append(document.slug)
        if len(calls) == 2:
            raise RuntimeError("figure exploded")
        return real(document, *args, **kwargs)

    monkeypatch.setattr(page_data, "figure_script", failing_second)
    (site / "data" / "tiny.json").touch()  # new mtimes: no cached scripts to fall back on
    with pytest.raises(RuntimeError, match="figure exploded"):
        render_tiny(site, article)
    assert tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "article", "site"]


def test_content_error_through_the_cli_is_one_line_exit_1(tmp_path) -> None:
    article = write_article(tmp_path / "article", {**TINY_ARTICLE,
                                                   "01-intro.md": "---\ntitle: X\n---\n\n::: figure mlp-d7-w5\n:::\n"})
    result = CliRunner().invoke(cli, ["render", "--site", str(tmp_path / "site"), "--article", str(article)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: article/01-intro.md:5: unknown figure 'mlp-d7-w5' (known: logistic,")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("run", [Run("sgd", "sgd", 1000.0, momentum=0.9), Run("sgd", "sgd", 1e10)])
def test_divergence_stops_at_the_last_finite_snapshot(run: Run) -> None:
    data_config = DataConfig(points_per_class=40)
    from lossarticle.data import load_spirals
    experiment = tiny(depth=1, width=6, epochs=20, runs=(run,), planes=("pca", "random", "init-final"))
    result = compute_experiment(experiment, load_spirals(data_config), CPU)
    trajectory = result.trajectories[0]
    assert trajectory.diverged and trajectory.epochs < 20
    assert np.isfinite(trajectory.thetas).all() and np.isfinite(trajectory.train_loss).all()
    for plane in result.planes:
        assert plane.projections[run.name].coords.shape == (trajectory.epochs + 1, 2)
        assert np.isfinite(plane.projections[run.name].coords).all()
    assert result.regions[run.name].frames[-1] == trajectory.epochs


def test_two_cold_builds_are_byte_identical(tmp_path) -> None:
    from lossarticle.build import first_difference, verify_reproducible
    from tests.tiny import TEMPLATES
    article = write_article(tmp_path / "article", TINY_ARTICLE)
    assert verify_reproducible(article, TEMPLATES, "cpu", tmp_path / "work", TINY_REGISTRY,
                               echo=lambda line: None) is None
    # and the comparison itself notices a difference
    (tmp_path / "work" / "b" / "site" / "figures" / "tiny.js").write_text("changed")
    assert first_difference(tmp_path / "work" / "a" / "site", tmp_path / "work" / "b" / "site") == "figures/tiny.js"


def test_a_diverging_experiment_builds_and_its_figure_says_so(tmp_path, tiny_site) -> None:
    from lossarticle.render import RenderOptions, render_site
    from tests.tiny import TEMPLATES
    diverging = tiny("tiny-div", runs=(Run("sgd", "sgd", 1000.0, momentum=0.9),), epochs=20)
    registry = (*TINY_REGISTRY, diverging)
    site = copy_data(tiny_site, tmp_path / "site")  # the tiny experiments are cached: only the new one trains
    said: list[str] = []
    train_experiments(TrainOptions(data_dir=site / "data", registry=registry, device="cpu", progress=False),
                      echo=said.append)
    assert [line for line in said if "cached" not in line] == [line for line in said if "tiny-div" in line]
    from lossarticle.schema import read_experiment
    run = read_experiment(site / "data" / "tiny-div.json", diverging).reference
    assert run.diverged and run.epochs < 20
    article = write_article(tmp_path / "article", {  # its figure alone: the others are drawn elsewhere
        **TINY_PROSE, "03-div.md": "---\ntitle: D\n---\n\n::: figure tiny-div\nToo fast.\n:::\n"})
    render_site(RenderOptions(site_dir=site, article_dir=article, templates_dir=TEMPLATES, registry=registry),
                echo=lambda line: None)
    html = (site / "index.html").read_text()
    assert f"diverged at epoch {run.epochs}" in html.lower()
    assert f'max="{run.epochs}"' in html  # the slider stops at the last finite snapshot
    assert (site / "figures" / "tiny-div.js").stat().st_size > 0


def test_a_full_disk_is_one_line_and_keeps_the_cached_file(tmp_path, tiny_site, monkeypatch) -> None:
    import errno
    site = copy_data(tiny_site, tmp_path / "site")
    before = tree(site / "data")
    def full(fd: int) -> None:  # where a full disk shows up with delayed allocation
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(LossArticleError) as caught:
        train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, only=("tiny",), force=True,
                                       device="cpu", progress=False), echo=lambda line: None)
    monkeypatch.undo()
    message = caught.value.message
    assert message == f"{site / 'data' / 'tiny.json'}: cannot write (no space left on the device); nothing " \
                      f"already built was lost"
    assert tree(site / "data") == before  # no temporary file left, the cached file untouched


def test_everything_cached_trains_on_a_read_only_tree(tmp_path, tiny_site, monkeypatch) -> None:
    import errno
    site = copy_data(tiny_site, tmp_path / "site")
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, device="cpu", progress=False),
                      echo=lambda line: None)  # the lock file exists from now on

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("tempfile.NamedTemporaryFile", read_only)
    said: list[str] = []
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, device="cpu", progress=False),
                      echo=said.append)
    assert said == [f"{e.slug}: cached, up to date" for e in TINY_REGISTRY]


def test_an_invalid_registry_is_one_line_naming_the_registry(tmp_path) -> None:
    import shutil
    shutil.copytree(ROOT / "lossarticle", tmp_path / "lossarticle")
    shutil.copy(ROOT / "generate.py", tmp_path / "generate.py")
    configs = tmp_path / "lossarticle" / "configs.py"
    registry = configs.read_text()
    assert "mlp(20, 5, epochs=400," in registry  # the line this test breaks
    configs.write_text(registry.replace("mlp(20, 5, epochs=400,", "mlp(20, 0, epochs=400,", 1))
    result = subprocess.run([sys.executable, "generate.py", "render"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert re.fullmatch(r"Error: lossarticle/configs\.py:\d+: mlp-d20-w0\.width=0: must be a positive integer\n",
                        result.stderr), result.stderr


def test_a_damaged_data_set_file_is_one_line(tmp_path, tiny_site) -> None:
    import json
    site = copy_data(tiny_site, tmp_path / "site")
    spiral = json.loads((site / "data" / "spiral.json").read_text())
    del spiral["val_x"]
    (site / "data" / "spiral.json").write_text(json.dumps(spiral))
    with pytest.raises(CacheError, match=r"spiral\.json\.val_x: missing; run `python generate\.py train`"):
        render_tiny(site, write_article(tmp_path / "article", TINY_ARTICLE))


def test_an_experiment_too_big_for_memory_is_refused_before_allocating(tiny_data) -> None:
    from lossarticle.errors import ConfigError
    from lossarticle.models import architecture
    from lossarticle.pipeline import check_memory
    wide = tiny("wide", width=1_000_000, epochs=1000)
    with pytest.raises(ConfigError, match=r"^wide: needs about 1\d\d\.\d GiB of memory \(weight snapshots: "
                                          r"1\d\d\.\d GiB\), more than the 2\.0 GiB available"):
        check_memory(wide, architecture(wide), len(tiny_data.x_train), 2 * 2 ** 30)
    check_memory(tiny(), architecture(tiny()), len(tiny_data.x_train), 2 * 2 ** 30)  # the tiny one fits


def test_the_site_may_not_be_the_working_directory(tmp_path, monkeypatch) -> None:
    article = write_article(tmp_path / "article", TINY_ARTICLE)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["render", "--site", ".", "--article", str(article)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith("Error: .: contains ") and "which the build reads" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article"]


def nested_json(path: Path) -> str:
    path.write_text("[" * 200_000 + "]" * 200_000)  # json.loads recurses once a level
    return r"unreadable \(nested too deep\)"


def device_link(path: Path) -> str:
    path.unlink()
    path.symlink_to("/dev/null")  # /dev/zero, the same kind, would be read until memory ran out
    return r"unreadable \(a character device, not a regular file\)"


@pytest.mark.parametrize("damage", [nested_json, device_link])
def test_a_cache_file_that_cannot_be_parsed_is_one_line_and_train_recomputes_it(tmp_path, tiny_site,
                                                                               damage) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    path = site / "data" / "tiny.json"
    reason = damage(path)
    with pytest.raises(CacheError, match=rf"^{re.escape(str(path))}: {reason}; run `python generate\.py train` to "
                                         r"recompute it$"):
        render_tiny(site, write_article(tmp_path / "article", TINY_PROSE))
    said: list[str] = []
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, only=("tiny",), device="cpu",
                                   progress=False), echo=said.append)
    assert re.fullmatch(rf"tiny: recomputing: {re.escape(str(path))}: {reason}", said[0]), said
    from lossarticle.schema import read_experiment
    assert not path.is_symlink() and read_experiment(path, TINY_REGISTRY[0]).slug == "tiny"


def invoke_within(args: list[str], timeout_s: float = 60):  # -> click.testing.Result
    """The CLI's result for ``args``; a failure, not a hang, when it has not returned within ``timeout_s`` (a
    ``serve`` that does not refuse serves until stopped)."""
    import threading
    results = []
    worker = threading.Thread(target=lambda: results.append(CliRunner().invoke(cli, args)), daemon=True)
    worker.start()
    worker.join(timeout_s)  # a failure guard only: a refusal comes at once
    assert results, f"{args[0]} did not return within {timeout_s} s"
    return results[0]


@pytest.mark.parametrize("command", ["render", "train", "serve"])
@pytest.mark.parametrize("site, kind", [("/dev/null", "a character device"), ("fifo", "a named pipe (FIFO)")])
def test_a_site_that_cannot_be_a_folder_is_one_line(tmp_path, command: str, site: str, kind: str) -> None:
    if site == "fifo":
        site = str(tmp_path / "fifo")
        os.mkfifo(site)
    article = write_article(tmp_path / "article", TINY_PROSE)
    extra = {"render": ["--article", str(article)], "train": ["--only", "logistic"], "serve": ["--port", "0"]}
    result = invoke_within([command, "--site", site, *extra[command]])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output == f"Error: {site}: is {kind}, not a folder; give --site a folder (new, empty, or one " \
                            f"lossarticle built)\n"


@pytest.mark.parametrize("where, what", [("article", "article"), ("templates", "templates")])
@pytest.mark.parametrize("command", ["render", "serve"])
def test_a_site_inside_a_folder_the_build_reads_is_refused(tmp_path, monkeypatch, command: str, where: str,
                                                           what: str) -> None:
    # serve watches article/ and templates/: its own output there would look like an edit, a rebuild, forever.
    article = write_article(tmp_path / "article", TINY_PROSE)
    monkeypatch.setattr("generate.TEMPLATES", tmp_path / "templates")
    site = tmp_path / where / "out"
    extra = ["--port", "0"] if command == "serve" else []
    result = invoke_within([command, "--site", str(site), "--article", str(article), *extra])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output == f"Error: {site}: is inside {tmp_path / what}, which the build reads and serve " \
                            f"watches; choose a folder outside it for --site\n"
    assert not site.exists()


def test_a_negative_seed_is_refused_where_the_registry_says_it(tmp_path) -> None:
    import shutil
    shutil.copytree(ROOT / "lossarticle", tmp_path / "lossarticle")
    shutil.copy(ROOT / "generate.py", tmp_path / "generate.py")
    configs = tmp_path / "lossarticle" / "configs.py"
    registry = configs.read_text()
    assert "epochs=300, seeds=100," in registry  # the logistic baseline's line, which this test breaks
    configs.write_text(registry.replace("epochs=300, seeds=100,", "epochs=300, seeds=100, seed=-1,", 1))
    result = subprocess.run([sys.executable, "generate.py", "render"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert re.fullmatch(r"Error: lossarticle/configs\.py:\d+: logistic\.seed=-1: must be an integer >= 0 "
                        r"\(below 2\*\*64 - seeds\)\n", result.stderr), result.stderr
