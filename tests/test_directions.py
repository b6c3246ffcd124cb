from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from lossarticle.directions import filter_normalize, make_plane, pca_directions
from lossarticle.models import Architecture, init_params


def random_walk(steps: int, dims: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((steps, dims)) * np.linspace(3, 0.1, dims), axis=0)


def squared_distance_to_plane(path: np.ndarray, origin: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> float:
    """Σᵢ |θᵢ − its closest point of the plane origin + span(d1, d2)|²."""
    q, _ = np.linalg.qr(np.stack([d1, d2], axis=1))
    offsets = path - origin
    return float(((offsets - offsets @ q @ q.T) ** 2).sum())


def test_pca_directions_are_orthonormal_and_match_numpy_svd_of_the_uncentred_offsets() -> None:
    path = random_walk(40, 25)
    d1, d2, ratio = pca_directions(path, path[-1])
    basis = np.stack([d1, d2])
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-10)
    offsets = path - path[-1]  # not centred on the mean: the plane must pass through θ_final
    _, singular, vt = np.linalg.svd(offsets, full_matrices=False)
    for mine, oracle in zip(basis, vt[:2]):
        assert abs(abs(mine @ oracle) - 1) < 1e-9  # equal up to sign
    np.testing.assert_allclose(ratio, singular[:2] ** 2 / (singular ** 2).sum(), rtol=1e-9)


def test_the_pca_plane_is_the_closest_plane_through_theta_final() -> None:
    path = random_walk(60, 30, seed=3) + 5.0  # far from the origin: centring would matter a lot
    origin = path[-1]
    mine = squared_distance_to_plane(path, origin, *pca_directions(path, origin)[:2])
    centred = PCA(n_components=2).fit(path - origin).components_  # the plane scikit-learn's PCA would give
    assert mine < squared_distance_to_plane(path, origin, *centred)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert mine <= squared_distance_to_plane(path, origin, *rng.standard_normal((2, 30)))


def test_every_path_arrives_from_the_lower_left() -> None:
    path = random_walk(30, 12, seed=1)
    d1, d2, _ = pca_directions(path, path[-1])
    assert (path[0] - path[-1]) @ d1 <= 0 and (path[0] - path[-1]) @ d2 <= 0


def test_both_axes_of_every_plane_have_one_length() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    path = random_walk(10, arch.num_params, seed=2)
    for method in ("pca", "random", "init-final"):
        lengths = make_plane(method, [path], arch, np.random.default_rng(0)).axis_lengths
        assert lengths[1] == pytest.approx(lengths[0], rel=1e-9), method


def test_filter_normalized_rows_have_weight_row_norms_and_zero_bias() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    theta = init_params(arch, torch.Generator().manual_seed(0)).numpy().astype(np.float64)
    direction = filter_normalize(np.random.default_rng(1).standard_normal(theta.size), theta, arch)
    for w_slice, b_slice, out, inp in arch.weight_slices:
        rows = direction[w_slice].reshape(out, inp)
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1),
                                   np.linalg.norm(theta[w_slice].reshape(out, inp), axis=1))
        assert np.all(direction[b_slice] == 0)


def test_init_final_plane_puts_theta0_at_minus_one() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    path = random_walk(10, arch.num_params)
    plane = make_plane("init-final", [path], arch, np.random.default_rng(0))
    np.testing.assert_allclose(plane.origin - plane.d1, path[0])
    assert abs(plane.d1 @ plane.d2) < 1e-9 * np.linalg.norm(plane.d1) * np.linalg.norm(plane.d2)
    assert plane.explained_variance is None


def test_pca_plane_labels_carry_the_variance_share() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    plane = make_plane("pca", [random_walk(12, arch.num_params)], arch, np.random.default_rng(0))
    # The label prints the share as the file stores it (6 decimals), with the prose's pct.
    from lossarticle.numbers import pct
    assert plane.axis_labels[0] == f"PC1 · {pct(round(float(plane.explained_variance[0]), 6))} of the path"
    assert plane.explained_variance[0] >= plane.explained_variance[1]


def test_random_directions_depend_on_the_seed_only() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    path = random_walk(5, arch.num_params)
    a = make_plane("random", [path], arch, np.random.default_rng(7))
    b = make_plane("random", [path], arch, np.random.default_rng(7))
    np.testing.assert_array_equal(a.d1, b.d1)
    assert not np.allclose(a.d1, a.d2)


def test_a_path_too_short_for_its_method_falls_back_to_random_directions() -> None:
    arch = Architecture(sizes=(2, 4, 3), skip=False)
    single = random_walk(1, arch.num_params)
    for method in ("pca", "init-final"):
        plane = make_plane(method, [single], arch, np.random.default_rng(0))
        assert "path too short" in plane.axis_labels[0]
        assert np.linalg.matrix_rank(np.stack([plane.d1, plane.d2])) == 2
