"""Versioned, byte-stable JSON files: one per experiment, the data set, and an index.

Arrays are objects ``{"dtype": "float32", "shape": [n, m], "base64": "..."}``
holding the raw little-endian bytes in C order. Grids are ``Z[iy][ix]``.
Keys are sorted, floats in metadata are rounded, and nothing depends on the
clock or the host, so the same inputs on the same device give the same bytes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lossarticle.configs import SCHEMA_VERSION, DataConfig, Experiment
from lossarticle.errors import CacheError

if TYPE_CHECKING:  # the render stage reads these files without importing torch
    from lossarticle.data import Dataset
    from lossarticle.pipeline import ExperimentResult

ARRAY_DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "int64",
                "float16", "float32", "float64")
GRID_LAYOUT = "loss[iy][ix] and accuracy[iy][ix] are the values at (x[ix], y[iy]); rows are y"
REGION_LAYOUT = ("label[f][iy][ix] is the arg-max class at input (x[ix], y[iy]) after frames[f] epochs; "
                 "confidence = round(255 * (p_max - 1/C) / (1 - 1/C))")


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """Base64 of the little-endian bytes, with dtype and shape; refuses dtypes we do not document."""
    array = np.asarray(array)
    if array.dtype.name not in ARRAY_DTYPES:
        raise ValueError(f"cannot encode dtype {array.dtype.name!r} (supported: {', '.join(ARRAY_DTYPES)})")
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "base64": base64.b64encode(little.tobytes()).decode("ascii")}


def decode_array(obj: Any, key: str = "array") -> np.ndarray:
    """Inverse of :func:`encode_array`; a malformed object raises CacheError naming ``key``."""
    try:
        dtype, shape, raw = obj["dtype"], tuple(obj["shape"]), base64.b64decode(obj["base64"], validate=True)
        if dtype not in ARRAY_DTYPES:
            raise ValueError(f"unsupported dtype {dtype!r}")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).astype(dtype)
    except (KeyError, TypeError, ValueError) as error:
        raise CacheError(f"{key}: not an encoded array ({error})") from error


def config_hash(experiment: Experiment) -> str:
    """SHA-256 of the full config plus the schema version: the cache key stored in each file."""
    text = json.dumps({"schema_version": SCHEMA_VERSION, "config": experiment.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def provenance(experiment: Experiment, device: str) -> dict[str, Any]:
    """What made a file: seed, library versions and device type (no host or time)."""
    import sklearn
    import torch
    return {"seed": experiment.seed, "data_seed": experiment.data.seed, "device": device,
            "versions": {"python": platform.python_version(), "torch": torch.__version__,
                         "numpy": np.__version__, "scikit-learn": sklearn.__version__}}


def _f32(values: np.ndarray) -> dict[str, Any]:
    return encode_array(np.asarray(values, dtype=np.float32))


def experiment_payload(result: ExperimentResult) -> dict[str, Any]:
    """The JSON document for one experiment (see docs in README, "Data files")."""
    experiment = result.experiment
    runs = []
    for trajectory in result.trajectories:
        name = trajectory.run.name
        regions = result.regions[name]
        runs.append({
            "name": name, "optimizer": trajectory.run.optimizer, "lr": trajectory.run.lr,
            "epochs": trajectory.epochs, "diverged": trajectory.diverged,
            "train_loss": _f32(trajectory.train_loss), "train_acc": _f32(trajectory.train_acc),
            "val_acc": _f32(trajectory.val_acc),
            "paths": {p.plane.method: {"coords": _f32(p.projections[name].coords),
                                       "distance": _f32(p.projections[name].distance),
                                       "surface_loss": _f32(p.path_loss[name])} for p in result.planes},
            "regions": {"frames": encode_array(regions.frames.astype(np.int32)),
                        "label": encode_array(regions.label), "confidence": encode_array(regions.confidence)},
        })
    planes = {p.plane.method: {
        "axis_labels": list(p.plane.axis_labels),
        "explained_variance": None if p.plane.explained_variance is None
        else [round(v, 6) for v in p.plane.explained_variance],
        "surface": {"x": _f32(p.surface.x), "y": _f32(p.surface.y), "loss": _f32(p.surface.loss),
                    "accuracy": _f32(p.surface.accuracy), "layout": GRID_LAYOUT},
    } for p in result.planes}
    any_regions = next(iter(result.regions.values()))
    return {
        "schema_version": SCHEMA_VERSION, "slug": experiment.slug, "title": experiment.title,
        "config_hash": config_hash(experiment), "config": experiment.to_dict(),
        "provenance": provenance(experiment, result.device),
        "architecture": {"sizes": list(result.arch.sizes), "skip": result.arch.skip,
                         "num_params": result.arch.num_params},
        "runs": runs, "planes": planes,
        "regions_axes": {"x": _f32(any_regions.x), "y": _f32(any_regions.y), "layout": REGION_LAYOUT},
    }


def dataset_payload(config: DataConfig, data: Dataset) -> dict[str, Any]:
    """The standardized spiral points, for the scatter drawn over the decision regions."""
    return {"schema_version": SCHEMA_VERSION, "config": asdict(config),
            "mean": _f32(data.mean), "std": _f32(data.std),
            **{f"{split}_{part}": encode_array(getattr(data, f"{part}_{split}").astype(
                np.float32 if part == "x" else np.uint8))
               for split in ("train", "val", "test") for part in ("x", "y")}}


def to_json(payload: dict[str, Any]) -> str:
    """Canonical text: sorted keys, no spaces, no NaN (arrays carry non-finite values as bytes)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file beside ``path`` and ``os.replace`` it in: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # NamedTemporaryFile makes 0600; the site is public
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    """Parse a JSON object, turning every failure into one CacheError line naming the file."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CacheError(f"{path}: missing") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CacheError(f"{path}: unreadable ({error})") from error
    if not isinstance(payload, dict):
        raise CacheError(f"{path}: not a JSON object")
    return payload


def check_cached(path: Path, experiment: Experiment) -> dict[str, Any]:
    """The cached payload if it was made from this exact config and schema; else CacheError says why."""
    payload = read_json(path)
    if payload.get("schema_version") != SCHEMA_VERSION:
        raise CacheError(f"{path}: schema version {payload.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    if payload.get("config_hash") != config_hash(experiment):
        raise CacheError(f"{path}: made from another config (hash mismatch)")
    return payload


def load_experiment(path: Path | str) -> dict[str, Any]:
    """Load an experiment file with every encoded array decoded into numpy (for notebooks and render)."""
    return decode_tree(read_json(Path(path)), str(path))


def decode_tree(node: Any, key: str) -> Any:
    """Replace every encoded-array object inside ``node`` by its numpy array."""
    if isinstance(node, dict):
        if set(node) == {"dtype", "shape", "base64"}:
            return decode_array(node, key)
        return {k: decode_tree(v, f"{key}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [decode_tree(v, f"{key}[{i}]") for i, v in enumerate(node)]
    return node


def index_payload(experiments: tuple[Experiment, ...]) -> dict[str, Any]:
    """The list of experiment files, in registry order."""
    return {"schema_version": SCHEMA_VERSION, "dataset": "spiral.json",
            "experiments": [{"slug": e.slug, "title": e.title, "file": f"{e.slug}.json",
                             "config_hash": config_hash(e)} for e in experiments]}
