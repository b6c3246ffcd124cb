"""Curvature along a trajectory: the top Hessian eigenvalue, raw and preconditioned, and the live units.

Cohen et al. 2021 ("Gradient Descent on Neural Networks Typically Occurs at the Edge of
Stability") show full-batch gradient descent holds λ_max(H) near 2/η; Cohen et al. 2022
("Adaptive Gradient Methods at the Edge of Stability") show Adam holds the preconditioned
sharpness λ_max(P⁻¹H) near 38/η. The thresholds are ``dynamics.threshold``.

After training, each snapshot's eigenproblem is independent. E snapshots stacked as
(E, P) go through ``models.forward`` at once; the sum of their losses has a
block-diagonal Hessian, so one double-backward gives all E Hessian-vector products.

Lanczos, not power iteration: the preconditioned Hessians have negative eigenvalues larger
than λ_max, to which power iteration converges (10×20 and 10×100 under Adam: 100 % off
after 40 products), and where both converge Lanczos needs 5-15 products against 20-40+.
Measured on the CPU, one thread, 1083 points, subnormals flushed, at ``curvature_along``'s
defaults (8-20 steps, residual 1e-3), λ_max(H) and λ_max(P⁻¹H) together cost per epoch:
2×20 10-13 ms (λ_max(H) alone 4-6), 5×20 21-29 ms, 10×20 39-80 ms, 10×100 0.34-0.63 s,
plus the replay's one gradient per epoch (8.6 ms each for 10×100: 3.5 s for 401).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

import numpy as np
import torch

from lossarticle.configs import Run
from lossarticle.dynamics import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, RMSPROP_ALPHA, RMSPROP_EPS, adaptive, threshold
from lossarticle.models import Architecture, cross_entropy, forward
from lossarticle.surface import chunk_size

Operator = Callable[[torch.Tensor], torch.Tensor]  # (E, P) -> (E, P), symmetric for each row's problem


@dataclass(frozen=True)
class TopEigenvalue:
    """Lanczos' estimate of the largest eigenvalue of each of E symmetric operators."""

    value: np.ndarray  # (E,) float64: the top Ritz value, a lower bound on λ_max
    residual: np.ndarray  # (E,) ‖Ay − θy‖/|θ| of the top Ritz pair (θ, y): an eigenvalue lies this close to θ
    steps: np.ndarray  # (E,) int64: operator products taken (the step at which the residual was small enough)


@dataclass(frozen=True)
class Moments:
    """Adam's or RMSprop's running averages at chosen snapshots, replayed from the gradients along a trajectory.

    The state at snapshot t is the one after t + 1 steps: it has taken in the gradient at θ_t
    and is what the update θ_t → θ_{t+1} used (Cohen et al. 2022 pair P_t with H at θ_t).
    """

    epochs: np.ndarray  # (K,) int64 snapshot indices t
    exp_avg: torch.Tensor  # (K, P) Adam's m_{t+1}; zeros for RMSprop (no momentum)
    exp_avg_sq: torch.Tensor  # (K, P) Adam's v_{t+1}, RMSprop's square_avg


@dataclass(frozen=True)
class Curvature:
    """Top eigenvalues at chosen epochs of one run, with the threshold its optimizer is held to."""

    epochs: np.ndarray  # (K,) int64 snapshot indices measured
    hessian: TopEigenvalue  # λ_max(H) of the full-batch training loss
    preconditioned: TopEigenvalue | None  # λ_max(P^(-1/2) H P^(-1/2)) = λ_max(P⁻¹H); adaptive optimizers only
    threshold: float  # dynamics.threshold: for λ_max(H) under SGD, for the preconditioned one otherwise


# ---------------------------------------------------------------- Hessian-vector products


