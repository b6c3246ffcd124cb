"""How a run is read at "the end", and which initialization of an ensemble the figures draw.

Training here is chaotic after the fit: a loss that has reached 0.01 can stand at 0.75
one epoch later and be back the next. A figure read at the last epoch therefore reports
whatever phase of a glitch the run happened to stop in. The prose and the tables name
one of three measures, each defined here once:

- **last**: the value after the final epoch;
- **best**: the lowest loss (highest accuracy) at any epoch so far;
- **late**: the median over the last ``LATE_FRACTION`` of the epochs, which a spike of a few
  epochs cannot move.

Torch-free: the pipeline picks the drawn run with it, the summaries report its rank.
"""
from __future__ import annotations

import math

import numpy as np

LATE_FRACTION = 0.1  # the late measure reads the last tenth of training (40 of 400 epochs, 100 of 1000)
FIT_ACCURACY = 0.9  # training accuracy that counts as having fitted the spiral


def late_epochs(epochs: int) -> int:
    """How many of the last epochs the late measure takes the median of (at least one)."""
    return max(1, math.ceil(LATE_FRACTION * epochs))


def late(values: np.ndarray) -> np.ndarray:
    """The late measure of each row of ``values`` (G, E + 1): the median of its last epochs.

    A non-finite value (a diverged run) makes the row's late value NaN, never a number.
    """
    rows = np.atleast_2d(np.asarray(values, np.float64))
    tail = rows[:, -late_epochs(rows.shape[1] - 1):]
    finite = np.isfinite(tail).all(axis=1)
    return np.where(finite, np.median(np.where(np.isfinite(tail), tail, 0.0), axis=1), np.nan)


def best_loss(loss: np.ndarray) -> np.ndarray:
    """Each row's lowest loss over training (NaN-safe: a diverged row's lowest finite value)."""
    rows = np.atleast_2d(np.asarray(loss, np.float64))
    return np.where(np.isfinite(rows), rows, np.inf).min(axis=1)


def ranking(loss: np.ndarray) -> np.ndarray:
    """Member indices from lowest to highest late training loss; diverged members last, ties by index."""
    key = late(loss)
    return np.lexsort((np.arange(len(key)), np.where(np.isnan(key), np.inf, key)))


def drawn_member(loss: np.ndarray) -> int:
    """The initialization the figures draw: the median of the ensemble by late training loss.

    With G members it is the ⌈G/2⌉-th from the lowest (the 50th of 100, the 12th of 24, the
    1st of 2), so it is neither a lucky nor an unlucky draw of its architecture.
    """
    order = ranking(loss)
    return int(order[(len(order) - 1) // 2])


def rank_of(member: int, loss: np.ndarray) -> int:
    """1-based place of ``member`` from the lowest late training loss (1: the best of its ensemble)."""
    return int(np.flatnonzero(ranking(loss) == member)[0]) + 1


def fit_epoch(train_acc: np.ndarray) -> int | None:
    """The first epoch whose training accuracy reaches ``FIT_ACCURACY`` (None: never)."""
    reached = np.flatnonzero(np.asarray(train_acc) >= FIT_ACCURACY)
    return int(reached[0]) if reached.size else None
