"""What the training curves say about stability, torch-free: thresholds, spikes, and where curvature is measured.

The curvature itself (top Hessian eigenvalues, optimizer state, live units) is
computed in ``curvature``; the rules here read only a run's config and its
per-epoch loss and accuracy, so the publish half can apply them to exported data.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lossarticle.configs import Run
from lossarticle.schema import RunRecord

# PyTorch's defaults, which train.make_optimizer keeps (tests/test_dynamics.py reads them from torch.optim).
ADAM_BETA1 = 0.9  # Adam's first-moment decay
ADAM_BETA2 = 0.999  # Adam's second-moment decay
ADAM_EPS = 1e-8  # added to √v̂ in Adam's denominator
RMSPROP_ALPHA = 0.99  # RMSprop's second-moment decay (no bias correction, no momentum, not centred)
RMSPROP_EPS = 1e-8  # added to √v in RMSprop's denominator


def adaptive(run: Run) -> bool:
    """Whether the run's stability is judged on the preconditioned sharpness λ_max(P⁻¹H) rather than λ_max(H)."""
    if run.optimizer in ("adam", "rmsprop"):
        return True
    elif run.optimizer == "sgd":
        return False
    else:
        raise ValueError(f"unknown optimizer {run.optimizer!r}")  # configs validated this already


def threshold(run: Run) -> float:
    """The sharpness at which the run's update stops being stable on a quadratic: its edge of stability.

    On a quadratic of curvature λ (and, for adaptive methods, a frozen preconditioner P,
    λ an eigenvalue of P⁻¹H), the iteration diverges once λ exceeds:

    - gradient descent, θ ← θ − ηg: 2/η (Cohen et al. 2021, "Gradient Descent on Neural
      Networks Typically Occurs at the Edge of Stability");
    - heavy-ball momentum β, b ← βb + g, θ ← θ − ηb (PyTorch's SGD, dampening 0):
      (2 + 2β)/η, the root of the two-step recursion's characteristic polynomial at −1;
    - Adam, m ← β₁m + (1 − β₁)g, θ ← θ − ηP⁻¹m with P = (1 − β₁ᵗ)(diag √v̂ₜ + ε): heavy ball
      with step η(1 − β₁), so (2 + 2β₁)/((1 − β₁)η), 38/η for β₁ = 0.9 (Cohen et al. 2022,
      "Adaptive Gradient Methods at the Edge of Stability", their Table 2);
    - RMSprop, v ← αv + (1 − α)g², θ ← θ − ηg/(√v + ε): preconditioned gradient descent with
      P = diag √v + ε, so 2/η on λ_max(P⁻¹H), as for gradient descent (Cohen et al. 2022 list
      RMSProp with this threshold). PyTorch's RMSprop has no bias correction: the first
      steps have a small v, a small P and so a large preconditioned sharpness.

    The quantity compared is λ_max(H) for SGD (``adaptive(run)`` False), λ_max(P⁻¹H) otherwise.
    """
    if run.optimizer == "sgd":
        return (2 + 2 * run.momentum) / run.lr
    elif run.optimizer == "adam":
        return (2 + 2 * ADAM_BETA1) / ((1 - ADAM_BETA1) * run.lr)
    elif run.optimizer == "rmsprop":
        return 2 / run.lr
    else:
        raise ValueError(f"unknown optimizer {run.optimizer!r}")  # configs validated this already


# ---------------------------------------------------------------- spikes


def spike_mask(train_loss: np.ndarray, train_acc: np.ndarray, fit: float = 0.9, factor: float = 2.0,
               window: int = 20) -> np.ndarray:
    """(..., E + 1) bool: epochs at which the loss spikes, by the one rule the article uses.

    Epoch t is a spike epoch when the run has reached ``fit`` training accuracy at some
    epoch before t, and the loss at t exceeds ``factor`` times its minimum over the
    ``window`` epochs before t (fewer at the start). A non-finite loss after fitting counts
    as above (a blow-up is the largest spike). Works on one run (E + 1,) or many (G, E + 1).
    """
    loss = np.asarray(train_loss, np.float64)
    loss = np.where(np.isnan(loss), np.inf, loss)
    fitted = np.logical_or.accumulate(np.asarray(train_acc) >= fit, axis=-1)
    after_fit = np.zeros_like(fitted)
    after_fit[..., 1:] = fitted[..., :-1]  # strictly after the first epoch that reached ``fit``
    padded = np.concatenate([np.full((*loss.shape[:-1], window), np.inf), loss], axis=-1)
    recent = sliding_window_view(padded, window, axis=-1)[..., :loss.shape[-1], :].min(axis=-1)  # loss[t-window:t]
    return after_fit & (loss > factor * recent)