@contextmanager
def flushed_subnormals() -> Iterator[None]:
    """Subnormal floats flushed to zero on the CPU while curvature is computed, then PyTorch's default (off) again.

    Late in training the softmax saturates and the backward passes carry subnormal values,
    which x86 computes in microcode: the gradients at epochs 240-400 of the 10×100 run took
    60-90 ms each against 8 ms with them flushed (one thread). Values below 1.2e-38 change
    nothing a top eigenvalue can show. Training must not flush: it would move the trajectories.

    The flag is per thread: it reaches the calling thread and the OpenMP workers started after
    it, not those already running (after training with two threads, half of an elementwise
    product still came out subnormal). Run this stage on one thread, or in a fresh process.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def hvp_chunk(arch: Architecture, samples: int, device: torch.device) -> int:
    """Snapshots per batched Hessian-vector product, so the double-backward graph stays bounded.

    Sized as ten (width, N) float32 tensors per hidden layer per snapshot, a rough count of
    what the gradient's graph keeps. On the CPU, one thread, 1083 points, a product cost per
    snapshot: 10×100 18-20 ms in chunks of 1-4 and 49 ms in chunks of 8; 10×20 2.0 ms in
    chunks of 4-16 and 2.5 ms in 64. 128 MiB gives 3 and 15 snapshots.
    """
    budget = 2 ** 27 if device.type == "cpu" else 2 ** 32
    per_snapshot = 10 * samples * sum(arch.sizes[1:]) * 4
    return max(1, budget // per_snapshot)


def hessian_operator(arch: Architecture, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> Operator:
    """v ↦ Hv for each row of ``thetas`` (E, P), H the Hessian of that row's mean training loss.

    The gradient's graph is built once (create_graph) and kept: each product is then one
    backward through it, with v as the incoming gradient.
    """
    leaf = thetas.detach().requires_grad_(True)
    losses = cross_entropy(forward(arch, leaf, x), y)
    (grad,) = torch.autograd.grad(losses.sum(), leaf, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        (hv,) = torch.autograd.grad(grad, leaf, grad_outputs=v, retain_graph=True)
        return hv

    return product


def gradients(arch: Architecture, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(E, P): the gradient of each row's mean training loss, a bounded chunk of rows at a time."""
    chunk = chunk_size(arch, len(x), thetas.device)
    result = torch.empty_like(thetas)
    with flushed_subnormals():
        for start in range(0, len(thetas), chunk):
            leaf = thetas[start:start + chunk].detach().requires_grad_(True)
            losses = cross_entropy(forward(arch, leaf, x), y)
            (result[start:start + chunk],) = torch.autograd.grad(losses.sum(), leaf)
    return result


# ---------------------------------------------------------------- Lanczos


def lanczos_top(operator: Operator, start: torch.Tensor, steps: int, rtol: float, min_steps: int = 1) -> TopEigenvalue:
    """The largest eigenvalue of each row's operator, by ``steps`` Lanczos steps at most from ``start`` (E, P).

    Each row stops (its value frozen) after ``min_steps`` once its relative residual is at most
    ``rtol``, or when its Krylov space is exhausted; the result is then the same alone or in a
    stack. The residual bounds the distance to *an* eigenvalue, not to the top one: before the
    top is found, the Ritz value can sit on the next one with a small residual (10×100 at
    epoch 1: residual 5e-4 after 5 steps, 1.6 % below λ_max, found at step 8), hence ``min_steps``.
    Full reorthogonalization, done twice ("twice is enough"), keeps float32 bases orthogonal:
    4kP FLOPs a row at step k, under 1 % of a Hessian-vector product (about ten forward passes).
    """
    rows, size = start.shape
    basis = start.new_zeros(rows, steps, size)
    alpha = torch.zeros(rows, steps, dtype=torch.float64)
    beta = torch.zeros(rows, steps, dtype=torch.float64)
    value, residual = np.full(rows, np.nan), np.full(rows, np.inf)
    taken, done = np.zeros(rows, np.int64), np.zeros(rows, bool)
    q = start / start.norm(dim=1, keepdim=True)
    for j in range(steps):
        basis[:, j] = q
        w = operator(q)
        alpha[:, j] = (w * q).sum(dim=1).double().cpu()
        for _ in range(2):  # subtracts α_j q_j and β_{j-1} q_{j-1} too: they are in the basis
            w = w - torch.einsum("rk,rkp->rp", torch.einsum("rkp,rp->rk", basis[:, :j + 1], w), basis[:, :j + 1])
        norm = w.norm(dim=1)
        beta[:, j] = norm.double().cpu()
        top, top_residual = _top_ritz(alpha[:, :j + 1], beta[:, :j + 1])
        exhausted = beta[:, j].numpy() <= np.finfo(np.float32).eps * np.abs(top)  # an invariant subspace: exact
        converged = (top_residual <= rtol * np.abs(top)) & (j + 1 >= min_steps)
        stop = ~done & (converged | exhausted | (j + 1 == steps))
        value[stop], taken[stop] = top[stop], j + 1
        residual[stop] = np.where(exhausted[stop], 0.0, top_residual[stop] / np.abs(top[stop]))
        done |= stop
        if done.all():
            break
        q = w / norm.clamp_min(torch.finfo(w.dtype).tiny).unsqueeze(1)
    return TopEigenvalue(value, residual, taken)


