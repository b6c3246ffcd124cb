"""The CUDA path, where a GPU exists: same numbers as the CPU up to rounding, and reproducible files."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lossarticle.build import TrainOptions, train_experiments
from lossarticle.schema import read_experiment
from tests.tiny import TINY_REGISTRY, file_tree

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")

# float32 on two devices: different kernels sum in different orders, so losses agree to rounding
# accumulated over 8 epochs of Adam, not bit for bit.
LOSS_RTOL = 1e-4


def train_into(data_dir, device: str) -> None:
    train_experiments(TrainOptions(data_dir=data_dir, registry=TINY_REGISTRY, device=device, progress=False),
                      echo=lambda line: None)


def test_cuda_training_agrees_with_the_cpu(tmp_path) -> None:
    train_into(tmp_path / "cpu" / "data", "cpu")
    train_into(tmp_path / "cuda" / "data", "cuda")
    for experiment in TINY_REGISTRY:
        cpu = read_experiment(tmp_path / "cpu" / "data" / f"{experiment.slug}.json", experiment)
        cuda = read_experiment(tmp_path / "cuda" / "data" / f"{experiment.slug}.json", experiment)
        assert cuda.provenance.device == "cuda"
        for a, b in zip(cpu.runs, cuda.runs):
            np.testing.assert_allclose(b.train_loss, a.train_loss, rtol=LOSS_RTOL)


def test_two_cuda_runs_give_byte_identical_files(tmp_path) -> None:
    train_into(tmp_path / "a" / "data", "cuda")
    train_into(tmp_path / "b" / "data", "cuda")
    assert file_tree(tmp_path / "a" / "data") == file_tree(tmp_path / "b" / "data")
