"""Small, hand-made records of the file format, for tests of the publish half that need no training."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from lossarticle.configs import DataConfig, Experiment, Run, SurfaceConfig
from lossarticle.schema import (SCHEMA_VERSION, ArchitectureRecord, AxesRecord, DatasetFile, ExperimentFile,
                                PathRecord, PlaneRecord, Provenance, RegionsRecord, RunRecord, SeedsRecord,
                                SegmentRecord, SurfaceRecord, ViewRecord, config_hash)

EPOCHS, FRAMES, GRID, NX, NY = 8, 3, 6, 7, 7


def synthetic_experiment(slug: str = "tiny", planes: tuple[str, ...] = ("pca",),
                         runs: tuple[Run, ...] = (Run("adam"),), epochs: int = EPOCHS) -> Experiment:
    """The config a synthetic file claims to come from."""
    return Experiment(slug=slug, title=slug, depth=1, width=4, epochs=epochs, runs=runs, planes=planes, seeds=3,
                      data=DataConfig(points_per_class=4),
                      surface=SurfaceConfig(resolution=NX, region_resolution=GRID, region_frames=FRAMES))


def lopsided_surface() -> SurfaceRecord:
    """A loss grid Z[iy][ix] steeper along y than along x, positive everywhere."""
    x, y = np.linspace(-1, 1, NX, dtype=np.float32), np.linspace(-0.5, 0.5, NY, dtype=np.float32)
    loss = (0.05 + x[None, :] ** 2 + 8 * y[:, None] ** 2).astype(np.float32)
    return SurfaceRecord(x=x, y=y, loss=loss, accuracy=np.ones_like(loss))


def synthetic_run(name: str, epochs: int, planes: tuple[str, ...], diverged: bool = False,
                  config: Run | None = None) -> RunRecord:
    """A run with series of length epochs + 1 and a path on every plane; optimizer and rate from ``config``."""
    config = config or Run("adam")
    steps = np.arange(epochs + 1, dtype=np.float32)
    loss = (np.exp(-steps / 3) + 0.05).astype(np.float32)
    frames = np.unique(np.linspace(0, epochs, FRAMES).astype(np.int32))
    shape = (len(frames), GRID, GRID)
    label = (np.arange(np.prod(shape)) % 3).reshape(shape).astype(np.uint8)
    confidence = (np.arange(np.prod(shape)) * 7 % 256).reshape(shape).astype(np.uint8)
    paths = tuple(PathRecord(method=m, coords=np.stack([steps / 10, -steps / 20], axis=1),
                             distance=steps / 7, surface_loss=loss * 1.1) for m in planes)
    return RunRecord(name=name, optimizer=config.optimizer, lr=config.lr, momentum=config.momentum, epochs=epochs,
                     diverged=diverged,
                     test_acc=0.85,
                     train_loss=loss, train_acc=np.linspace(0.3, 0.9, epochs + 1, dtype=np.float32),
                     val_acc=np.linspace(0.3, 0.85, epochs + 1, dtype=np.float32),
                     weight_norm=np.linspace(3, 5, epochs + 1, dtype=np.float32), paths=paths,
                     regions=RegionsRecord(frames=frames, label=label, confidence=confidence,
                                           live_units=np.full((len(frames), 1), 4, np.int16)),
                     curvature=None)


def synthetic_document(experiment: Experiment | None = None, runs: tuple[RunRecord, ...] | None = None,
                       axis_label: str = "PC1 · 90.0 % of variance") -> ExperimentFile:
    """An experiment file consistent with ``experiment`` (by default one Adam run on a PCA plane)."""
    experiment = experiment or synthetic_experiment()
    if runs is None:
        runs = tuple(synthetic_run(r.name, experiment.epochs, experiment.planes, config=r) for r in experiment.runs)
    axis = np.linspace(-2, 2, GRID, dtype=np.float32)
    planes = tuple(synthetic_plane(m, axis_label) for m in experiment.planes)
    return ExperimentFile(schema_version=SCHEMA_VERSION, slug=experiment.slug, title=experiment.title,
                          config_hash=config_hash(experiment), config=experiment,
                          provenance=Provenance(seed=0, data_seed=0, device="cpu", versions={"python": "3"}),
                          architecture=ArchitectureRecord(sizes=(2, 4, 3), skip=False, num_params=27),
                          planes=planes, runs=runs, region_axes=AxesRecord(axis, axis),
                          seeds=synthetic_seeds(experiment, runs[0]), lab_weights=None)


def synthetic_seeds(experiment: Experiment, first: RunRecord) -> SeedsRecord:
    """``experiment.seeds`` initializations whose seed 0 is ``first`` (and the drawn one); the others end a
    little higher."""
    count, columns = experiment.seeds, experiment.epochs + 1
    loss = np.full((count, columns), np.nan, np.float32)
    loss[:, :len(first.train_loss)] = first.train_loss[None, :] + np.arange(count, dtype=np.float32)[:, None] / 10
    final = loss[:, -1]
    accuracy = np.linspace(0.9, 0.5, count, dtype=np.float32)
    return SeedsRecord(count=count, drawn=0, final_train_loss=final, final_train_acc=accuracy, final_val_acc=accuracy,
                       final_test_acc=accuracy, train_loss=loss,
                       train_acc=np.repeat(accuracy[:, None], columns, axis=1), diverged=~np.isfinite(final),
                       first_dead_layer=np.where(np.arange(count) % 2 == 1, 0, -1).astype(np.int32),
                       dead_epoch=np.where(np.arange(count) % 2 == 1, 0, -1).astype(np.int32)[:, None],
                       final_dead_units=np.zeros(count, np.int16))


def synthetic_plane(method: str, axis_label: str = "PC1 · 90.0 % of the path") -> PlaneRecord:
    """A plane with a true view and, except for random planes, a stretched one (the same lopsided grid)."""
    views = (ViewRecord("true", 1.0, lopsided_surface()),)
    if method != "random":
        views += (ViewRecord("stretched", 2.0, lopsided_surface()),)
    segment = None
    if method == "init-final":
        alpha = np.linspace(0, 1, NX, dtype=np.float32)
        segment = SegmentRecord(alpha=alpha, loss=(1.1 - alpha).astype(np.float32))
    return PlaneRecord(method=method, axis_labels=(axis_label, "PC2"), explained_variance=None,
                       axis_lengths=(1.0, 1.0), views=views, segment=segment)


def synthetic_dataset(points: int = 12) -> DatasetFile:
    """Points of three classes around the origin."""
    config = DataConfig(points_per_class=points // 3)
    x = np.random.default_rng(0).normal(size=(points, 2)).astype(np.float32)
    y = (np.arange(points) % 3).astype(np.uint8)
    empty_x, empty_y = np.zeros((0, 2), np.float32), np.zeros(0, np.uint8)
    return DatasetFile(schema_version=SCHEMA_VERSION, config=config, mean=np.zeros(2, np.float32),
                       std=np.ones(2, np.float32), train_x=x, train_y=y, val_x=empty_x, val_y=empty_y,
                       test_x=empty_x, test_y=empty_y)


def spec_of(script: str, slug: str = "tiny") -> dict[str, Any]:
    """The JSON inside a figure script, ``window.lossarticle.register("<slug>", <json>);``."""
    prefix = f'window.lossarticle.register("{slug}", '
    assert script.startswith(prefix) and script.endswith(");\n")
    return json.loads(script[len(prefix):-3])