def _top_ritz(alpha: torch.Tensor, beta: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Largest eigenvalue θ of each tridiagonal T (diagonal ``alpha``, off-diagonal ``beta[:, :-1]``), and its
    residual β_last·|s_last|, s the unit eigenvector of T: the norm of A y − θ y for the Ritz vector y."""
    t = torch.diag_embed(alpha) + torch.diag_embed(beta[:, :-1], 1) + torch.diag_embed(beta[:, :-1], -1)
    values, vectors = torch.linalg.eigh(t)
    return values[:, -1].numpy(), (beta[:, -1] * vectors[:, -1, -1].abs()).numpy()


def start_vector(size: int, seed: int, like: torch.Tensor) -> torch.Tensor:
    """One Gaussian start vector for every snapshot, drawn on the CPU: the same whatever the device or chunk."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(size, generator=generator, dtype=torch.float64).to(like)


def top_eigenvalue(arch: Architecture, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   preconditioner: torch.Tensor | None = None, steps: int = 20, rtol: float = 1e-3,
                   min_steps: int = 8, seed: int = 0) -> TopEigenvalue:
    """λ_max(H), or λ_max(P^(-1/2) H P^(-1/2)) given the diagonal ``preconditioner`` P (E, P), at each row of
    ``thetas`` (E, P); H is the Hessian of the mean cross-entropy over ``x``, ``y``. Computed in the dtype
    and on the device of ``thetas``, a bounded chunk of rows at a time (``hvp_chunk``).

    The symmetric P^(-1/2) H P^(-1/2) has the eigenvalues of P⁻¹H (similar matrices).
    """
    chunk = hvp_chunk(arch, len(x), thetas.device)
    start = start_vector(thetas.shape[1], seed, thetas)
    parts = []
    with flushed_subnormals():
        for first in range(0, len(thetas), chunk):
            rows = slice(first, first + chunk)
            hessian = hessian_operator(arch, thetas[rows], x, y)
            if preconditioner is None:
                operator = hessian
            else:
                scale = preconditioner[rows].rsqrt()
                operator = lambda v, hessian=hessian, scale=scale: scale * hessian(scale * v)  # noqa: E731
            parts.append(lanczos_top(operator, start.expand(len(thetas[rows]), -1), steps, rtol, min_steps))
    return TopEigenvalue(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(TopEigenvalue)))


# ---------------------------------------------------------------- optimizer state, replayed


def replay_moments(arch: Architecture, run: Run, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   epochs: np.ndarray) -> Moments:
    """Adam's (m, v) or RMSprop's square average at snapshots ``epochs`` of a full-batch trajectory.

    ``thetas`` (E + 1, P) are the snapshots θ_0..θ_E. Full batch, the gradient g_t at θ_t is a
    function of θ_t alone, so the moment recursions, run over g_0..g_t with PyTorch's own
    operations, give the state PyTorch held after step t + 1, up to the rounding of recomputing
    g_t (a batched product sums in another order than training's).
    """
    if not adaptive(run):
        raise ValueError(f"{run.optimizer!r} keeps no second moment to replay")
    epochs = np.asarray(epochs, dtype=np.int64)
    last = int(epochs.max()) if epochs.size else -1
    wanted = {int(t): k for k, t in enumerate(epochs)}
    m, v = torch.zeros_like(thetas[0]), torch.zeros_like(thetas[0])
    exp_avg, exp_avg_sq = thetas.new_zeros(len(epochs), thetas.shape[1]), thetas.new_zeros(len(epochs), thetas.shape[1])
    chunk = chunk_size(arch, len(x), thetas.device)
    for first in range(0, last + 1, chunk):
        grads = gradients(arch, thetas[first:min(first + chunk, last + 1)], x, y)
        for t, g in enumerate(grads, start=first):
            if run.optimizer == "adam":  # torch.optim.Adam's single-tensor step
                m.lerp_(g, 1 - ADAM_BETA1)
                v.mul_(ADAM_BETA2).addcmul_(g, g, value=1 - ADAM_BETA2)
            else:  # RMSprop's (adaptive() admits no third)
                v.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
            if t in wanted:
                exp_avg[wanted[t]], exp_avg_sq[wanted[t]] = m, v
    return Moments(epochs, exp_avg, exp_avg_sq)


