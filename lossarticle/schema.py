"""The exported file format, spelled once: frozen dataclasses with the writer and the reader side by side.

Torch-free: ``render`` and everything it calls read these objects, never raw dicts.

Files in ``site/data/``: one :class:`ExperimentFile` per experiment (``<slug>.json``),
the data set (:class:`DatasetFile`, ``spiral.json``) and :class:`IndexFile`
(``index.json``). JSON keys are the field names below; nested dataclasses are
objects, tuples are lists (in the order given: planes in the registry's order).

Arrays are objects ``{"dtype": "float32", "shape": [101, 101], "base64": "..."}``
holding the raw little-endian bytes in C order. Each array field states its
dtype and shape, with named dimensions the reader fills in from the config
(``snapshots`` = a run's epochs + 1, ``configured`` = the configured epochs + 1,
``ny``/``nx``/``segment`` = the surface resolution, ``ry``/``rx`` = the region
resolution, ``seeds`` = the seed count) or binds on first use (``frames``). Grids
are ``Z[iy][ix]``: the value at ``(x[ix], y[iy])``, the ``np.meshgrid(x, y)`` and
Bokeh ``image()`` convention.

Reading is validating: a wrong dtype or shape, a non-finite value where the
format promises finite ones, a value out of range, a missing key, or a file made
from another config or schema version raises :class:`~lossarticle.errors.CacheError`
naming the file and the field, and the caller recomputes or says how to fix it.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from lossarticle.configs import DataConfig, Experiment, parameter_count
from lossarticle.errors import CacheError
from lossarticle.files import NotReadable, read_regular

#: Bumped whenever the meaning or layout of an exported file changes; part of
#: every cache key, so old files are recomputed rather than misread.
SCHEMA_VERSION = 8  # 8: the weights a reader's browser trains from (ExperimentFile.lab_weights, config.lab)
#                    7: curvature, live units per layer, dead layers over the seeds
#                    6: the drawn run is the median initialization (seeds.drawn), |θ| per epoch, seeds' accuracy
#                    5: region frames where the regions change (surface.frame_epochs), not evenly spaced

SPIRAL_INPUTS = 2  # the spiral's two coordinates: every network's input layer
DATASET_FILE = "spiral.json"
INDEX_FILE = "index.json"
ARRAY_DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "int64",
                "float16", "float32", "float64")


# ---------------------------------------------------------------- the format

@dataclass(frozen=True)
class ArraySpec:
    """What an array field must decode to."""

    dtype: str  # one of ARRAY_DTYPES
    shape: tuple[str | int, ...]  # named dimensions are filled in by the reader
    finite: bool = True  # False where overflow is data (a loss surface may hold inf)
    low: float | None = None  # every finite value >= low
    high: float | None = None  # every finite value <= high


def array(dtype: str, *shape: str | int, finite: bool = True, low: float | None = None,
          high: float | None = None) -> Any:
    """Declare a numpy field of a format dataclass."""
    return field(metadata={"array": ArraySpec(dtype, shape, finite, low, high)})


def number(low: float, high: float) -> Any:
    """Declare a number field of a format dataclass that must lie in [low, high] (every number must be finite)."""
    return field(metadata={"range": (low, high)})


@dataclass(frozen=True)
class SurfaceRecord:
    """Training loss and accuracy on the grid ``x`` × ``y`` of a plane; ``Z[iy][ix]``."""

    x: np.ndarray = array("float32", "nx")  # plane coordinate a of each column
    y: np.ndarray = array("float32", "ny")  # plane coordinate b of each row
    loss: np.ndarray = array("float32", "ny", "nx", finite=False, low=0)  # inf/NaN where the loss overflows
    accuracy: np.ndarray = array("float32", "ny", "nx", low=0, high=1)


@dataclass(frozen=True)
class ViewRecord:
    """One way to draw a plane, with a surface computed over exactly what it shows."""

    name: str  # "true": equal units on both axes; "stretched": fitted to the path per axis
    stretch: float  # how many times longer a unit of b is drawn than a unit of a in a square plot (1: true)
    surface: SurfaceRecord


@dataclass(frozen=True)
class SegmentRecord:
    """The loss along θ₀ + α(θ_final − θ₀) (Goodfellow et al. 2015), computed exactly, not read off a grid."""

    alpha: np.ndarray = array("float32", "segment", low=0, high=1)  # 0 at θ₀, 1 at θ_final
    loss: np.ndarray = array("float32", "segment", finite=False, low=0)


@dataclass(frozen=True)
class PlaneRecord:
    """One plane ``θ_final + a·d1 + b·d2`` of the experiment and its loss surfaces."""

    method: str  # one of configs.DIRECTION_METHODS
    axis_labels: tuple[str, str]  # e.g. "PC1 · 95.3 % of the path"
    explained_variance: tuple[float, float] | None  # PCA only: share of Σ|θᵢ − θ_final|² along each axis
    axis_lengths: tuple[float, float]  # |d1|, |d2|: weight-space length of one unit (equal: true proportions)
    views: tuple[ViewRecord, ...]  # "true" first, then "stretched" where the path is much longer one way
    segment: SegmentRecord | None  # init-final planes only

    def view(self, name: str) -> ViewRecord:
        for view in self.views:
            if view.name == name:
                return view
        raise KeyError(f"plane {self.method!r} has no view {name!r}")


@dataclass(frozen=True)
class PathRecord:
    """One run's snapshots projected onto one plane."""

    method: str  # the plane, as in PlaneRecord.method
    coords: np.ndarray = array("float32", "snapshots", 2)  # least-squares (a, b) of each snapshot
    distance: np.ndarray = array("float32", "snapshots", low=0)  # Euclidean distance of the snapshot from the plane
    surface_loss: np.ndarray = array("float32", "snapshots", finite=False, low=0)  # loss at the projected point


