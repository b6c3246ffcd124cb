"""The site folder: one build at a time, swaps that survive a kill at every step, folders that are ours."""
from __future__ import annotations

from pathlib import Path

import pytest

from lossarticle.build import TrainOptions, train_experiments
from lossarticle.errors import LossArticleError
from lossarticle.site_folder import check_replaceable, lock_path, recover, site_lock, swap_in
from tests.tiny import (PARK, TINY_PROSE, TINY_REGISTRY, Child, copy_data, file_tree, render_tiny, wait_for,
                        write_article)

ROOT = Path(__file__).resolve().parents[1]

# A child that renders, but stops dead at the n-th os.replace whose source matches: the parent kills it there.
STALL_AT_RENAME = """
import os, sys
sys.path[:0] = [{root!r}]
real_replace = os.replace
def stalled_replace(src, dst):
    if {predicate}:
        print("STALLED", flush=True)
        {park}
    real_replace(src, dst)
os.replace = stalled_replace
from pathlib import Path
from tests.tiny import render_tiny
render_tiny(Path({site!r}), Path({article!r}))
"""


def start_and_stall(code: str) -> Child:
    """Start ``code``; return once it printed STALLED (it is then parked inside os.replace)."""
    child = Child(code)
    child.line(lambda line: "STALLED" in line, "the child never reached the point to stall at")
    return child


# The renames a render makes: staging files (".site.build-*/.x.tmp"), then the swap moves site to
# ".site.old-*/site" and the staging folder to site.
@pytest.mark.parametrize("predicate, moment", [
    ("'.site.build-' in str(src) and str(src).endswith('.tmp')", "while staging the new site"),
    ("str(src) == {site!r}", "after staging, as the old site moves aside"),
    ("os.path.basename(src).startswith('.site.build-')", "with the old site aside, before the new one moves in"),
])
def test_a_render_killed_at_any_step_loses_nothing(tmp_path, tiny_site, predicate: str, moment: str) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_PROSE)  # the swap is the same with or without figures
    render_tiny(site, article)
    before = file_tree(site)
    (article / "01-intro.md").write_text(TINY_PROSE["01-intro.md"].replace("Drag", "Now drag"))
    code = STALL_AT_RENAME.format(root=str(ROOT), site=str(site), article=str(article),
                                  predicate=predicate.format(site=str(site)), park=PARK)
    start_and_stall(code).kill()
    said: list[str] = []
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, device="cpu", progress=False),
                      echo=said.append)
    assert said[-len(TINY_REGISTRY):] == [f"{e.slug}: cached, up to date" for e in TINY_REGISTRY], (moment, said)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "article", "site"], moment
    after = file_tree(site)
    assert {k: v for k, v in after.items() if k.startswith("data/")} == \
        {k: v for k, v in before.items() if k.startswith("data/")}, moment
    render_tiny(site, article)
    assert "Now drag" in (site / "index.html").read_text()


