"""Prose that would run for minutes or take gigabytes is stopped and named, file and line; good prose is unaffected.

The runaway inputs never finish (or need far more than the limit), on any machine,
so these tests do not depend on speed: only the limit's own seconds are spent.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from lossarticle.bounded import Limits, at, dumped_line, run_bounded, step
from lossarticle.content import number_figures, parse_article, read_sources
from lossarticle.errors import ContentError, LossArticleError
from tests.tiny import TINY_ARTICLE, TINY_REGISTRY, Child, wait_for, write_article

ROOT = Path(__file__).resolve().parents[1]

KNOWN = tuple(e.slug for e in TINY_REGISTRY)
# Short enough for a quick test, long enough that no real step (about 0.01 s) comes near it under any load.
QUICK = Limits(seconds=2, mebibytes=64)


def render(folder, summaries, limits: Limits = QUICK):
    sources = read_sources(folder, "article")
    return parse_article(sources, summaries, number_figures(sources, KNOWN, limits), lambda ref, c: c, limits)


SECTION = "---\ntitle: X\n---\n\nA paragraph.\n\n"


@pytest.mark.parametrize("body, line", [
    # Two nested loops: 10**10 iterations of Python.
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n", 7),
    # One C call that runs for minutes; Jinja used to fold it while compiling, outside any line.
    ("text\n\n{{ 7**(7**9) }}\n", 9),
    # markdown-it-py's smart quotes are quadratic in unmatched quotes: 64,000 take hours.
    ("text\n\n" + "'a\" " * 64000 + "\n", 9),
])
def test_a_runaway_section_is_stopped_and_named(tmp_path, tiny_summaries, body: str, line: int) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "03-x.md": SECTION + body})
    with pytest.raises(ContentError) as caught:
        render(folder, tiny_summaries)
    assert caught.value.message == f"article/03-x.md:{line}: took more than 2 s"


@pytest.mark.parametrize("body, line", [
    # A string doubled forty times: a terabyte.
    ("{% set ns = namespace(s='ab') %}\n{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}\n", 8),
    # A constant expression of a gigabyte, which Jinja used to build while compiling (reported at line 1).
    ('\n{{ "%0999999999d" % 1 }}\n', 8),
])
def test_a_section_that_needs_too_much_memory_is_named(tmp_path, tiny_summaries, body: str, line: int) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "03-x.md": SECTION + body})
    with pytest.raises(ContentError) as caught:
        render(folder, tiny_summaries)
    assert caught.value.message == f"article/03-x.md:{line}: needed more than 64 MiB"


def test_good_prose_renders_the_same_within_tight_limits(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", TINY_ARTICLE)
    generous = render(folder, tiny_summaries, Limits())
    assert render(folder, tiny_summaries, Limits(seconds=2, mebibytes=16)) == generous
    assert [f.slug for f in generous.figures] == ["tiny", "explorer", "tiny-opt"]


def test_errors_and_results_cross_back_as_themselves() -> None:
    assert run_bounded(lambda: {"a": [1, 2]}, QUICK, "x.md") == {"a": [1, 2]}

    def mistake() -> None:
        step("article/05-y.md")
        raise ContentError("article/05-y.md:3: a mistake")

    with pytest.raises(ContentError, match=r"^article/05-y\.md:3: a mistake$"):
        run_bounded(mistake, QUICK, "x.md")
    with pytest.raises(RuntimeError, match=r"(?s)the bounded child failed:.*ZeroDivisionError"):
        run_bounded(lambda: 1 / 0, QUICK, "x.md")  # a bug keeps its traceback


def test_a_child_that_dies_is_one_line_at_the_last_place_it_said() -> None:
    def crash() -> None:
        step("article/05-y.md")
        at("article/05-y.md:12")
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would

    with pytest.raises(LossArticleError, match=r"^article/05-y\.md:12: stopped by signal SIGKILL$"):
        run_bounded(crash, QUICK, "x.md")


def test_a_dumped_stack_is_mapped_back_to_the_template_line() -> None:
    dump = ('Stack (most recent call first):\n  File "<template>", line 40 in root\n'
            '  File "/x/jinja2/environment.py", line 1293 in render\n')
    assert dumped_line(dump, [(3, 12), (7, 31), (9, 44)]) == 7
    assert dumped_line("Stack (most recent call first):\n  File \"/x/compiler.py\", line 9\n", [(3, 12)]) == 1


# A process whose bounded child spins forever: the child says its pid, then loops.
ORPHAN = """
import os, sys
sys.path[:0] = [{root!r}]
from lossarticle.bounded import Limits, run_bounded
def spin():
    os.write(1, f"CHILD {{os.getpid()}}\\n".encode())
    while True:
        pass
run_bounded(spin, Limits(seconds=3600), "x.md")
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no longer does; a container's init may be slow to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's")
def test_a_bounded_child_ends_with_its_parent() -> None:
    parent = Child(ORPHAN.format(root=str(ROOT)))
    pid = int(parent.line(lambda line: line.startswith("CHILD "), "the bounded child never started").split()[1])
    assert alive(pid)
    try:
        os.kill(parent.pid, signal.SIGKILL)  # the parent's clock, which would have stopped the child, goes with it
        parent.process.wait()
        wait_for(lambda: not alive(pid))
    finally:
        if alive(pid):  # a failed run leaves nothing spinning
            os.kill(pid, signal.SIGKILL)
        parent.finish()
