"""Pairs of directions that span the plane a trajectory is drawn on.

Three methods (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"):
``random`` — two filter-normalized Gaussian directions; ``init-final`` — the
vector from θ₀ to θ_final plus one filter-normalized random direction made
orthogonal to it and scaled to its length; ``pca`` — the top two principal
directions of θᵢ − θ_final, *uncentred*, which span the plane through θ_final
closest to the snapshots.

Every plane has axes of one length in weight space (``axis_lengths`` are
equal), so a map drawn with equal units on both axes shows its true
proportions: PCA directions are orthonormal, filter normalization gives both
random directions the norm of θ_final's weights, and the init→final plane's
second direction is scaled to the first's length.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import TruncatedSVD

from lossarticle.models import Architecture
from lossarticle.numbers import pct


@dataclass(frozen=True)
class Plane:
    """An affine plane ``origin + a·d1 + b·d2`` in weight space."""

    method: str  # one of configs.DIRECTION_METHODS
    origin: np.ndarray  # (P,) float64; the reference run's θ_final
    d1: np.ndarray  # (P,) float64
    d2: np.ndarray  # (P,) float64
    explained_variance: tuple[float, float] | None  # PCA only: share of Σ|θᵢ − θ_final|² along each axis
    axis_labels: tuple[str, str]  # for the plot, e.g. "PC1 · 95.3 % of the path"
    fallback: bool = False  # True when the path was too short for the method and random directions stand in

    @property
    def axis_lengths(self) -> tuple[float, float]:
        """Weight-space length of one unit along each axis."""
        return float(np.linalg.norm(self.d1)), float(np.linalg.norm(self.d2))


def filter_normalize(direction: np.ndarray, theta: np.ndarray, arch: Architecture) -> np.ndarray:
    """Rescale each neuron's incoming-weight row of ``direction`` to that row's norm in ``theta``.

    Biases are zeroed (Li et al. 2018, section 4). Without this, a direction's
    scale is arbitrary per layer and the plot's geometry means nothing.
    """
    result = np.zeros_like(direction, dtype=np.float64)
    for w_slice, _, out, inp in arch.weight_slices:
        d_rows = direction[w_slice].reshape(out, inp).astype(np.float64)
        t_rows = theta[w_slice].reshape(out, inp).astype(np.float64)
        d_norm = np.linalg.norm(d_rows, axis=1, keepdims=True)
        t_norm = np.linalg.norm(t_rows, axis=1, keepdims=True)
        scaled = d_rows * np.divide(t_norm, d_norm, out=np.zeros_like(d_norm), where=d_norm > 0)
        result[w_slice] = scaled.reshape(-1)
    return result


def random_direction(theta: np.ndarray, arch: Architecture, rng: np.random.Generator) -> np.ndarray:
    """A Gaussian direction, filter-normalized against ``theta``."""
    return filter_normalize(rng.standard_normal(theta.shape[0]), theta, arch)


def pca_directions(path: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Top two uncentred principal directions of ``path - origin`` and the share of Σ|θᵢ − origin|² each holds.

    Uncentred, unlike scikit-learn's ``PCA``: centring on the path's mean finds the
    best plane through the mean, not through θ_final, and measured here that
    plane sits twice as far from the snapshots (summed squared distance 212 vs
    106 on ``directions``). ``path`` may stack several trajectories (the
    optimizer comparison): their joint directions give one plane for all.
    Signs are fixed so that the first snapshot has negative coordinates: every
    path arrives at the origin from the lower left.
    """
    offsets = path.astype(np.float64) - origin
    d1, d2, singular = top_singular_directions(offsets)
    total = float((offsets ** 2).sum())
    first = offsets[0]
    d1, d2 = (d if first @ d <= 0 else -d for d in (d1, d2))
    if total == 0:
        return d1, d2, (0.0, 0.0)
    return d1, d2, (float(singular[0] ** 2 / total), float(singular[1] ** 2 / total))


def top_singular_directions(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two leading right singular vectors of ``offsets`` and their singular values."""
    if min(offsets.shape) > 2:
        # ARPACK finds the two leading components of a 401 x 91503 path in 0.4 s where
        # the full SVD takes 11 s, to 1e-15; it needs more than two rows and columns.
        svd = TruncatedSVD(n_components=2, algorithm="arpack", random_state=0).fit(offsets)
        return svd.components_[0], svd.components_[1], svd.singular_values_
    _, singular, vt = np.linalg.svd(offsets, full_matrices=False)
    if len(vt) < 2:  # a single distinct row: any unit vector orthogonal to it completes the pair
        vt = np.vstack([vt, orthonormal_complement(vt[0])])
        singular = np.append(singular, 0.0)
    return vt[0], vt[1], singular


def orthonormal_complement(direction: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to ``direction``; deterministic: Gram–Schmidt on the first basis vector that works."""
    for axis in np.eye(len(direction)):
        candidate = orthogonalize(axis, direction)
        if np.linalg.norm(candidate) > 1e-6:
            return candidate / np.linalg.norm(candidate)
    raise ValueError("a direction in one dimension has no orthogonal complement")


def orthogonalize(direction: np.ndarray, against: np.ndarray) -> np.ndarray:
    """Remove from ``direction`` its component along ``against`` (one Gram–Schmidt step)."""
    return direction - (direction @ against) / (against @ against) * against


def too_short(method: str, paths: list[np.ndarray]) -> bool:
    """Whether ``method`` cannot define two directions from ``paths``."""
    if method == "pca":
        return sum(len(p) for p in paths) < 3
    elif method == "init-final":
        return len(paths[0]) < 2 or not np.any(paths[0][0] != paths[0][-1])
    return False


def make_plane(method: str, paths: list[np.ndarray], arch: Architecture, rng: np.random.Generator) -> Plane:
    """The plane ``method`` gives for ``paths``; the first path's final weights are the origin."""
    origin = paths[0][-1].astype(np.float64)
    if too_short(method, paths):
        # A run that diverged at once leaves too few snapshots to define the plane.
        d1, d2 = random_direction(origin, arch, rng), random_direction(origin, arch, rng)
        return Plane(method, origin, d1, d2, None, ("random direction 1 (path too short)",
                                                    "random direction 2 (path too short)"), fallback=True)
    if method == "pca":
        d1, d2, ratio = pca_directions(np.concatenate(paths), origin)
        # The share as the file stores it (6 decimals) and the prose prints it: 0.039499... would
        # label 3.9 % an axis the prose, reading the stored 0.0395, calls 4.0 %.
        stored = [round(float(share), 6) for share in ratio[:2]]  # as export.plane_record rounds it
        labels = (f"PC1 · {pct(stored[0])} of the path", f"PC2 · {pct(stored[1])} of the path")
        return Plane(method, origin, d1, d2, ratio, labels)
    elif method == "random":
        d1 = random_direction(origin, arch, rng)
        d2 = random_direction(origin, arch, rng)
        return Plane(method, origin, d1, d2, None, ("random direction 1", "random direction 2"))
    elif method == "init-final":
        # θ_final + a·d1 with d1 = θ_final − θ₀ puts θ₀ at a = −1; d2 gets d1's length so that
        # one unit is one length on both axes.
        d1 = origin - paths[0][0].astype(np.float64)
        d2 = orthogonalize(random_direction(origin, arch, rng), d1)
        d2 *= np.linalg.norm(d1) / np.linalg.norm(d2)
        return Plane(method, origin, d1, d2, None, ("θ_final − θ₀", "random, orthogonal to it, same length"))
    else:
        raise ValueError(f"unknown direction method {method!r}")