def test_recover_puts_back_a_site_moved_aside(tmp_path) -> None:
    site = tmp_path / "site"
    (tmp_path / ".site.old-x" / "site" / "data").mkdir(parents=True)
    (tmp_path / ".site.old-x" / "site" / "data" / "a.json").write_text("{}")
    (tmp_path / ".site.build-y").mkdir()
    said: list[str] = []
    recover(site, said.append)
    assert (site / "data" / "a.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert said == [f"{site}: restored the previous site, which an interrupted build had moved aside"]


def test_swap_replaces_the_site_whole(tmp_path) -> None:
    site, staging = tmp_path / "site", tmp_path / ".site.build-1"
    (site / "old").mkdir(parents=True)
    (staging / "new").mkdir(parents=True)
    swap_in(staging, site)
    assert [p.name for p in site.iterdir()] == ["new"] and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


TRAIN_AND_STALL = """
import os, sys
sys.path[:0] = [{root!r}]
real_replace = os.replace
def stalled_replace(src, dst):
    if str(src).endswith(".tmp"):
        print("STALLED", flush=True)
        {park}
    real_replace(src, dst)
os.replace = stalled_replace
from pathlib import Path
from lossarticle.build import TrainOptions, train_experiments
from tests.tiny import TINY_REGISTRY
train_experiments(TrainOptions(data_dir=Path({data!r}), registry=TINY_REGISTRY, device="cpu", force=True,
                               progress=False), echo=print)
"""

SECOND_TRAIN = """
import sys
sys.path[:0] = [{root!r}]
from pathlib import Path
from lossarticle.build import TrainOptions, train_experiments
from tests.tiny import TINY_REGISTRY
import torch._dynamo  # what training imports first (1.5 s), done while the first run gets going
sys.stdin.readline()  # the parent says when: once the first run holds the lock
train_experiments(TrainOptions(data_dir=Path({data!r}), registry=TINY_REGISTRY, device="cpu", progress=False),
                  echo=lambda line: print(line, flush=True))
"""


def blocked_on_a_lock(pid: int) -> bool:
    """Whether process ``pid`` sleeps in flock(), waiting for a lock another holds (Linux's /proc/locks)."""
    return any(line.split()[1:3] == ["->", "FLOCK"] and line.split()[5] == str(pid)
               for line in Path("/proc/locks").read_text().splitlines())


def test_a_second_train_waits_for_the_first_and_never_deletes_its_files(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    data = site / "data"
    second = Child(SECOND_TRAIN.format(root=str(ROOT), data=str(data)))
    first = start_and_stall(TRAIN_AND_STALL.format(root=str(ROOT), data=str(data), park=PARK))
    in_flight = sorted(p.name for p in data.glob(".*.tmp"))
    assert in_flight, "the first run stalled before writing; the test proves nothing"
    second.tell("go")
    waiting = second.line(lambda line: True, "the second run said nothing")
    assert waiting == f"{site}: another build (pid {first.pid}) is writing it; waiting for it to finish\n"
    # Everything the second run does before it waits is done once the kernel has it queued for the lock.
    wait_for(lambda: blocked_on_a_lock(second.pid) or second.process.poll() is not None)
    assert second.process.poll() is None, "the second run went on while the first held the lock"
    assert sorted(p.name for p in data.glob(".*.tmp")) == in_flight  # the live run's file is still there
    first.kill()  # the kernel drops a dead holder's lock
    status, said = second.finish()
    assert status == 0, said
    assert not list(data.glob(".*.tmp"))  # the dead run's leftovers are removed by the next holder
    assert lock_path(site).read_text().strip() == str(second.pid)


def test_the_lock_is_reentrant_within_one_process(tmp_path) -> None:
    site = tmp_path / "site"
    with site_lock(site, echo=print):
        with site_lock(site, echo=print):  # build() holds it around train and render
            pass
    assert lock_path(site).exists()


def test_a_folder_that_is_not_ours_is_never_replaced(tmp_path) -> None:
    article, templates = tmp_path / "article", tmp_path / "templates"
    article.mkdir()
    templates.mkdir()
    with pytest.raises(LossArticleError, match=r"contains .*article, which the build reads"):
        check_replaceable(tmp_path, (article, templates))
    with pytest.raises(LossArticleError, match=r"contains .*article, which the build reads"):
        check_replaceable(article, (article, templates))
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(LossArticleError, match=r"holds thesis\.tex, which lossarticle did not make"):
        check_replaceable(mine, (article,))
    link = tmp_path / "site-link"
    link.symlink_to(mine)
    with pytest.raises(LossArticleError, match=r"site-link: is a symbolic link; .* give the folder it points to"):
        check_replaceable(link, (article,))
    built = tmp_path / "site"
    (built / "data").mkdir(parents=True)
    (built / "index.html").write_text("")
    check_replaceable(built, (article, templates))  # a site we made: fine
    check_replaceable(tmp_path / "new", (article, templates))  # a new folder: fine
