"""Fixtures shared by the tests: the tiny registry trained once per session, and the full one once per run."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossarticle.data import Dataset, load_spirals  # noqa: E402
from lossarticle.schema import data_dir_of, experiment_path, read_experiment  # noqa: E402
from tests.tiny import TINY_DATA, TINY_REGISTRY  # noqa: E402


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


@pytest.fixture(scope="session")
def full_data_dir(tmp_path_factory) -> Path:
    """The whole registry, trained once per test run (files already built in site/data are reused when valid)."""
    import shutil

    from lossarticle.build import TrainOptions, train_experiments
    data_dir = tmp_path_factory.mktemp("full") / "site" / "data"
    data_dir.mkdir(parents=True)
    for cached in (Path(__file__).resolve().parents[1] / "site" / "data").glob("*.json"):
        shutil.copy(cached, data_dir / cached.name)  # read-only use: train checks every one in full
    train_experiments(TrainOptions(data_dir=data_dir, device="cpu", progress=False), echo=lambda line: None)
    return data_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the whole registry trained (test_claims' fixture) as ``full``."""
    for item in items:
        if "full_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.full)