@dataclass(frozen=True)
class RegionsRecord:
    """Decision regions over the input grid (``ExperimentFile.region_axes``) at some snapshots."""

    frames: np.ndarray = array("int32", "frames", low=0)  # epoch of each frame, ascending
    label: np.ndarray = array("uint8", "frames", "ry", "rx")  # arg-max class at (x[ix], y[iy])
    confidence: np.ndarray = array("uint8", "frames", "ry", "rx")  # round(255 · (p_max − 1/C) / (1 − 1/C))
    live_units: np.ndarray = array("int16", "frames", "layers", low=0)  # per hidden layer, units whose ReLU is on
    #                                                                     for some training input (curvature.live_units)


@dataclass(frozen=True)
class CurvatureRecord:
    """The top eigenvalues of the training loss's Hessian at some epochs of one run (``curvature.py``).

    The run is stable on a quadratic while its sharpness stays under ``threshold``: λ_max(H)
    for gradient descent and momentum, the preconditioned λ_max(P⁻¹H) for Adam and RMSprop
    (``dynamics.threshold``, after Cohen et al. 2021 and 2022).
    """

    adaptive: bool  # True: ``threshold`` applies to ``preconditioned``; False: to ``hessian``
    threshold: float  # the run's edge of stability
    epochs: np.ndarray = array("int32", "measured", low=0)  # ascending (dynamics.curvature_epochs)
    hessian: np.ndarray = array("float32", "measured", finite=False)  # λ_max(H); NaN where the weights diverged
    preconditioned: np.ndarray = array("float32", "measured", finite=False)  # λ_max(P⁻¹H); NaN for SGD


@dataclass(frozen=True)
class RunRecord:
    """One optimizer run: metrics after every epoch (θ₀ first), its paths and regions."""

    name: str  # as in configs.Run.name
    optimizer: str
    lr: float
    momentum: float
    epochs: int  # epochs run; fewer than configured when training diverged
    diverged: bool  # True when training hit a non-finite loss; arrays stop before it
    test_acc: float = number(0, 1)  # accuracy of the final weights on the held-out test split
    train_loss: np.ndarray = array("float32", "snapshots", low=0)
    train_acc: np.ndarray = array("float32", "snapshots", low=0, high=1)
    val_acc: np.ndarray = array("float32", "snapshots", low=0, high=1)
    weight_norm: np.ndarray = array("float32", "snapshots", low=0)  # |θ|, Euclidean, over every weight and bias
    paths: tuple[PathRecord, ...]  # one per plane, in the planes' order
    regions: RegionsRecord
    curvature: CurvatureRecord | None  # where the experiment measures it (config.curvature)

    @staticmethod
    def dimensions(scalars: dict[str, Any]) -> dict[str, int]:
        return {"snapshots": int(scalars["epochs"]) + 1}

    def path(self, method: str) -> PathRecord:
        """This run's path on the plane ``method``."""
        return _by_method(self.paths, method)


