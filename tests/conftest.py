"""Fixtures shared by the tests: tiny configurations, trained once per session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossarticle.data import Dataset, load_spirals  # noqa: E402
from tests.tiny import (TEMPLATES, TINY_ARTICLE, TINY_DATA, TINY_REGISTRY, TINY_SURFACE, copy_data,  # noqa: E402,F401
                        render_tiny, tiny, write_article)

CPU = torch.device("cpu")


@pytest.fixture(scope="session")
def tiny_data() -> Dataset:
    return load_spirals(TINY_DATA)


@pytest.fixture(scope="session")
def tiny_site(tmp_path_factory) -> Path:
    """A site folder whose data/ holds the tiny registry's exported JSON (trained once per session)."""
    from lossarticle.build import TrainOptions, train_experiments
    site = tmp_path_factory.mktemp("tiny") / "site"
    train_experiments(TrainOptions(data_dir=site / "data", registry=TINY_REGISTRY, device="cpu", progress=False),
                      echo=lambda line: None)
    return site


@pytest.fixture(scope="session")
def tiny_summaries(tiny_site):
    from lossarticle.export import load_experiment
    from lossarticle.summaries import summarize
    return {e.slug: summarize(load_experiment(tiny_site / "data" / f"{e.slug}.json")) for e in TINY_REGISTRY}