def preconditioner(run: Run, moments: Moments) -> torch.Tensor:
    """(K, P) the diagonal of P at each replayed snapshot: the update θ_t → θ_{t+1} is −η P⁻¹ m (Adam) or
    −η P⁻¹ g (RMSprop).

    Adam (PyTorch's update η·m/((1 − β₁ˢ)(√(v/(1 − β₂ˢ)) + ε)) after s steps):
    P = (1 − β₁ˢ)(√v̂ + ε), v̂ = v/(1 − β₂ˢ), s = t + 1, as in Cohen et al. 2022.
    RMSprop (η·g/(√v + ε), no bias correction): P = √v + ε.
    """
    if run.optimizer == "adam":
        s = torch.as_tensor(moments.epochs + 1, dtype=moments.exp_avg_sq.dtype, device=moments.exp_avg_sq.device)
        root_corrected = moments.exp_avg_sq.sqrt() / (1 - ADAM_BETA2 ** s).sqrt().unsqueeze(1)  # √v̂, torch's way
        return (1 - ADAM_BETA1 ** s).unsqueeze(1) * (root_corrected + ADAM_EPS)
    elif run.optimizer == "rmsprop":
        return moments.exp_avg_sq.sqrt() + RMSPROP_EPS
    else:
        raise ValueError(f"{run.optimizer!r} has no preconditioner")


def curvature_along(arch: Architecture, run: Run, thetas: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                    epochs: np.ndarray, steps: int = 20, rtol: float = 1e-3, min_steps: int = 8) -> Curvature:
    """λ_max(H) and, for adaptive optimizers, λ_max(P⁻¹H) at snapshots ``epochs`` of ``run``'s trajectory
    ``thetas`` (E + 1, P), with the optimizer's threshold."""
    epochs = np.asarray(epochs, dtype=np.int64)
    index = torch.as_tensor(epochs, device=thetas.device)
    at = thetas[index]
    hessian = top_eigenvalue(arch, at, x, y, steps=steps, rtol=rtol, min_steps=min_steps)
    scaled = None
    if adaptive(run):
        diagonal = preconditioner(run, replay_moments(arch, run, thetas, x, y, epochs))
        scaled = top_eigenvalue(arch, at, x, y, preconditioner=diagonal, steps=steps, rtol=rtol, min_steps=min_steps)
    return Curvature(epochs, hessian, scaled, threshold(run))


# ---------------------------------------------------------------- live units


def live_units(arch: Architecture, thetas: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(E, depth) int64: per snapshot and hidden layer, the units whose ReLU is on for at least one input of ``x``.

    A unit is dead when its ReLU is off (output 0) for every input; a layer with no live
    unit is what ``models.dead_layers`` calls dead. ``thetas`` is (E, P).
    """
    if len(arch.sizes) == 2:  # logistic regression: no hidden layer
        return torch.zeros(len(thetas), 0, dtype=torch.int64, device=thetas.device)
    chunk = chunk_size(arch, len(x), thetas.device)
    counts = []
    with torch.no_grad():
        for start in range(0, len(thetas), chunk):
            outputs: list[torch.Tensor] = []
            forward(arch, thetas[start:start + chunk], x, hidden=outputs)  # each (E, width, N)
            counts.append(torch.stack([(a > 0).any(dim=-1).sum(dim=-1) for a in outputs], dim=-1))
    return torch.cat(counts)
