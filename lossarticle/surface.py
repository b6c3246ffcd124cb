"""Loss and accuracy over a grid in a plane, and decision regions in input space.

Grids follow the ``np.meshgrid(x, y)`` / Bokeh ``image()`` convention:
``Z[iy][ix]`` is the value at ``(x[ix], y[iy])``; rows are y.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lossarticle.configs import SurfaceConfig
from lossarticle.data import Dataset
from lossarticle.directions import Plane
from lossarticle.models import Architecture, accuracy, cross_entropy, forward


@dataclass(frozen=True)
class Surface:
    """Loss and accuracy sampled on ``x`` × ``y``; arrays are indexed ``[iy][ix]``."""

    x: np.ndarray  # (nx,) plane coordinate a
    y: np.ndarray  # (ny,) plane coordinate b
    loss: np.ndarray  # (ny, nx) float32, may hold inf where the loss overflows
    accuracy: np.ndarray  # (ny, nx) float32


@dataclass(frozen=True)
class View:
    """One way to draw a plane: its own grid, so the surface covers exactly what is shown."""

    name: str  # "true": one unit is one length on both axes; "stretched": fitted to the path per axis
    stretch: float  # x span / y span of the grid over that of true proportions (1 for a true view)
    surface: Surface


@dataclass(frozen=True)
class Segment:
    """Loss along θ₀ + α(θ_final − θ₀): Goodfellow et al.'s straight line, evaluated exactly."""

    alpha: np.ndarray  # (n,) from 0 (θ₀) to 1 (θ_final)
    loss: np.ndarray  # (n,)


@dataclass(frozen=True)
class Regions:
    """Predicted class and its confidence over an input grid, per shown frame."""

    frames: np.ndarray  # (F,) epoch index of each frame
    x: np.ndarray  # (nx,) standardized input coordinate
    y: np.ndarray  # (ny,)
    label: np.ndarray  # (F, ny, nx) uint8 arg-max class
    confidence: np.ndarray  # (F, ny, nx) uint8: round(255 · (p_max − 1/C) / (1 − 1/C))


def symmetric_axis(values: np.ndarray, margin: float, resolution: int) -> np.ndarray:
    """Grid axis symmetric about 0 that covers ``values`` plus a margin.

    Every point is an integer count of steps times one spacing, so the axis is
    exactly antisymmetric and, for an odd ``resolution``, its middle point is
    exactly 0: θ_final, the plane's origin, is a grid point by construction.
    (``linspace(-r, r, n)`` computes ``-r + i·(2r/(n-1))``; its middle is 0 only
    when the rounding cancels, which depends on ``r``: -3.5e-18 on another CPU.)
    """
    reach = float(np.max(np.abs(values))) if values.size else 0.0
    reach = reach * (1.0 + margin) if reach > 0 else 1.0
    half = (resolution - 1) / 2  # steps from the centre to an end; a half-integer when resolution is even
    return (np.arange(resolution) - half) * (reach / half)


