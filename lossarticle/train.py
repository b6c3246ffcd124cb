"""Full-batch training that keeps every epoch's weights.

The loop never synchronizes with the device: snapshots and metrics go into
preallocated tensors and come back to the host once, at the end. On a GPU the
cost of these tiny nets is kernel launches, so a per-epoch ``.item()`` would
dominate; there the ensemble's epoch is captured once as a CUDA graph and replayed.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import partial

import numpy as np
import torch

from lossarticle.configs import Run
from lossarticle.data import Dataset
from lossarticle.errors import ConfigError
from lossarticle.models import Architecture, accuracy, cross_entropy, first_dead_layer, forward


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


@dataclass(frozen=True)
class SeedStats:
    """Every member of an ensemble (one run of one experiment, one θ₀ per seed), epoch by epoch.

    A diverged member keeps its non-finite values; only its Trajectory is cut short.
    """

    train_loss: np.ndarray  # (G, E + 1) float32; row g is seed g's loss at θ₀ and after each epoch
    train_acc: np.ndarray  # (G, E + 1) float32, on the training split
    val_acc: np.ndarray  # (G, E + 1) float32, on the validation split
    final_test_acc: np.ndarray  # (G,) float32 at each member's final weights, on the test split
    diverged: np.ndarray  # (G,) bool: a non-finite loss at some epoch, or non-finite final weights
    first_dead_layer: np.ndarray  # (G,) int64: at θ₀, first hidden layer whose ReLUs are all 0 on every
    #                               training input (see models.dead_layers); -1 for none

    @property
    def count(self) -> int:
        return len(self.diverged)

    @property
    def final_train_loss(self) -> np.ndarray:
        return self.train_loss[:, -1]

    @property
    def final_train_acc(self) -> np.ndarray:
        return self.train_acc[:, -1]

    @property
    def final_val_acc(self) -> np.ndarray:
        return self.val_acc[:, -1]

    @classmethod
    def concatenate(cls, parts: list[SeedStats]) -> SeedStats:
        """The members of ``parts``, in order, as one set."""
        return cls(*(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(cls)))


def make_optimizer(run: Run, params: list[torch.Tensor], capturable: bool = False) -> torch.optim.Optimizer:
    """The torch optimizer a run names, with PyTorch's defaults for everything unstated.

    ``capturable`` keeps Adam's and RMSprop's step counts on the device, as CUDA graphs need
    (CUDA only); SGD keeps no step count and is capturable as it is.
    """
    if run.optimizer == "adam":
        return torch.optim.Adam(params, lr=run.lr, capturable=capturable)
    elif run.optimizer == "sgd":
        return torch.optim.SGD(params, lr=run.lr, momentum=run.momentum)
    elif run.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=run.lr, capturable=capturable)
    else:
        raise ValueError(f"unknown optimizer {run.optimizer!r}")  # configs validated this already


def resolve_device(name: str) -> torch.device:
    """``--device``: ``auto`` picks CUDA when present; CUDA on a machine without it is one clear line."""
    if name == "auto":
        return resolve_device("cuda" if torch.cuda.is_available() else "cpu")
    elif name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name!r}: CUDA is not available on this machine (use --device cpu or auto)")
    elif name in ("cpu", "cuda"):
        if name == "cuda":
            # cuBLAS picks its workspace per stream unless this is set (before its first call):
            # without it PyTorch's deterministic mode cannot promise reproducible products.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        return torch.device(name)
    else:
        raise ConfigError(f"device={name!r}: unknown device (known: auto, cpu, cuda)")


def training_flops(arch: Architecture, data: Dataset, epochs: int) -> int:
    """Matmul FLOPs (2 per multiply-add) of training one network for ``epochs`` epochs.

    With S = Σ out·in over the layers, s₁ the first layer's out·in, and N, V, T the training,
    validation and test sizes: each epoch is a forward over N (2NS), its backward (2NS for
    the weight gradients, 2N(S - s₁) for the activations' gradients: the inputs need none)
    and a forward over V for the validation accuracy (2VS); the final weights then get one
    forward over N, V and T. Element-wise work (bias, ReLU, softmax, optimizer) is not counted.
    """
    layers = [out * inp for (out, inp), _ in arch.shapes]
    total, first = sum(layers), layers[0]
    n, v, t = len(data.x_train), len(data.x_val), len(data.x_test)
    per_epoch = 2 * n * (3 * total - first) + 2 * v * total
    return epochs * per_epoch + 2 * (n + v + t) * total


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


# ---------------------------------------------------------------- many initializations at once


@dataclass(frozen=True)
class Ensemble:
    """One run trained from G initializations: every member's weights and metrics."""

    run: Run
    thetas: np.ndarray  # (E + 1, G, P) float32; [i, g] is member g's θ after i epochs
    stats: SeedStats

    def trajectory(self, member: int) -> Trajectory:
        """Member ``member``'s path, cut where its loss or weights stop being finite."""
        thetas, stats = self.thetas[:, member], self.stats
        keep = finite_prefix(thetas, stats.train_loss[member])
        return Trajectory(run=self.run, thetas=thetas[:keep], train_loss=stats.train_loss[member, :keep],
                          train_acc=stats.train_acc[member, :keep], val_acc=stats.val_acc[member, :keep],
                          diverged=keep < len(thetas))

    @classmethod
    def concatenate(cls, parts: list[Ensemble]) -> Ensemble:
        """The members of ``parts``, in order, as one ensemble."""
        return cls(parts[0].run, np.concatenate([p.thetas for p in parts], axis=1),
                   SeedStats.concatenate([p.stats for p in parts]))


@dataclass(frozen=True)
class DeviceData:
    """The splits as device tensors."""

    x: torch.Tensor
    y: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @classmethod
    def of(cls, data: Dataset, device: torch.device) -> DeviceData:
        arrays = (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)
        return cls(*(torch.as_tensor(a, device=device) for a in arrays))


@dataclass(frozen=True)
class Log:
    """Preallocated device tensors the epochs write into; the row is a device-side counter."""

    row: torch.Tensor  # (1,) int64: the row the next record writes (no host round trip to advance it)
    snapshots: torch.Tensor  # (E + 1, G, P): every member's weights, since which one is drawn is chosen
    #                          after training (measures.drawn_member); at most 0.3 GiB in the registry
    metrics: torch.Tensor  # (3, E + 1, G): train loss, train acc, val acc of every member

    @classmethod
    def allocate(cls, members: int, params: int, epochs: int, device: torch.device) -> Log:
        return cls(torch.zeros(1, dtype=torch.int64, device=device),
                   torch.empty(epochs + 1, members, params, device=device),
                   torch.empty(3, epochs + 1, members, device=device))


def record(arch: Architecture, theta: torch.Tensor, logits: torch.Tensor, losses: torch.Tensor,
           data: DeviceData, log: Log) -> None:
    """Write every member's metrics and weights at ``log.row``, then advance it."""
    with torch.no_grad():
        val_acc = accuracy(forward(arch, theta, data.x_val), data.y_val)
        row = torch.stack([losses, accuracy(logits, data.y), val_acc]).unsqueeze(1)  # (3, 1, G)
        log.metrics.index_copy_(1, log.row, row)
        log.snapshots.index_copy_(0, log.row, theta.unsqueeze(0))
        log.row.add_(1)


def epoch_step(arch: Architecture, theta: torch.Tensor, optimizer: torch.optim.Optimizer, data: DeviceData,
               log: Log) -> None:
    """One full-batch epoch of every member: record the metrics at θ, then update θ.

    The loss backpropagated is the sum of the members' mean losses: its gradient with
    respect to member g's weights is exactly member g's own, and a NaN in one member's
    loss does not reach the others (d sum / d loss_g = 1 whatever the values).
    """
    optimizer.zero_grad(set_to_none=True)  # backward then writes .grad afresh (in a graph: into its own pool)
    logits = forward(arch, theta, data.x)
    losses = cross_entropy(logits, data.y)
    record(arch, theta, logits, losses, data, log)
    losses.sum().backward()
    optimizer.step()


def train_ensemble(arch: Architecture, theta0: torch.Tensor, run: Run, data: Dataset, epochs: int,
                   device: torch.device, graph: bool | None = None) -> Ensemble:
    """Train the G networks whose θ₀ are the rows of ``theta0`` (G, P) together, as one (G, P) tensor.

    One optimizer over the stack equals G independent runs: Adam, RMSprop and SGD act element
    by element. Returns every member's snapshots and statistics; a member's Trajectory is what
    ``train`` would give from its θ₀, up to bmm-vs-mm rounding. ``graph`` (default: on CUDA)
    replays one captured epoch; otherwise the same ``epoch_step`` runs eagerly.
    """
    members, params = theta0.shape
    on_device = DeviceData.of(data, device)
    start = theta0.detach().to(device)
    theta = start.clone().requires_grad_(True)
    optimizer = make_optimizer(run, [theta], capturable=device.type == "cuda")
    log = Log.allocate(members, params, epochs, device)
    step = partial(epoch_step, arch, theta, optimizer, on_device, log)
    if (device.type == "cuda") if graph is None else graph:
        replay_captured(step, epochs, lambda: undo_warm_up(theta, start, optimizer, log))
    else:
        for _ in range(epochs):
            step()
    with torch.no_grad():
        logits = forward(arch, theta, on_device.x)
        record(arch, theta, logits, cross_entropy(logits, on_device.y), on_device, log)
        test_acc = accuracy(forward(arch, theta, on_device.x_test), on_device.y_test)
        finite = theta.isfinite().all(dim=1)
    return ensemble_results(run, log, test_acc, finite, first_dead_layer(arch, start, on_device.x))


def ensemble_results(run: Run, log: Log, test_acc: torch.Tensor, finite: torch.Tensor,
                     dead: torch.Tensor) -> Ensemble:
    """Bring the logs to the host: the one synchronization."""
    thetas = log.snapshots.cpu().numpy()
    loss, train_acc, val_acc = (m.T.copy() for m in log.metrics.cpu().numpy())  # each (G, E + 1)
    weights_finite = np.isfinite(thetas).all(axis=2).all(axis=0)
    diverged = ~np.isfinite(loss).all(axis=1) | ~finite.cpu().numpy() | ~weights_finite
    return Ensemble(run, thetas, SeedStats(loss, train_acc, val_acc, test_acc.cpu().numpy(), diverged,
                                           dead.cpu().numpy()))


def undo_warm_up(theta: torch.Tensor, theta0: torch.Tensor, optimizer: torch.optim.Optimizer, log: Log) -> None:
    """Undo warm-up epochs in place (a captured graph keeps these addresses): θ₀ back, state and row 0, no grad.

    Zero is every optimizer state's starting value: Adam's and RMSprop's step counts and
    averages start at 0, and SGD's momentum buffer, which starts as a copy of the first
    gradient, gets exactly that from 0 · momentum + gradient.
    """
    optimizer.zero_grad(set_to_none=True)  # the capture's backward then allocates .grad in the graph's pool
    with torch.no_grad():
        theta.copy_(theta0)
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    value.zero_()
        log.row.zero_()


def replay_captured(step: Callable[[], None], epochs: int, undo_warm_up: Callable[[], None]) -> None:
    """Run ``step`` ``epochs`` times as replays of one CUDA graph of it (PyTorch's whole-network capture).

    Warm-up on a side stream first creates the optimizer state, the gradient and the
    libraries' workspaces outside the capture; ``undo_warm_up`` then resets what it changed.
    """
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with capturable_kernels(), torch.cuda.stream(side):
        for _ in range(min(3, epochs)):  # at most ``epochs``: each writes one row of the log
            step()
    torch.cuda.current_stream().wait_stream(side)
    undo_warm_up()
    graph = torch.cuda.CUDAGraph()
    with capturable_kernels(), torch.cuda.graph(graph):
        step()
    for _ in range(epochs):
        graph.replay()


@contextmanager
def capturable_kernels() -> Iterator[None]:
    """Deterministic mode off while capturing: it swaps gather's backward (scatter_add) for a
    sort-based index_put_ that cannot be captured. Our scatters write one index per row, so
    the plain kernels are deterministic as they are."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