def spikes(train_loss: np.ndarray, train_acc: np.ndarray, fit: float = 0.9, factor: float = 2.0,
           window: int = 20) -> np.ndarray:
    """The first epoch of each spike episode of one run, ascending (int64; see ``spike_mask``).

    An episode is a stretch of spike epochs in which no ``window`` consecutive epochs are
    calm: an oscillation (0.27, 1.20, 0.24, 2.35, 0.09, 2.24) is one episode, not three.
    """
    epochs = np.flatnonzero(spike_mask(train_loss, train_acc, fit, factor, window))
    if epochs.size == 0:
        return epochs.astype(np.int64)
    starts = np.concatenate([[True], np.diff(epochs) > window])  # a gap of ``window`` calm epochs ends one
    return epochs[starts].astype(np.int64)


# ---------------------------------------------------------------- where curvature is measured


def curvature_epochs(train_loss: np.ndarray, count: int, lead: int = 5, jump: float = float(np.log(1.25))
                     ) -> np.ndarray:
    """The epochs of one run whose curvature is measured: at most ``count`` (>= 2), ascending, first and last in.

    A top eigenvalue costs tens of Hessian-vector products, so a CPU build affords a few
    dozen to a few hundred epochs per run (``curvature`` gives the measured costs). Up to
    half of them go where the loss moves: each epoch at which it changes by at least ``jump``
    (25 %) from the epoch before, with the ``lead`` epochs before it (the sharpness runs away
    in the epochs before a spike), largest change first. The rest, and any slots the moves
    leave, go on the densest even stride over the run that fits.
    """
    log_loss = np.log(np.asarray(train_loss, np.float64))
    epochs = len(log_loss) - 1
    if count >= epochs + 1:
        return np.arange(epochs + 1, dtype=np.int64)
    move = np.zeros(epochs + 1 + lead)
    step = np.abs(np.diff(log_loss))
    move[1:epochs + 1] = np.where(np.isnan(step), np.inf, step)  # move[t]: from t − 1 to t; a diverged step moves most
    ahead = np.stack([move[k:k + epochs + 1] for k in range(lead + 1)])  # ahead[k, t] = move[t + k]
    moving = ahead >= jump
    distance = np.where(moving.any(axis=0), moving.argmax(axis=0), lead + 1)  # epochs to the next move
    size = ahead[np.minimum(distance, lead), np.arange(epochs + 1)]
    ranked = np.lexsort((np.arange(epochs + 1), distance, -size))  # the largest move's epochs first, itself first
    moves = ranked[distance[ranked] <= lead][:count - max(2, count // 2)]  # the stride keeps the first and last
    chosen = np.array(moves, dtype=np.int64)
    for points in range(max(2, count - len(moves)), epochs + 2):  # the densest stride that still fits
        union = np.union1d(moves, np.round(np.linspace(0, epochs, points)).astype(np.int64))
        if len(union) > count:
            break
        chosen = union
    return chosen


# ---------------------------------------------------------------- dead layers over initializations


def dead_check_epochs(epochs: int) -> np.ndarray:
    """The epochs at which every initialization is checked for dead layers: each of the first 10, every 5th to
    50, every 25th after, and the last. Layers die early (most of those that die in the 20×5 net do so
    in the first few epochs); a check per epoch would cost a forward pass of every initialization per
    epoch, 11 s for the 100 of 20×5 on one CPU thread, against under 1 s for these."""
    marks = np.concatenate([np.arange(min(10, epochs) + 1), np.arange(10, min(50, epochs) + 1, 5),
                            np.arange(50, epochs + 1, 25), [epochs]])
    return np.unique(marks).astype(np.int64)


def sharpness_ratio(run: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, sharpness ÷ the run's threshold) where the curvature was measured: 1 is its edge of stability.

    The sharpness is λ_max(P⁻¹H) for Adam and RMSprop, λ_max(H) for gradient descent and momentum
    (``dynamics.threshold``); dividing by each run's own threshold puts four optimizers on one axis.
    """
    curvature = run.curvature
    assert curvature is not None
    value = curvature.preconditioned if curvature.adaptive else curvature.hessian
    return curvature.epochs.astype(np.float64), value.astype(np.float64) / curvature.threshold
