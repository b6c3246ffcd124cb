from __future__ import annotations

import pytest
import torch

from lossarticle.configs import EXPERIMENTS
from lossarticle.models import Architecture, architecture, cross_entropy, forward, init_params
from tests.tiny import tiny


def closed_form_params(depth: int, width: int, inputs: int = 2, classes: int = 3) -> int:
    if depth == 0:
        return inputs * classes + classes
    return (inputs + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * classes


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.slug)
def test_parameter_count_matches_closed_form(experiment) -> None:
    arch = architecture(experiment)
    module = torch.nn.Sequential(*[torch.nn.Linear(i, o) for i, o in zip(arch.sizes[:-1], arch.sizes[1:])])
    assert arch.num_params == closed_form_params(experiment.depth, experiment.width)
    assert arch.num_params == sum(p.numel() for p in module.parameters())


def test_forward_matches_torch_linear_layers() -> None:
    arch = Architecture(sizes=(2, 5, 5, 3), skip=False)
    theta = init_params(arch, torch.Generator().manual_seed(3))
    layers = [torch.nn.Linear(i, o) for i, o in zip(arch.sizes[:-1], arch.sizes[1:])]
    offset = 0
    for layer in layers:
        for p in (layer.weight, layer.bias):
            p.data = theta[offset:offset + p.numel()].reshape(p.shape)
            offset += p.numel()
    x = torch.randn(7, 2)
    expected = layers[2](torch.relu(layers[1](torch.relu(layers[0](x)))))
    torch.testing.assert_close(forward(arch, theta, x), expected)


def test_batched_forward_equals_one_at_a_time() -> None:
    arch = Architecture(sizes=(2, 4, 4, 4, 3), skip=True)
    thetas = torch.stack([init_params(arch, torch.Generator().manual_seed(s)) for s in range(3)])
    x, y = torch.randn(9, 2), torch.randint(0, 3, (9,))
    batched = forward(arch, thetas, x)
    for g in range(3):
        torch.testing.assert_close(batched[g], forward(arch, thetas[g], x))
        torch.testing.assert_close(cross_entropy(batched, y)[g], torch.nn.functional.cross_entropy(batched[g], y))


def test_skip_twin_starts_from_the_same_weights_but_differs() -> None:
    plain, skip = architecture(tiny(depth=3)), architecture(tiny(depth=3, skip=True))
    theta_plain = init_params(plain, torch.Generator().manual_seed(0))
    theta_skip = init_params(skip, torch.Generator().manual_seed(0))
    torch.testing.assert_close(theta_plain, theta_skip)
    x = torch.randn(5, 2)
    assert not torch.allclose(forward(plain, theta_plain, x), forward(skip, theta_skip, x))


def test_default_init_bounds() -> None:
    arch = Architecture(sizes=(2, 100, 3), skip=False)
    theta = init_params(arch, torch.Generator().manual_seed(0))
    w1 = theta[:200]
    assert w1.abs().max() <= 1 / 2 ** 0.5 and w1.abs().max() > 0.6  # U(-1/sqrt(2), 1/sqrt(2))
    w2 = theta[300:600]
    assert w2.abs().max() <= 0.1
