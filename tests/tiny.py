"""Tiny configurations and helpers shared by the tests; torch-free, so a subprocess can use them."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lossarticle.configs import DataConfig, Experiment, Run, SurfaceConfig
from lossarticle.polling import wait_until

TINY_DATA = DataConfig(points_per_class=40)
TINY_SURFACE = SurfaceConfig(resolution=7, region_resolution=6, region_frames=4)


def tiny(slug: str = "tiny", **changes: object) -> Experiment:
    """A 1-hidden-layer, 6-neuron net trained for 8 epochs on 120 points."""
    fields = dict(slug=slug, title="tiny", depth=1, width=6, epochs=8, data=TINY_DATA, surface=TINY_SURFACE)
    fields.update(changes)
    return Experiment(**fields)


TINY_REGISTRY = (
    tiny("tiny", explorer=True, seeds=3),
    tiny("tiny-opt", depth=2, width=4, runs=(Run("adam"), Run("sgd", "sgd", 0.1)), curvature=4, lab="your-run"),
    tiny("tiny-dirs", depth=2, planes=("random", "init-final", "pca"), explorer=True),
    tiny("tiny-skip", depth=2, skip=True, drawn_from="tiny-dirs", lab="dice"),
)


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def render_tiny(site: Path, article: Path):
    """Render ``article`` over the tiny data in ``site``/data with the real templates."""
    from lossarticle.render import RenderOptions, render_site
    options = RenderOptions(site_dir=site, article_dir=article, templates_dir=TEMPLATES, registry=TINY_REGISTRY)
    return render_site(options, echo=lambda line: None)


def copy_data(source_site: Path, target_site: Path) -> Path:
    """A fresh site folder holding a copy of ``source_site``/data."""
    import shutil
    shutil.copytree(source_site / "data", target_site / "data")
    return target_site


def write_article(folder: Path, files: dict[str, str]) -> Path:
    """Write Markdown sources into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


TINY_ARTICLE = {
    "00-title.md": "---\ntitle: Tiny <article>\nsubtitle: a test\ndate: 2026-11-27\n"
                   "authors:\n  - name: Tester\n---\n\nLead paragraph.\n",
    "01-intro.md": "---\ntitle: Intro & more\n---\n\nLoss {{ exp[\"tiny\"].final_loss | num }} and "
                   "{{ exp[\"tiny\"].final_train_acc | pct }}; see {{ figref(\"tiny\") }}.[^a]\n\n"
                   "::: figure tiny\nDrag *the slider*.\n:::\n\n[^a]: First note.\n",
    "02-explorer.md": "---\ntitle: More\n---\n\n### A sub-heading\n\nSecond.[^b]\n\n::: explorer\nPick one.\n:::\n\n"
                  "::: figure tiny-opt\nFour runs.\n:::\n\n[^b]: Second note.\n",
}


# The same page without figures, for tests of what happens around a build (locks, swaps, serve, errors):
# rendering it draws no Bokeh figure and no poster, so it costs a few milliseconds instead of two seconds.
TINY_PROSE = {
    "00-title.md": TINY_ARTICLE["00-title.md"],
    "01-intro.md": "---\ntitle: Intro & more\n---\n\nLoss {{ exp[\"tiny\"].final_loss | num }}. Drag nothing.[^a]\n\n"
                   "[^a]: First note.\n",
}


# The figures that are only pictures (content.STATIC_FIGURES), and the dice lab's figure (tiny-skip), placed after
# the others so the numbers of TINY_ARTICLE's figures stay as they are.
TINY_STATIC = {
    "03-data.md": "---\ntitle: The data\n---\n\n::: figure spiral\nThe *points*.\n:::\n\nText.\n\n"
                  "::: figure overview\nEvery network of the explorer.\n:::\n\n"
                  "::: figure seeds\nEvery initialization.\n:::\n\n"
                  "::: figure sharpness\nEvery measured run.\n:::\n",
    "04-twin.md": "---\ntitle: The twin\n---\n\n::: figure tiny-skip\nWith skip connections.\n:::\n",
}
TINY_ARTICLE_WITH_STATIC = {**TINY_ARTICLE, **TINY_STATIC}


def file_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes: compares two builds."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@contextmanager
def serving(options: Any) -> Iterator[tuple[str, list[str]]]:
    """Run ``serve(options)`` in a thread; yields its URL and the lines it said, stops it on exit."""
    from lossarticle.serve import serve
    said: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(options, said.append, stop), daemon=True)
    thread.start()
    wait_for(lambda: any(line.startswith("serving ") for line in said))
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", next(line for line in said if line.startswith("serving ")))
    assert match is not None
    try:
        yield f"http://127.0.0.1:{match[1]}/", said
    finally:
        stop.set()
        thread.join(timeout=30)


def wait_for(condition: Callable[[], object], timeout_s: float = 60) -> None:
    """Poll ``condition`` (another thread's or process's doing) until it holds; fail after ``timeout_s``."""
    wait_until(condition, timeout_s, describe(condition))


def describe(condition: Callable[[], object]) -> str:
    """The source line of ``condition``, for a failure message."""
    import inspect
    try:
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


# Put in a child's code where it should stop: it waits there until the parent kills it, or exits when
# the parent goes away (its stdin closes), so no child outlives a failed test.
PARK = "sys.stdin.read(); os._exit(1)"


class Child:
    """A Python child process whose output the test reads line by line, each wait with a deadline."""

    def __init__(self, code: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.said: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def line(self, wanted: Callable[[str], bool], what: str, timeout_s: float = 120) -> str:
        """The first line from now on that is ``wanted``; fail if the child ends or goes quiet first."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{what}: not within {timeout_s} s (the child said {self.said})") from None
            if line is None:
                raise AssertionError(f"{what}: the child ended first (exit {self.process.wait()}, said {self.said})")
            self.said.append(line)
            if wanted(line):
                return line

    def tell(self, line: str) -> None:
        """Write ``line`` to the child's standard input."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout_s: float = 120) -> tuple[int, str]:
        """Wait for the child to end; its exit status and everything it said."""
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the child did not finish within {timeout_s} s (said {self.said})") from None
        finally:
            assert self.process.stdin is not None
            self.process.stdin.close()
        while (line := self.lines.get(timeout=timeout_s)) is not None:
            self.said.append(line)
        return code, "".join(self.said)

    def kill(self) -> int:
        os.kill(self.process.pid, signal.SIGKILL)
        return self.finish()[0]


def member_zero(ensemble: Any) -> tuple[Any, Any]:
    """Member 0's Trajectory and every member's SeedStats of a ``train.Ensemble``."""
    return ensemble.trajectory(0), ensemble.stats
