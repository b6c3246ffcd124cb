"""Full-batch training that keeps every epoch's weights.

The loop never synchronizes with the device: snapshots and metrics go into
preallocated tensors and come back to the host once, at the end. On a GPU the
cost of these tiny nets is kernel launches, so a per-epoch ``.item()`` would
dominate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lossarticle.configs import Run
from lossarticle.data import Dataset
from lossarticle.errors import ConfigError
from lossarticle.models import Architecture, accuracy, cross_entropy, forward


@dataclass(frozen=True)
class Trajectory:
    """Weights and metrics at θ₀ (before any update) and after every epoch."""

    run: Run
    thetas: np.ndarray  # (E + 1, P) float32; row i is θ after i epochs
    train_loss: np.ndarray  # (E + 1,) loss at row i's weights, on the training split
    train_acc: np.ndarray  # (E + 1,)
    val_acc: np.ndarray  # (E + 1,)
    diverged: bool  # True when training produced a non-finite loss or weight; rows stop before it

    @property
    def final(self) -> np.ndarray:
        return self.thetas[-1]

    @property
    def epochs(self) -> int:
        return len(self.thetas) - 1


def make_optimizer(run: Run, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The torch optimizer a run names, with PyTorch's defaults for everything unstated."""
    if run.optimizer == "adam":
        return torch.optim.Adam(params, lr=run.lr)
    elif run.optimizer == "sgd":
        return torch.optim.SGD(params, lr=run.lr, momentum=run.momentum)
    elif run.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=run.lr)
    else:
        raise ValueError(f"unknown optimizer {run.optimizer!r}")  # configs validated this already


def resolve_device(name: str) -> torch.device:
    """``--device``: ``auto`` picks CUDA when present; CUDA on a machine without it is one clear line."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r}: CUDA is not available on this machine (use --device cpu or auto)")
    elif name in ("cpu", "cuda"):
        return torch.device(name)
    else:
        raise ConfigError(f"device={name!r}: unknown device (known: auto, cpu, cuda)")


def finite_prefix(thetas: np.ndarray, losses: np.ndarray) -> int:
    """Number of leading snapshots whose weights and loss are all finite."""
    ok = np.isfinite(losses) & np.isfinite(thetas).all(axis=1)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(losses)


def train(arch: Architecture, theta0: torch.Tensor, run: Run, data: Dataset, epochs: int,
          device: torch.device) -> Trajectory:
    """Train from ``theta0`` for ``epochs`` full-batch steps, keeping every snapshot."""
    x = torch.as_tensor(data.x_train, device=device)
    y = torch.as_tensor(data.y_train, device=device)
    x_val = torch.as_tensor(data.x_val, device=device)
    y_val = torch.as_tensor(data.y_val, device=device)
    theta = theta0.detach().clone().to(device).requires_grad_(True)
    optimizer = make_optimizer(run, [theta])
    snapshots = torch.empty(epochs + 1, theta.numel(), device=device)
    metrics = torch.empty(3, epochs + 1, device=device)  # loss, train acc, val acc
    for epoch in range(epochs + 1):
        logits = forward(arch, theta, x)
        loss = cross_entropy(logits, y)
        with torch.no_grad():
            snapshots[epoch] = theta
            metrics[0, epoch] = loss
            metrics[1, epoch] = accuracy(logits, y)
            metrics[2, epoch] = accuracy(forward(arch, theta, x_val), y_val)
        if epoch == epochs:
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    thetas = snapshots.cpu().numpy()
    loss_np, train_acc, val_acc = metrics.cpu().numpy()
    keep = finite_prefix(thetas, loss_np)
    return Trajectory(run=run, thetas=thetas[:keep], train_loss=loss_np[:keep], train_acc=train_acc[:keep],
                      val_acc=val_acc[:keep], diverged=keep < epochs + 1)
