"""The compute results as the file format's records (``schema.py``); ``build`` writes them (``atomic.py``).

Nothing depends on the clock or the host, so the same inputs on the same device
give the same bytes.
"""
from __future__ import annotations

import platform
from typing import TYPE_CHECKING

import numpy as np

from lossarticle.configs import DataConfig, Experiment
from lossarticle.schema import (SCHEMA_VERSION, ArchitectureRecord, AxesRecord, CurvatureRecord, DatasetFile,
                                ExperimentFile, PathRecord, PlaneRecord, Provenance, RegionsRecord, RunRecord,
                                SeedsRecord, SegmentRecord, SurfaceRecord, ViewRecord, WeightsRecord,
                                config_hash)

if TYPE_CHECKING:  # only the type: importing pipeline would import torch
    from lossarticle.curvature import Curvature
    from lossarticle.data import Dataset
    from lossarticle.pipeline import ExperimentResult, PlaneResult
    from lossarticle.train import SeedStats, Trajectory


def provenance(experiment: Experiment, device: str) -> Provenance:
    """What made a file: seed, library versions and device type (no host or time)."""
    import sklearn
    import torch
    return Provenance(seed=experiment.seed, data_seed=experiment.data.seed, device=device,
                      versions={"python": platform.python_version(), "torch": torch.__version__,
                                "numpy": np.__version__, "scikit-learn": sklearn.__version__})


def plane_record(result: PlaneResult) -> PlaneRecord:
    """One plane's labels, views and, for init→final, the loss along the segment."""
    plane = result.plane
    views = tuple(ViewRecord(name=v.name, stretch=round(v.stretch, 6), surface=SurfaceRecord(
        v.surface.x, v.surface.y, v.surface.loss, v.surface.accuracy)) for v in result.views)
    segment = None if result.segment is None else SegmentRecord(result.segment.alpha, result.segment.loss)
    return PlaneRecord(method=plane.method, axis_labels=plane.axis_labels,
                       explained_variance=None if plane.explained_variance is None
                       else (round(plane.explained_variance[0], 6), round(plane.explained_variance[1], 6)),
                       axis_lengths=tuple(round(length, 6) for length in plane.axis_lengths),  # type: ignore[arg-type]
                       views=views, segment=segment)


def run_record(trajectory: Trajectory, result: ExperimentResult) -> RunRecord:
    """One run's metrics, its path on every plane and its decision regions."""
    run, regions = trajectory.run, result.regions[trajectory.run.name]
    paths = tuple(PathRecord(method=p.plane.method, coords=p.projections[run.name].coords,
                             distance=p.projections[run.name].distance, surface_loss=p.path_loss[run.name])
                  for p in result.planes)
    return RunRecord(name=run.name, optimizer=run.optimizer, lr=run.lr, momentum=run.momentum,
                     epochs=trajectory.epochs, diverged=trajectory.diverged,
                     test_acc=round(float(result.seed_stats[run.name].final_test_acc[result.drawn]), 6),
                     train_loss=trajectory.train_loss, train_acc=trajectory.train_acc, val_acc=trajectory.val_acc,
                     weight_norm=np.linalg.norm(trajectory.thetas.astype(np.float64), axis=1).astype(np.float32),
                     paths=paths,
                     regions=RegionsRecord(regions.frames, regions.label, regions.confidence,
                                           result.live[run.name].astype(np.int16)),
                     curvature=curvature_record(result.curvature.get(run.name)))


def curvature_record(curvature: Curvature | None) -> CurvatureRecord | None:
    """One run's top eigenvalues, as the file keeps them (NaN for the preconditioned ones of SGD)."""
    if curvature is None:
        return None
    scaled = curvature.preconditioned
    return CurvatureRecord(adaptive=scaled is not None, threshold=round(float(curvature.threshold), 6),
                           epochs=curvature.epochs.astype(np.int32),
                           hessian=curvature.hessian.value.astype(np.float32),
                           preconditioned=(np.full(len(curvature.epochs), np.nan) if scaled is None
                                           else scaled.value).astype(np.float32))


def experiment_record(result: ExperimentResult) -> ExperimentFile:
    """The file of one computed experiment."""
    experiment, arch = result.experiment, result.arch
    any_regions = next(iter(result.regions.values()))
    return ExperimentFile(
        schema_version=SCHEMA_VERSION, slug=experiment.slug, title=experiment.title,
        config_hash=config_hash(experiment), config=experiment, provenance=provenance(experiment, result.device),
        architecture=ArchitectureRecord(sizes=arch.sizes, skip=arch.skip, num_params=arch.num_params),
        planes=tuple(plane_record(p) for p in result.planes),
        runs=tuple(run_record(t, result) for t in result.trajectories),
        region_axes=AxesRecord(any_regions.x, any_regions.y),
        seeds=seeds_record(result.seed_stats[experiment.reference.name], result.drawn, result.dead_epoch,
                           result.final_dead_units),
        lab_weights=lab_weights(result) if experiment.lab == "your-run" else None)


def lab_weights(result: ExperimentResult) -> WeightsRecord:
    """θ₀ and the first plane, for the page that trains the network again in a reader's browser."""
    plane = result.planes[0].plane
    return WeightsRecord(theta0=result.trajectories[0].thetas[0], origin=plane.origin, d1=plane.d1, d2=plane.d2)


def seeds_record(stats: SeedStats, drawn: int, dead_epoch: np.ndarray, final_dead_units: np.ndarray) -> SeedsRecord:
    """Every seed of one run, as the file keeps them."""
    return SeedsRecord(count=stats.count, drawn=drawn, final_train_loss=stats.final_train_loss,
                       final_train_acc=stats.final_train_acc, final_val_acc=stats.final_val_acc,
                       final_test_acc=stats.final_test_acc, train_loss=stats.train_loss, train_acc=stats.train_acc,
                       diverged=stats.diverged, first_dead_layer=stats.first_dead_layer,
                       dead_epoch=dead_epoch.astype(np.int32), final_dead_units=final_dead_units.astype(np.int16))


def dataset_record(config: DataConfig, data: Dataset) -> DatasetFile:
    """The standardized spiral points, for the scatter drawn over the decision regions."""
    return DatasetFile(schema_version=SCHEMA_VERSION, config=config, mean=data.mean, std=data.std,
                       train_x=data.x_train, train_y=data.y_train, val_x=data.x_val, val_y=data.y_val,
                       test_x=data.x_test, test_y=data.y_test)
