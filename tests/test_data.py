from __future__ import annotations

import numpy as np

from lossarticle.configs import DataConfig
from lossarticle.data import load_spirals, make_spirals


def test_full_spiral_split_sizes_and_balance() -> None:
    data = load_spirals(DataConfig())
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (1083, 192, 225)
    labels = np.concatenate([data.y_train, data.y_val, data.y_test])
    assert np.bincount(labels).tolist() == [500, 500, 500]
    # Stratified: each split holds the classes in near-equal shares.
    for y in (data.y_train, data.y_val, data.y_test):
        counts = np.bincount(y)
        assert counts.max() - counts.min() <= 1


def test_standardized_on_the_training_split() -> None:
    data = load_spirals(DataConfig())
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-5)
    assert not np.allclose(data.x_val.mean(axis=0), 0, atol=1e-5)


def test_spiral_geometry() -> None:
    x, y = make_spirals(DataConfig(noise=0.0))
    radius = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(radius[:500], np.linspace(0, 1, 500), atol=1e-6)
    # Without noise, class 1's first point sits at angle 4 rad with radius 0.
    np.testing.assert_allclose(x[501], [np.sin(4 + 4 / 499) / 499, np.cos(4 + 4 / 499) / 499], atol=1e-6)
    assert x.dtype == np.float32 and y.tolist() == [0] * 500 + [1] * 500 + [2] * 500


def test_seed_determinism() -> None:
    a, b = load_spirals(DataConfig(seed=0)), load_spirals(DataConfig(seed=0))
    c = load_spirals(DataConfig(seed=1))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