def view_axes(method: str, coords: np.ndarray, config: SurfaceConfig) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The grids a plane is drawn on, each as (view name, x axis, y axis).

    Always a square "true" view, in which a straight path looks straight. A random
    plane spans ±``random_extent`` (Li et al.'s standard extent: the path is then a
    short stroke near the centre, which is the point); the others fit the path. A
    path much longer one way than the other also gets a "stretched" view, fitted
    per axis, which the page labels with its stretch factor.
    """
    reach = np.abs(coords).ravel()
    if method == "random":
        reach = np.append(reach, config.random_extent / (1.0 + config.margin))
    square = symmetric_axis(reach, config.margin, config.resolution)
    views = [("true", square, square)]
    if method != "random":
        x_axis = symmetric_axis(coords[:, 0], config.margin, config.resolution)
        y_axis = symmetric_axis(coords[:, 1], config.margin, config.resolution)
        if max(stretch_of(x_axis, y_axis), 1 / stretch_of(x_axis, y_axis)) >= config.stretch_min:
            views.append(("stretched", x_axis, y_axis))
    return views


def stretch_of(x_axis: np.ndarray, y_axis: np.ndarray) -> float:
    """How many times more of the y axis than of the x axis a square plot of this grid shows per unit."""
    return float(x_axis[-1] / y_axis[-1])


def segment_losses(arch: Architecture, plane: Plane, points: int, data: Dataset, device: torch.device) -> Segment:
    """The loss at ``points`` evenly spaced points of the init→final segment, ends included.

    On an init→final plane θ₀ + α(θ_final − θ₀) is the point (α − 1, 0).
    """
    alpha = np.arange(points) / (points - 1)
    coords = np.column_stack([alpha - 1, np.zeros_like(alpha)])
    return Segment(alpha, losses_at(arch, plane, coords, data, device)[0])


def matmul_flops(arch: Architecture, samples: int) -> int:
    """Multiply-add FLOPs of one forward pass over ``samples`` inputs (2 per MAC)."""
    return 2 * samples * sum(out * inp for (out, inp), _ in arch.shapes)


def chunk_size(arch: Architecture, samples: int, device: torch.device) -> int:
    """Networks per batched forward, so one layer's activations take a bounded amount of memory.

    On the CPU, about 2 MiB of activations (4 networks of the 100-wide nets; they stay
    in cache) ran at 140-146 GFLOP/s against 107 for 10 MiB; on a GPU, launches
    dominate, so batches are large.
    """
    budget = 2 * 2 ** 20 if device.type == "cpu" else 2 ** 30
    return max(1, budget // (samples * max(arch.sizes) * 4))


def _thetas_on_plane(plane_t: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Weights origin + a·d1 + b·d2 for each row (a, b) of ``coords``; one GEMM."""
    origin, basis = plane_t[0], plane_t[1:]
    return torch.addmm(origin, coords, basis)


