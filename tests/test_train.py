from __future__ import annotations

import numpy as np
import pytest
import torch

from lossarticle.configs import Run
from lossarticle.errors import ConfigError
from lossarticle.models import architecture, init_params
from lossarticle.train import finite_prefix, resolve_device, train
from tests.tiny import tiny

CPU = torch.device("cpu")


def test_loss_decreases_and_snapshots_start_at_theta0(tiny_data) -> None:
    experiment = tiny(epochs=30)
    arch = architecture(experiment)
    theta0 = init_params(arch, torch.Generator().manual_seed(0))
    trajectory = train(arch, theta0, Run("adam", lr=0.05), tiny_data, 30, CPU)
    assert trajectory.thetas.shape == (31, arch.num_params)
    np.testing.assert_array_equal(trajectory.thetas[0], theta0.numpy())
    assert trajectory.train_loss[-1] < 0.8 * trajectory.train_loss[0]
    assert trajectory.train_acc[-1] > trajectory.train_acc[0]
    assert not trajectory.diverged and trajectory.epochs == 30


def test_training_is_deterministic(tiny_data) -> None:
    arch = architecture(tiny())
    theta0 = init_params(arch, torch.Generator().manual_seed(0))
    a = train(arch, theta0, Run("sgd", "sgd", 0.1, momentum=0.5), tiny_data, 5, CPU)
    b = train(arch, theta0, Run("sgd", "sgd", 0.1, momentum=0.5), tiny_data, 5, CPU)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_finite_prefix_stops_before_the_first_bad_snapshot() -> None:
    thetas = np.zeros((5, 3))
    losses = np.array([1.0, 0.5, np.inf, 0.2, 0.1])
    assert finite_prefix(thetas, losses) == 2
    thetas[1, 2] = np.nan
    assert finite_prefix(thetas, np.ones(5)) == 1
    assert finite_prefix(np.zeros((3, 2)), np.ones(3)) == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what a CPU-only machine resolves")
def test_devices_resolve_to_the_cpu_without_cuda() -> None:
    assert resolve_device("auto") == torch.device("cpu") and resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match=r"^device='cuda': CUDA is not available on this machine"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match=r"^device='tpu': unknown device \(known: auto, cpu, cuda\)"):
        resolve_device("tpu")
