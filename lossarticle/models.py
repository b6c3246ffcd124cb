"""ReLU MLPs as flat parameter vectors, with one forward pass that also takes batches of weights.

The surface stage evaluates thousands of weight vectors at once; the training
stage one. Both call :func:`forward`, so the landscape is the loss of exactly
the network that was trained.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lossarticle.configs import Experiment


@dataclass(frozen=True)
class Architecture:
    """Layer sizes of an MLP; ``sizes = (2, w, ..., w, 3)``."""

    sizes: tuple[int, ...]  # input, hidden..., output
    skip: bool  # add the input of each hidden->hidden layer to its output

    @property
    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        """(weight shape (out, in), bias shape (out,)) per layer, in parameter order."""
        return [((out, inp), (out,)) for inp, out in zip(self.sizes[:-1], self.sizes[1:])]

    @property
    def num_params(self) -> int:
        return sum(out * inp + out for (out, inp), _ in self.shapes)

    @property
    def weight_slices(self) -> list[tuple[slice, slice, int, int]]:
        """Per layer: slice of the flat vector holding W, slice holding b, and (out, in)."""
        result, offset = [], 0
        for (out, inp), _ in self.shapes:
            w = slice(offset, offset + out * inp)
            b = slice(w.stop, w.stop + out)
            result.append((w, b, out, inp))
            offset = b.stop
        return result


def architecture(experiment: Experiment, inputs: int = 2, classes: int = 3) -> Architecture:
    """The layer sizes an experiment describes (depth 0 is logistic regression)."""
    sizes = (inputs, *([experiment.width] * experiment.depth), classes)
    return Architecture(sizes=sizes, skip=experiment.skip)


def init_params(arch: Architecture, generator: torch.Generator) -> torch.Tensor:
    """PyTorch's default ``nn.Linear`` initialization, drawn from ``generator``.

    Weights: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    biases: the same bound. Drawn on the CPU so CPU and CUDA runs start identically.
    """
    pieces = []
    for (out, inp), _ in arch.shapes:
        weight = torch.empty(out, inp)
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        bound = 1.0 / math.sqrt(inp)
        bias = torch.empty(out).uniform_(-bound, bound, generator=generator)
        pieces += [weight.reshape(-1), bias]
    return torch.cat(pieces)


def forward(arch: Architecture, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Logits for inputs ``x`` (N, 2) under weights ``theta``.

    ``theta`` is (P,) for one network or (G, P) for G networks evaluated together;
    the result is (N, C) or (G, N, C). Batched weights go through ``baddbmm`` on a
    transposed view, which ran about twice as fast as a contiguous transpose here.
    """
    batched = theta.dim() == 2
    h = x.expand(theta.shape[0], *x.shape) if batched else x
    last = len(arch.shapes) - 1
    for index, (w_slice, b_slice, out, inp) in enumerate(arch.weight_slices):
        weight = theta[..., w_slice].reshape(*theta.shape[:-1], out, inp)
        bias = theta[..., b_slice]
        if batched:
            z = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
        else:
            z = torch.addmm(bias, h, weight.t())
        if index == last:
            return z
        a = z.relu_()  # in place: z is a fresh tensor, and this saves one pass over memory
        # Residual only where input and output widths agree: hidden -> hidden.
        h = h + a if arch.skip and inp == out and index > 0 else a
    raise AssertionError("unreachable: an architecture has at least one layer")


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the sample axis; works for (N, C) and (G, N, C) logits."""
    log_probs = torch.log_softmax(logits, dim=-1)
    picked = log_probs.gather(-1, y.expand(*logits.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    return -picked.mean(dim=-1)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of samples whose arg-max class is the label; (N, C) or (G, N, C)."""
    return (logits.argmax(dim=-1) == y).float().mean(dim=-1)