@dataclass(frozen=True)
class SeedsRecord:
    """Every initialization of the experiment's first run, trained together; ``drawn`` is the one the figures draw.

    Seed s starts from PyTorch's default initialization drawn with seed ``config.seed + s``.
    A seed whose training diverged keeps its non-finite losses (NaN, inf).
    """

    count: int
    drawn: int  # the seed the runs above start from: the median by late training loss (measures.drawn_member),
    #             or, with config.drawn_from, the seed its twin draws
    final_train_loss: np.ndarray = array("float32", "seeds", finite=False, low=0)
    final_train_acc: np.ndarray = array("float32", "seeds", finite=False, low=0, high=1)
    final_val_acc: np.ndarray = array("float32", "seeds", finite=False, low=0, high=1)
    final_test_acc: np.ndarray = array("float32", "seeds", finite=False, low=0, high=1)
    train_loss: np.ndarray = array("float32", "seeds", "configured", finite=False, low=0)  # θ₀, then each epoch
    train_acc: np.ndarray = array("float32", "seeds", "configured", finite=False, low=0, high=1)
    diverged: np.ndarray = array("bool", "seeds")
    first_dead_layer: np.ndarray = array("int32", "seeds", low=-1)  # at θ₀: first hidden layer off for every
    #                                                                 training input; -1 for none
    final_dead_units: np.ndarray = array("int16", "seeds", low=0)  # hidden units off for every training input
    #                                                                  at the last epoch (a diverged seed: 0)
    dead_epoch: np.ndarray = array("int32", "seeds", "layers", low=-1)  # first checked epoch (dynamics.
    #                                         dead_check_epochs) at which each hidden layer is dead; -1: never

    @staticmethod
    def dimensions(scalars: dict[str, Any]) -> dict[str, int]:
        return {"seeds": int(scalars["count"])}


@dataclass(frozen=True)
class ArchitectureRecord:
    """Layer sizes of the network, for readers who do not import the registry."""

    sizes: tuple[int, ...]  # input, hidden..., output
    skip: bool  # residual connections between equal-width hidden layers
    num_params: int


@dataclass(frozen=True)
class Provenance:
    """What made a file; nothing about the host or the time, so rebuilds are byte-identical."""

    seed: int  # the experiment's seed (initial weights, random directions)
    data_seed: int
    device: str  # "cpu" or "cuda": results differ in the last bits between them
    versions: dict[str, str]  # python, torch, numpy, scikit-learn


@dataclass(frozen=True)
class AxesRecord:
    """The input grid of the decision regions, in standardized coordinates."""

    x: np.ndarray = array("float32", "rx")
    y: np.ndarray = array("float32", "ry")


@dataclass(frozen=True)
class WeightsRecord:
    """What the page needs to train the experiment again in a reader's browser and draw it on the first plane.

    Only for ``config.lab == "your-run"`` (a few KB for a small net; a 10 x 100 net would be 2 MB).
    """

    theta0: np.ndarray = array("float32", "params")  # the drawn initialization every run starts from
    origin: np.ndarray = array("float64", "params")  # the first plane: θ_final of the reference run
    d1: np.ndarray = array("float64", "params")  # its directions, as project.py projects on them
    d2: np.ndarray = array("float64", "params")


@dataclass(frozen=True)
class ExperimentFile:
    """``<slug>.json``: everything the article shows of one experiment."""

    schema_version: int
    slug: str
    title: str
    config_hash: str  # SHA-256 of config + schema version: the cache key (config_hash below)
    config: Experiment = field(metadata={"registry": True})  # written in full; read back as the registry's
    provenance: Provenance
    architecture: ArchitectureRecord
    planes: tuple[PlaneRecord, ...]  # in the order the experiment lists them
    runs: tuple[RunRecord, ...]  # in the order the experiment lists them; the first centres the planes
    region_axes: AxesRecord
    seeds: SeedsRecord  # the first run from every initialization the experiment trains
    lab_weights: WeightsRecord | None  # config.lab == "your-run" only

    def plane(self, method: str) -> PlaneRecord:
        return _by_method(self.planes, method)

    @property
    def reference(self) -> RunRecord:
        """The run whose final weights are every plane's origin."""
        return self.runs[0]

    @property
    def max_epoch(self) -> int:
        """The longest run: where the slider ends."""
        return max(run.epochs for run in self.runs)


