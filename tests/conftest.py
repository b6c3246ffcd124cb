"""Fixtures shared by the tests: the tiny registry trained once per session, and the full one once per run."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossarticle.data import Dataset, load_spirals  # noqa: E402
from lossarticle.schema import data_dir_of, experiment_path, read_experiment  # noqa: E402
from tests.tiny import TINY_DATA, TINY_REGISTRY  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, one per test module (the browser tests)."""
    from playwright.sync_api import sync_playwright

    from lossarticle.browser import launch_chromium
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def tiny_data() -> Dataset:
    return load_spirals(TINY_DATA)


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory) -> Path:
    """A site folder whose data/ holds the tiny registry's exported files (trained once per session)."""
    from lossarticle.build import TrainOptions, train_experiments
    site = tmp_path_factory.mktemp("tiny") / "site"
    train_experiments(TrainOptions(data_dir=data_dir_of(site), registry=TINY_REGISTRY, device="cpu",
                                   progress=False), echo=lambda line: None)
    return site


@pytest.fixture(scope="session")
def tiny_page(tmp_path_factory, tiny_site) -> Path:
    """The tiny article with figures of every kind, rendered once for the tests that only read the site."""
    from tests.tiny import TINY_ARTICLE_WITH_STATIC, copy_data, render_tiny, write_article
    root = tmp_path_factory.mktemp("page")
    return render_tiny(copy_data(tiny_site, root / "site"), write_article(root / "article", TINY_ARTICLE_WITH_STATIC))


@pytest.fixture(scope="session")
def tiny_summaries(tiny_site):
    from lossarticle.summaries import summarize
    return {e.slug: summarize(read_experiment(experiment_path(data_dir_of(tiny_site), e.slug), e))
            for e in TINY_REGISTRY}


# The whole registry takes minutes to train, about as long as every other test together, which leave a core
# idle most of the time (a browser waited on, one Python thread). So when a collected test needs it, the
# training starts in a child process at the first test, the tests that need it run last, and they wait for it.
# OMP_WAIT_POLICY=PASSIVE: the child's two OpenMP threads sleep instead of spinning while the tests hold a
# core (spinning threads sharing cores slow training tenfold); the files are byte for byte the same.
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def full_training(request, tmp_path_factory) -> Iterator[tuple[subprocess.Popen, Path, Path] | None]:
    """``generate.py train`` of the whole registry into a temporary site, started now when a test needs it."""
    if not any("full_data_dir" in item.fixturenames for item in request.session.items):  # after -m, -k
        yield None
        return
    site = tmp_path_factory.mktemp("full") / "site"
    data_dir = data_dir_of(site)
    data_dir.mkdir(parents=True)
    for cached in (ROOT / "site" / "data").glob("*.json"):
        shutil.copy(cached, data_dir / cached.name)  # read-only use: train checks every one in full
    log = site.parent / "train.log"
    with log.open("w") as out:
        child = subprocess.Popen([sys.executable, str(ROOT / "generate.py"), "train", "--device", "cpu",
                                  "--site", str(site)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                 env=os.environ | {"OMP_WAIT_POLICY": "PASSIVE"})
    yield child, data_dir, log
    if child.poll() is None:  # the run stopped before a test waited for it (-x, Ctrl-C)
        child.kill()
        child.wait()


@pytest.fixture(scope="session")
def full_data_dir(full_training) -> Path:
    """The whole registry, trained once per test run (files already built in site/data are reused when valid)."""
    assert full_training is not None, "full_data_dir: full_training did not see a test that needs it"
    child, data_dir, log = full_training
    if child.wait() != 0:
        pytest.fail(f"training the full registry failed ({log}):\n{log.read_text()[-3000:]}")
    return data_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the whole registry trained as ``full``, and run those last (see above)."""
    full = [item for item in items if "full_data_dir" in getattr(item, "fixturenames", ())]
    for item in full:
        item.add_marker(pytest.mark.full)
    if full:
        chosen = set(map(id, full))
        items[:] = [item for item in items if id(item) not in chosen] + full