def losses_at(arch: Architecture, plane: Plane, coords: np.ndarray, data: Dataset,
              device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Training loss and accuracy at each plane point ``coords`` (M, 2), a bounded chunk at a time."""
    x = torch.as_tensor(data.x_train, device=device)
    y = torch.as_tensor(data.y_train, device=device)
    plane_t = torch.as_tensor(np.stack([plane.origin, plane.d1, plane.d2]), dtype=torch.float32, device=device)
    points = torch.as_tensor(coords, dtype=torch.float32, device=device)
    chunk = chunk_size(arch, len(x), device)
    loss = torch.empty(len(points), device=device)
    acc = torch.empty(len(points), device=device)
    with torch.no_grad():
        for start in range(0, len(points), chunk):
            thetas = _thetas_on_plane(plane_t, points[start:start + chunk])
            logits = forward(arch, thetas, x)
            loss[start:start + chunk] = cross_entropy(logits, y)
            acc[start:start + chunk] = accuracy(logits, y)
    return loss.cpu().numpy(), acc.cpu().numpy()


def evaluate_grid(evaluate: Callable[[np.ndarray], tuple[np.ndarray, ...]], x_axis: np.ndarray,
                  y_axis: np.ndarray) -> tuple[np.ndarray, ...]:
    """Apply ``evaluate`` (points (M, 2) -> arrays (M,)) to the grid; each result is ``[iy][ix]``."""
    gx, gy = np.meshgrid(x_axis, y_axis)  # each (ny, nx): x varies along a row
    values = evaluate(np.column_stack([gx.ravel(), gy.ravel()]))
    return tuple(v.reshape(len(y_axis), len(x_axis)) for v in values)


def loss_grid(arch: Architecture, plane: Plane, x_axis: np.ndarray, y_axis: np.ndarray, data: Dataset,
              device: torch.device) -> Surface:
    """Loss and accuracy on the grid ``x_axis`` × ``y_axis`` of ``plane``, stored ``[iy][ix]``."""
    loss, acc = evaluate_grid(lambda coords: losses_at(arch, plane, coords, data, device), x_axis, y_axis)
    return Surface(x_axis, y_axis, loss, acc)


def region_change(train_acc: np.ndarray, train_loss: np.ndarray) -> np.ndarray:
    """How much the decision regions move in each epoch, as the run's training curves tell it: (E,) for E + 1 rows.

    Half is |Δ accuracy| + |Δ ln loss|, as a share of its total: a spike or a jump in accuracy, where the
    regions are redrawn, gets frames, a settled stretch few. Half is the epoch's share of ln(1 + epoch): the
    first epochs, each a large share of the training so far, are never left bare, whatever the curves do.
    Each half sums to 1, so the measure does not depend on how far the loss falls.
    """
    log_loss = np.log(np.maximum(np.asarray(train_loss, np.float64), np.finfo(np.float32).tiny))
    curves = np.abs(np.diff(np.asarray(train_acc, np.float64))) + np.abs(np.diff(log_loss))
    curves = np.where(np.isfinite(curves), curves, 0.0)  # a diverged run's rows stop before it; kept safe anyway
    clock = np.diff(np.log1p(np.arange(len(log_loss), dtype=np.float64)))
    return (curves / curves.sum() if curves.sum() > 0 else curves) + clock / clock.sum()


def frame_epochs(train_acc: np.ndarray, train_loss: np.ndarray, count: int) -> np.ndarray:
    """The epochs whose decision regions are stored: at most ``count``, ascending, first and last included.

    The page shows the latest frame at or before the slider's epoch, so a frame is worth most where the
    regions change. Each frame after the first and last splits the gap between chosen frames that holds
    the most change (:func:`region_change`; the earlier gap on a tie) at the epoch where half of that
    change is done: frames crowd into the early epochs and around jumps, each gap holds about the same
    change, and a one-epoch jump gets a frame at the epoch it lands on.
    """
    epochs = len(train_acc) - 1
    if count >= epochs + 1:
        return np.arange(epochs + 1, dtype=np.int64)
    done = np.concatenate([[0.0], np.cumsum(region_change(train_acc, train_loss))])  # change up to each epoch
    frames = [0, epochs]
    while len(frames) < count:  # some gap is still wider than one epoch: fewer frames than epochs + 1
        gaps = [(start, end) for start, end in zip(frames, frames[1:]) if end - start > 1]
        start, end = max(gaps, key=lambda gap: done[gap[1]] - done[gap[0]])  # max keeps the first of equals
        half = int(np.searchsorted(done, (done[start] + done[end]) / 2))
        bisect.insort(frames, min(max(half, start + 1), end - 1))
    return np.array(frames, dtype=np.int64)


def input_axes(data: Dataset, resolution: int, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Axes over the extent of every split's inputs, plus a margin, for decision regions."""
    points = np.concatenate([data.x_train, data.x_val, data.x_test])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = margin * (high - low)
    return (np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
            np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))


def decision_regions(arch: Architecture, thetas: np.ndarray, frames: np.ndarray, x_axis: np.ndarray,
                     y_axis: np.ndarray, device: torch.device) -> Regions:
    """Arg-max class and confidence on the input grid for each frame's weights."""
    gx, gy = np.meshgrid(x_axis, y_axis)
    inputs = torch.as_tensor(np.column_stack([gx.ravel(), gy.ravel()]), dtype=torch.float32, device=device)
    weights = torch.as_tensor(thetas[frames], device=device)
    chunk = chunk_size(arch, len(inputs), device)
    classes = arch.sizes[-1]
    labels, confidences = [], []
    with torch.no_grad():
        for start in range(0, len(frames), chunk):
            probs = torch.softmax(forward(arch, weights[start:start + chunk], inputs), dim=-1)
            p_max, label = probs.max(dim=-1)
            scaled = (p_max - 1.0 / classes) / (1.0 - 1.0 / classes)
            confidences.append(torch.round(255 * scaled.clamp(0, 1)).to(torch.uint8).cpu())
            labels.append(label.to(torch.uint8).cpu())
    shape = (len(frames), len(y_axis), len(x_axis))
    return Regions(frames, x_axis, y_axis, torch.cat(labels).numpy().reshape(shape),
                   torch.cat(confidences).numpy().reshape(shape))