@dataclass(frozen=True)
class DatasetFile:
    """``spiral.json``: the standardized data set, for the points drawn over decision regions."""

    schema_version: int
    config: DataConfig = field(metadata={"registry": True})
    mean: np.ndarray = array("float32", 2)  # subtracted from the raw inputs before dividing by std
    std: np.ndarray = array("float32", 2, low=0)
    train_x: np.ndarray = array("float32", "n_train", 2)
    train_y: np.ndarray = array("uint8", "n_train")
    val_x: np.ndarray = array("float32", "n_val", 2)
    val_y: np.ndarray = array("uint8", "n_val")
    test_x: np.ndarray = array("float32", "n_test", 2)
    test_y: np.ndarray = array("uint8", "n_test")

    @property
    def classes(self) -> int:
        return self.config.classes


@dataclass(frozen=True)
class IndexEntry:
    """One published experiment file."""

    slug: str
    title: str
    file: str  # relative to the index
    config_hash: str  # the hash stored in that file


@dataclass(frozen=True)
class IndexFile:
    """``index.json``: the experiment files a render published (and validated), in registry order."""

    schema_version: int
    dataset: str  # the data set's file name
    experiments: tuple[IndexEntry, ...]


# ---------------------------------------------------------------- where files live

def experiment_path(data_dir: Path, slug: str) -> Path:
    """The one place the name of an experiment's file is spelled."""
    return data_dir / f"{slug}.json"


def data_dir_of(site_dir: Path) -> Path:
    """Exported data lives in the site's ``data/`` folder, published beside the page."""
    return site_dir / "data"


# ---------------------------------------------------------------- the cache key

