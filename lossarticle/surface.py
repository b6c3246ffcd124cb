"""Loss and accuracy over a grid in a plane, and decision regions in input space.

Grids follow the ``np.meshgrid(x, y)`` / Bokeh ``image()`` convention:
``Z[iy][ix]`` is the value at ``(x[ix], y[iy])``; rows are y.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

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
class Regions:
    """Predicted class and its confidence over an input grid, per shown frame."""

    frames: np.ndarray  # (F,) epoch index of each frame
    x: np.ndarray  # (nx,) standardized input coordinate
    y: np.ndarray  # (ny,)
    label: np.ndarray  # (F, ny, nx) uint8 arg-max class
    confidence: np.ndarray  # (F, ny, nx) uint8: round(255 · (p_max − 1/C) / (1 − 1/C))


def symmetric_axis(values: np.ndarray, margin: float, resolution: int) -> np.ndarray:
    """Grid axis centred on 0 that covers ``values`` plus a margin.

    Centring on 0 puts θ_final (the plane's origin) on the middle grid point
    when ``resolution`` is odd.
    """
    reach = float(np.max(np.abs(values))) if values.size else 0.0
    reach = reach * (1.0 + margin) if reach > 0 else 1.0
    axis = np.linspace(-reach, reach, resolution)
    # linspace's middle point can miss 0 by ~1e-18 (k · step ≠ reach in floating point);
    # averaging with the mirror image makes the axis exactly antisymmetric, its middle exactly 0.
    return (axis - axis[::-1]) / 2


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


def frame_indices(epochs: int, count: int) -> np.ndarray:
    """About ``count`` evenly spaced snapshot indices, first and last included, no repeats."""
    return np.unique(np.round(np.linspace(0, epochs, min(count, epochs + 1))).astype(np.int64))


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
