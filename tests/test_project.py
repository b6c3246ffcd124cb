from __future__ import annotations

import numpy as np

from lossarticle.directions import Plane
from lossarticle.project import project_path


def skewed_plane(dims: int = 12) -> Plane:
    rng = np.random.default_rng(0)
    d1 = rng.standard_normal(dims) * 3
    d2 = d1 * 0.6 + rng.standard_normal(dims)  # far from orthogonal, not unit length
    return Plane("random", rng.standard_normal(dims), d1, d2, None, ("a", "b"))


def test_points_on_the_plane_project_to_their_coefficients() -> None:
    plane = skewed_plane()
    coeffs = np.array([[0.0, 0.0], [1.5, -2.0], [-0.25, 4.0]])
    thetas = plane.origin + coeffs @ np.stack([plane.d1, plane.d2])
    projection = project_path(thetas, plane)
    np.testing.assert_allclose(projection.coords, coeffs, atol=1e-10)
    np.testing.assert_allclose(projection.distance, 0, atol=1e-10)


def test_distance_is_the_off_plane_part() -> None:
    plane = skewed_plane()
    basis = np.stack([plane.d1, plane.d2], axis=1)
    q, _ = np.linalg.qr(basis)
    normal = np.random.default_rng(5).standard_normal(12)
    normal -= q @ (q.T @ normal)
    normal *= 2.5 / np.linalg.norm(normal)
    theta = plane.origin + 0.3 * plane.d1 - 0.7 * plane.d2 + normal
    projection = project_path(theta[None], plane)
    np.testing.assert_allclose(projection.coords[0], [0.3, -0.7], atol=1e-10)
    np.testing.assert_allclose(projection.distance[0], 2.5, rtol=1e-10)
