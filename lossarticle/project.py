"""Where a trajectory falls in a plane, and how far from it it really is."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossarticle.directions import Plane


@dataclass(frozen=True)
class Projection:
    """Per snapshot: plane coordinates and the distance left out of the picture."""

    coords: np.ndarray  # (E + 1, 2) float64: (a, b) with θ ≈ origin + a·d1 + b·d2
    distance: np.ndarray  # (E + 1,) Euclidean norm of the residual θ − (origin + a·d1 + b·d2)


def project_path(thetas: np.ndarray, plane: Plane) -> Projection:
    """Least-squares coordinates of each θᵢ in the plane.

    Solves the 2×2 normal equations G c = Dᵀ(θ − origin) with G = DᵀD, so it is
    exact for directions that are not orthogonal or not of unit length (random
    and init→final planes are neither).
    """
    basis = np.stack([plane.d1, plane.d2], axis=1)  # (P, 2)
    offsets = thetas.astype(np.float64) - plane.origin  # (E + 1, P)
    coords = np.linalg.solve(basis.T @ basis, basis.T @ offsets.T).T
    residual = offsets - coords @ basis.T
    return Projection(coords=coords, distance=np.linalg.norm(residual, axis=1))
