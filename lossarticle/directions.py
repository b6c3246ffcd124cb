"""Pairs of directions that span the plane a trajectory is drawn on.

Three methods (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"):
``random`` — two filter-normalized Gaussian directions; ``init-final`` — the
vector from θ₀ to θ_final plus one filter-normalized random direction made
orthogonal to it; ``pca`` — the top two principal components of θᵢ − θ_final.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from lossarticle.models import Architecture


@dataclass(frozen=True)
class Plane:
    """An affine plane ``origin + a·d1 + b·d2`` in weight space."""

    method: str  # one of configs.DIRECTION_METHODS
    origin: np.ndarray  # (P,) float64; the reference run's θ_final
    d1: np.ndarray  # (P,) float64
    d2: np.ndarray  # (P,) float64
    explained_variance: tuple[float, float] | None  # PCA only: share of the path's variance per axis
    axis_labels: tuple[str, str]  # for the plot, e.g. "PC1 · 95.3 % of variance"


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
    """Top two principal components of ``path - origin`` and their explained-variance ratios.

    ``path`` may stack several trajectories (the optimizer comparison): their
    joint PCA gives one plane in which all of them can be compared.
    """
    centred = path.astype(np.float64) - origin
    # ARPACK finds the two leading components of a 401 x 91503 path in 0.4 s where
    # the full SVD takes 11 s, to 1e-15; it needs more than two rows and columns.
    solver = "arpack" if min(centred.shape) > 2 else "full"
    pca = PCA(n_components=2, svd_solver=solver, random_state=0).fit(centred)
    d1, d2 = pca.components_
    ratio = pca.explained_variance_ratio_
    return d1, d2, (float(ratio[0]), float(ratio[1]))


def orthogonalize(direction: np.ndarray, against: np.ndarray) -> np.ndarray:
    """Remove from ``direction`` its component along ``against`` (one Gram–Schmidt step)."""
    return direction - (direction @ against) / (against @ against) * against


def too_short(method: str, paths: list[np.ndarray]) -> bool:
    """Whether ``method`` cannot define two directions from ``paths``."""
    if method == "pca":
        return sum(len(p) for p in paths) < 3
    elif method == "init-final":
        return len(paths[0]) < 2
    return False


def make_plane(method: str, paths: list[np.ndarray], arch: Architecture, rng: np.random.Generator) -> Plane:
    """The plane ``method`` gives for ``paths``; the first path's final weights are the origin."""
    origin = paths[0][-1].astype(np.float64)
    if too_short(method, paths):
        # A run that diverged at once leaves too few snapshots to define the plane.
        d1, d2 = random_direction(origin, arch, rng), random_direction(origin, arch, rng)
        return Plane(method, origin, d1, d2, None, ("random direction 1 (path too short)",
                                                    "random direction 2 (path too short)"))
    if method == "pca":
        d1, d2, ratio = pca_directions(np.concatenate(paths), origin)
        labels = (f"PC1 · {100 * ratio[0]:.1f} % of variance", f"PC2 · {100 * ratio[1]:.1f} % of variance")
        return Plane(method, origin, d1, d2, ratio, labels)
    elif method == "random":
        d1 = random_direction(origin, arch, rng)
        d2 = random_direction(origin, arch, rng)
        return Plane(method, origin, d1, d2, None, ("random direction 1", "random direction 2"))
    elif method == "init-final":
        # θ_final + a·d1 with d1 = θ_final − θ₀ puts θ₀ at a = −1.
        d1 = origin - paths[0][0].astype(np.float64)
        d2 = orthogonalize(random_direction(origin, arch, rng), d1)
        return Plane(method, origin, d1, d2, None, ("θ_final − θ₀", "random, orthogonal to it"))
    else:
        raise ValueError(f"unknown direction method {method!r}")
