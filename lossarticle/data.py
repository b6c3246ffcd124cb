"""The spiral data set (CS231n notes), split and standardized."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from lossarticle.configs import DataConfig


@dataclass(frozen=True)
class Dataset:
    """Standardized splits; ``mean`` and ``std`` come from the training split alone."""

    x_train: np.ndarray  # (n_train, 2) float32
    y_train: np.ndarray  # (n_train,) int64 class labels
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray  # (2,) subtracted before dividing by std
    std: np.ndarray  # (2,)


def make_spirals(config: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Raw spiral points: class k sweeps angles [4k, 4k + 4] while the radius grows 0 -> 1."""
    rng = np.random.default_rng(config.seed)
    n = config.points_per_class
    xs, ys = [], []
    for k in range(config.classes):
        radius = np.linspace(0.0, 1.0, n)
        theta = np.linspace(4.0 * k, 4.0 * k + 4.0, n) + config.noise * rng.standard_normal(n)
        xs.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        ys.append(np.full(n, k, dtype=np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def split_and_standardize(x: np.ndarray, y: np.ndarray, config: DataConfig) -> Dataset:
    """Stratified test split first, then validation from the rest (1500 -> 1083/192/225)."""
    seed = config.seed
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=config.test_fraction, random_state=seed, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=config.val_fraction, random_state=seed + 1, stratify=y_rest)
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)

    def scale(a: np.ndarray) -> np.ndarray:
        return ((a - mean) / std).astype(np.float32)

    return Dataset(scale(x_train), y_train, scale(x_val), y_val, scale(x_test), y_test,
                   mean.astype(np.float32), std.astype(np.float32))


def load_spirals(config: DataConfig) -> Dataset:
    """The data every experiment trains on: generated, split and standardized."""
    return split_and_standardize(*make_spirals(config), config)
