from __future__ import annotations

import numpy as np
import torch

from lossarticle.directions import filter_normalize, make_plane, pca_directions
from lossarticle.models import Architecture, init_params


def random_walk(steps: int, dims: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((steps, dims)) * np.linspace(3, 0.1, dims), axis=0)


def test_pca_directions_are_orthonormal_and_match_numpy_svd() -> None:
    path = random_walk(40, 25)
    d1, d2, ratio = pca_directions(path, path[-1])
    basis = np.stack([d1, d2])
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-10)
    centred = path - path[-1]
    centred = centred - centred.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    for mine, oracle in zip(basis, vt[:2]):
        assert abs(abs(mine @ oracle) - 1) < 1e-9  # equal up to sign
    np.testing.assert_allclose(ratio, singular[:2] ** 2 / (singular ** 2).sum(), rtol=1e-9)


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
    assert plane.axis_labels[0] == f"PC1 · {100 * plane.explained_variance[0]:.1f} % of variance"
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
