"""Tiny configurations shared by the tests: seconds, not minutes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossarticle.configs import DataConfig, Experiment, Run, SurfaceConfig  # noqa: E402
from lossarticle.data import Dataset, load_spirals  # noqa: E402

TINY_DATA = DataConfig(points_per_class=40)
TINY_SURFACE = SurfaceConfig(resolution=7, region_resolution=6, region_frames=4)
CPU = torch.device("cpu")


def tiny(slug: str = "tiny", **changes: object) -> Experiment:
    """A 1-hidden-layer, 6-neuron net trained for 8 epochs on 120 points."""
    fields = dict(slug=slug, title="tiny", depth=1, width=6, epochs=8, data=TINY_DATA, surface=TINY_SURFACE)
    fields.update(changes)
    return Experiment(**fields)


TINY_REGISTRY = (
    tiny("tiny"),
    tiny("tiny-opt", depth=2, width=4, runs=(Run("adam"), Run("sgd", "sgd", 0.1))),
    tiny("tiny-dirs", planes=("random", "init-final", "pca")),
)


@pytest.fixture(scope="session")
def tiny_data() -> Dataset:
    return load_spirals(TINY_DATA)