def config_hash(config: Experiment | DataConfig) -> str:
    """SHA-256 of the full config plus the schema version: the cache key stored in each file."""
    text = json.dumps({"schema_version": SCHEMA_VERSION, "config": dataclasses.asdict(config)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- arrays

def encode_array(values: np.ndarray) -> dict[str, Any]:
    """Base64 of the little-endian bytes, with dtype and shape; refuses dtypes we do not document."""
    values = np.asarray(values)
    if values.dtype.name not in ARRAY_DTYPES:
        raise ValueError(f"cannot encode dtype {values.dtype.name!r} (supported: {', '.join(ARRAY_DTYPES)})")
    little = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return {"dtype": values.dtype.name, "shape": list(values.shape),
            "base64": base64.b64encode(little.tobytes()).decode("ascii")}


def decode_array(node: Any, where: str = "array") -> np.ndarray:
    """Inverse of :func:`encode_array`; a malformed object raises CacheError naming ``where``."""
    try:
        dtype, shape, raw = node["dtype"], tuple(node["shape"]), base64.b64decode(node["base64"], validate=True)
        if dtype not in ARRAY_DTYPES:
            raise ValueError(f"unsupported dtype {dtype!r}")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).astype(dtype)
    except (KeyError, TypeError, ValueError) as error:
        raise CacheError(f"{where}: not an encoded array ({error})") from error


def check_array(values: np.ndarray, spec: ArraySpec, dims: dict[str, int], where: str) -> None:
    """Dtype, shape (binding named dimensions seen first here), finiteness and range."""
    if values.dtype.name != spec.dtype:
        raise CacheError(f"{where}: dtype {values.dtype.name}, expected {spec.dtype}")
    if values.ndim != len(spec.shape):
        raise CacheError(f"{where}: {values.ndim}-D, expected shape {_shape_text(spec.shape)}")
    for size, dim in zip(values.shape, spec.shape):
        expected = dims.setdefault(dim, size) if isinstance(dim, str) else dim
        if size != expected:
            raise CacheError(f"{where}: shape {list(values.shape)}, expected {_shape_text(spec.shape, dims)}")
    if values.dtype.kind != "f":
        finite = values
    else:
        good = np.isfinite(values)
        if spec.finite and not good.all():
            raise CacheError(f"{where}: non-finite value at index {np.argwhere(~good)[0].tolist()}")
        finite = values[good]
    if finite.size and spec.low is not None and finite.min() < spec.low:
        raise CacheError(f"{where}: value {finite.min()} below {spec.low}")
    if finite.size and spec.high is not None and finite.max() > spec.high:
        raise CacheError(f"{where}: value {finite.max()} above {spec.high}")


def _shape_text(shape: tuple[str | int, ...], dims: dict[str, int] | None = None) -> str:
    return "[" + ", ".join(str((dims or {}).get(d, d)) if isinstance(d, str) else str(d) for d in shape) + "]"


# ---------------------------------------------------------------- the writer

def to_tree(value: Any) -> Any:
    """A format object as JSON-ready values: dataclasses become objects, tuples lists, arrays encoded."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        tree = {}
        for item in dataclasses.fields(value):
            spec = item.metadata.get("array")
            content = getattr(value, item.name)
            if spec is not None:
                tree[item.name] = encode_array(np.asarray(content).astype(spec.dtype, copy=False))
            elif item.metadata.get("registry"):
                tree[item.name] = dataclasses.asdict(content)
            else:
                tree[item.name] = to_tree(content)
        return tree
    if isinstance(value, (tuple, list)):
        return [to_tree(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_tree(v) for k, v in value.items()}
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot write {type(value).__name__} into the file format")


def to_json(document: Any) -> str:
    """Canonical text: sorted keys, no spaces, no NaN (arrays carry non-finite values as bytes)."""
    return json.dumps(to_tree(document), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"


# ---------------------------------------------------------------- the reader

T = TypeVar("T")


def from_tree(cls: type[T], node: Any, where: str, dims: dict[str, int], registry: dict[str, Any]) -> T:
    """Build ``cls`` from JSON values, validating every field; ``registry`` supplies config fields."""
    if not isinstance(node, dict):
        raise CacheError(f"{where}: expected an object, got {type(node).__name__}")
    hints = typing.get_type_hints(cls)
    dims = dict(dims)  # a dimension bound inside this object does not leak to its siblings
    items = dataclasses.fields(cls)  # type: ignore[arg-type]
    scalars = [f for f in items if hints[f.name] in (int, float, str, bool) and "array" not in f.metadata]
    values = {f.name: read_field(f, hints[f.name], node, where, dims, registry) for f in scalars}
    if hasattr(cls, "dimensions"):
        dims.update(cls.dimensions(values))  # scalars can fix array sizes: a run's epochs + 1 snapshots
    for item in items:
        if item.name not in values:
            values[item.name] = read_field(item, hints[item.name], node, where, dims, registry)
    return cls(**values)


def read_field(item: dataclasses.Field, hint: Any, node: dict[str, Any], where: str, dims: dict[str, int],
               registry: dict[str, Any]) -> Any:
    """One field of a format object: from the registry, an array, or any other value."""
    key = f"{where}.{item.name}"
    if item.metadata.get("registry"):
        return registry[item.name]
    if item.name not in node:
        raise CacheError(f"{key}: missing")
    spec = item.metadata.get("array")
    if spec is None:
        value = from_value(hint, node[item.name], key, dims, registry)
        if "range" in item.metadata and not item.metadata["range"][0] <= value <= item.metadata["range"][1]:
            raise CacheError(f"{key}: value {value} outside [{', '.join(map(str, item.metadata['range']))}]")
        return value
    values = decode_array(node[item.name], key)
    check_array(values, spec, dims, key)
    return values


def from_value(hint: Any, node: Any, where: str, dims: dict[str, int], registry: dict[str, Any]) -> Any:
    """One field's value of type ``hint``: scalars, optionals, tuples, string dicts and dataclasses."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if node is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return from_value(inner, node, where, dims, registry)
    if origin is tuple:
        if not isinstance(node, list):
            raise CacheError(f"{where}: expected a list, got {type(node).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_value(args[0], v, f"{where}[{i}]", dims, registry) for i, v in enumerate(node))
        if len(node) != len(args):
            raise CacheError(f"{where}: expected {len(args)} values, got {len(node)}")
        return tuple(from_value(a, v, f"{where}[{i}]", dims, registry) for i, (a, v) in enumerate(zip(args, node)))
    if origin is dict:
        if not isinstance(node, dict) or not all(isinstance(v, str) for v in node.values()):
            raise CacheError(f"{where}: expected an object of strings")
        return dict(node)
    if dataclasses.is_dataclass(hint):
        return from_tree(hint, node, where, dims, registry)
    if hint is float:  # the writer refuses non-finite numbers (allow_nan=False): a NaN here was put by hand
        value = finite_float(node) if type(node) in (int, float) else None
        if value is None:
            raise CacheError(f"{where}: expected a finite number, got {reprlib.repr(node)}")
        return value
    if hint in (int, str, bool):
        if not isinstance(node, hint) or (hint is int and isinstance(node, bool)):
            raise CacheError(f"{where}: expected {hint.__name__}, got {node!r}")
        return node
    raise TypeError(f"{where}: the reader cannot read {hint!r}")


def finite_float(number: int | float) -> float | None:
    """``number`` as a float, None if it is not finite (NaN, ±inf, or an integer too large for a float)."""
    try:
        value = float(number)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def read_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into one CacheError line naming the file.

    Only a regular file is read (not a FIFO, not a link to /dev/zero), and JSON nested
    deeper than Python's recursion allows is as unreadable as any other damage.
    """
    try:
        return json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError as error:
        raise CacheError(f"{path}: missing") from error
    except (OSError, NotReadable, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CacheError(f"{path}: unreadable ({error})") from error
    except RecursionError as error:
        raise CacheError(f"{path}: unreadable (nested too deep)") from error


def check_version(node: Any, path: Path) -> None:
    """Refuse a file of another schema version before reading any field."""
    version = node.get("schema_version") if isinstance(node, dict) else None
    if version != SCHEMA_VERSION:
        raise CacheError(f"{path}: schema version {version!r}, expected {SCHEMA_VERSION}")


def read_experiment(path: Path, experiment: Experiment) -> ExperimentFile:
    """The experiment file at ``path``, if it was made from ``experiment`` and decodes in full."""
    node = read_json(path)
    check_version(node, path)
    if node.get("config_hash") != config_hash(experiment):
        raise CacheError(f"{path}: made from another config (hash mismatch)")
    config = experiment.surface
    dims = {"ny": config.resolution, "nx": config.resolution, "segment": config.resolution,
            "ry": config.region_resolution, "rx": config.region_resolution, "configured": experiment.epochs + 1,
            "params": parameter_count((SPIRAL_INPUTS, *(experiment.width,) * experiment.depth,
                                       experiment.data.classes))}
    document = from_tree(ExperimentFile, node, str(path), dims, {"config": experiment})
    check_experiment(document, experiment, str(path))
    return document


def check_experiment(document: ExperimentFile, experiment: Experiment, where: str) -> None:
    """What the config implies beyond shapes: names, titles, layer sizes, runs, orders, lengths and frame positions.

    The stored config hash says which config made the file, not that its values
    were not edited since: whatever the config fixes is checked against it.
    """
    for key, stored, expected in (("slug", document.slug, experiment.slug), ("title", document.title, experiment.title),
                                  ("provenance.seed", document.provenance.seed, experiment.seed),
                                  ("provenance.data_seed", document.provenance.data_seed, experiment.data.seed)):
        if stored != expected:
            raise CacheError(f"{where}.{key}: {stored!r}, expected {expected!r}")
    check_architecture(document.architecture, experiment, f"{where}.architecture")
    if tuple(p.method for p in document.planes) != experiment.planes:
        raise CacheError(f"{where}.planes: {[p.method for p in document.planes]}, expected {list(experiment.planes)}")
    for index, plane in enumerate(document.planes):
        check_plane(plane, f"{where}.planes[{index}]")
    if document.seeds.count != experiment.seeds:
        raise CacheError(f"{where}.seeds.count: {document.seeds.count}, expected {experiment.seeds}")
    if (document.lab_weights is not None) != (experiment.lab == "your-run"):
        raise CacheError(f"{where}.lab_weights: {'present' if document.lab_weights else 'missing'}, but the "
                         f"config's lab is {experiment.lab!r}")
    if document.seeds.dead_epoch.shape[1] != experiment.depth:
        raise CacheError(f"{where}.seeds.dead_epoch: {document.seeds.dead_epoch.shape[1]} layers, expected "
                         f"{experiment.depth}")
    if not 0 <= document.seeds.drawn < document.seeds.count:
        raise CacheError(f"{where}.seeds.drawn: {document.seeds.drawn} is not one of its {document.seeds.count} seeds")
    if tuple(r.name for r in document.runs) != tuple(r.name for r in experiment.runs):
        raise CacheError(f"{where}.runs: {[r.name for r in document.runs]}, expected "
                         f"{[r.name for r in experiment.runs]}")
    for index, (run, config) in enumerate(zip(document.runs, experiment.runs)):
        key = f"{where}.runs[{index}]"
        if (run.optimizer, run.lr, run.momentum) != (config.optimizer, config.lr, config.momentum):
            raise CacheError(f"{key}: {run.optimizer} lr={run.lr} momentum={run.momentum}, expected {config.optimizer} "
                             f"lr={config.lr} momentum={config.momentum}")
        if run.epochs > experiment.epochs or (run.epochs < experiment.epochs and not run.diverged):
            raise CacheError(f"{key}.epochs: {run.epochs} of {experiment.epochs} without diverging")
        if tuple(p.method for p in run.paths) != experiment.planes:
            raise CacheError(f"{key}.paths: {[p.method for p in run.paths]}, expected {list(experiment.planes)}")
        if (run.curvature is not None) != (experiment.curvature > 0):
            raise CacheError(f"{key}.curvature: {'missing' if run.curvature is None else 'not configured'}")
        if run.regions.live_units.shape[1] != experiment.depth:
            raise CacheError(f"{key}.regions.live_units: {run.regions.live_units.shape[1]} layers, expected "
                             f"{experiment.depth}")
        frames = run.regions.frames
        if frames.size == 0 or frames.size > experiment.surface.region_frames or np.any(np.diff(frames) <= 0) \
                or frames[0] != 0 or frames[-1] != run.epochs:
            raise CacheError(f"{key}.regions.frames: {frames.tolist()} is not an ascending 0..{run.epochs} "
                             f"of at most {experiment.surface.region_frames} frames")


def check_architecture(stored: ArchitectureRecord, experiment: Experiment, where: str) -> None:
    """Layer sizes, skip connections and parameter count as the config makes them."""
    sizes = (SPIRAL_INPUTS, *(experiment.width,) * experiment.depth, experiment.data.classes)
    if stored.sizes != sizes or stored.skip != experiment.skip:
        raise CacheError(f"{where}: sizes {list(stored.sizes)}, skip {stored.skip}; expected {list(sizes)}, skip "
                         f"{experiment.skip}")
    if stored.num_params != parameter_count(sizes):
        raise CacheError(f"{where}.num_params: {stored.num_params}, expected {parameter_count(sizes)}")


def check_plane(plane: PlaneRecord, where: str) -> None:
    """A true view first, at most one stretched view, and a segment exactly on init→final planes."""
    names = [view.name for view in plane.views]
    if names not in (["true"], ["true", "stretched"]):
        raise CacheError(f"{where}.views: {names}, expected ['true'] or ['true', 'stretched']")
    if (plane.segment is not None) != (plane.method == "init-final"):
        raise CacheError(f"{where}.segment: {'missing' if plane.segment is None else 'only on init-final planes'}")


def read_dataset(path: Path, config: DataConfig) -> DatasetFile:
    """The data set file, checked against the config that made it."""
    node = read_json(path)
    check_version(node, path)
    stored = node.get("config") if isinstance(node, dict) else None
    if stored != dataclasses.asdict(config):
        raise CacheError(f"{path}: made from another data config")
    document = from_tree(DatasetFile, node, str(path), {}, {"config": config})
    total = len(document.train_y) + len(document.val_y) + len(document.test_y)
    if total != config.points_per_class * config.classes:
        raise CacheError(f"{path}: {total} points, expected {config.points_per_class * config.classes}")
    for split in ("train_y", "val_y", "test_y"):
        labels = getattr(document, split)
        if labels.size and labels.max() >= config.classes:
            raise CacheError(f"{path}.{split}: label {labels.max()} of {config.classes} classes")
    return document


def read_index(path: Path) -> IndexFile:
    """The index file."""
    node = read_json(path)
    check_version(node, path)
    return from_tree(IndexFile, node, str(path), {}, {})


def _by_method(items: tuple[Any, ...], method: str) -> Any:
    for item in items:
        if item.method == method:
            return item
    raise KeyError(f"no plane {method!r} (have: {', '.join(i.method for i in items)})")
