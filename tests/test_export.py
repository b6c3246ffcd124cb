from __future__ import annotations

import json

import numpy as np
import pytest

from lossarticle.build import TrainOptions, train_experiments
from lossarticle.configs import SCHEMA_VERSION
from lossarticle.errors import CacheError
from lossarticle.export import check_cached, decode_array, encode_array, load_experiment, write_atomic
from tests.conftest import TINY_REGISTRY, tiny


def options(tmp_path, **changes) -> TrainOptions:
    fields = dict(data_dir=tmp_path / "data", registry=TINY_REGISTRY, device="cpu", progress=False)
    fields.update(changes)
    return TrainOptions(**fields)


def test_array_encoding_round_trips_little_endian() -> None:
    for array in (np.arange(12, dtype=np.float32).reshape(3, 4), np.array([[1, 2]], dtype=np.uint8),
                  np.array([np.inf, -1.5], dtype=np.float64), np.zeros((0, 2), dtype=np.int64)):
        encoded = encode_array(array)
        assert encoded["shape"] == list(array.shape)
        decoded = decode_array(json.loads(json.dumps(encoded)))
        np.testing.assert_array_equal(decoded, array)
        assert decoded.dtype == array.dtype
    assert encode_array(np.array([1.0], dtype=">f4"))["base64"] == encode_array(np.array([1.0], "<f4"))["base64"]


def test_unsupported_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="complex128"):
        encode_array(np.array([1j]))
    with pytest.raises(CacheError, match="not an encoded array"):
        decode_array({"dtype": "float32", "shape": [3], "base64": "AAAA"})


def test_two_runs_give_byte_identical_json(tmp_path) -> None:
    train_experiments(options(tmp_path / "a"), echo=lambda s: None)
    train_experiments(options(tmp_path / "b"), echo=lambda s: None)
    names = sorted(p.name for p in (tmp_path / "a" / "data").iterdir())
    assert names == ["index.json", "spiral.json", "tiny-dirs.json", "tiny-opt.json", "tiny.json"]
    for name in names:
        assert (tmp_path / "a" / "data" / name).read_bytes() == (tmp_path / "b" / "data" / name).read_bytes()


def test_exported_file_loads_back_into_arrays(tmp_path) -> None:
    train_experiments(options(tmp_path, only=("tiny-opt",)), echo=lambda s: None)
    payload = load_experiment(tmp_path / "data" / "tiny-opt.json")
    assert payload["schema_version"] == SCHEMA_VERSION
    assert [r["name"] for r in payload["runs"]] == ["adam", "sgd"]
    adam = payload["runs"][0]
    assert adam["train_loss"].shape == (9,) and adam["paths"]["pca"]["coords"].shape == (9, 2)
    surface = payload["planes"]["pca"]["surface"]
    assert surface["loss"].shape == (7, 7) and "loss[iy][ix]" in surface["layout"]
    assert payload["provenance"]["device"] == "cpu" and payload["config"]["epochs"] == 8
    index = json.loads((tmp_path / "data" / "index.json").read_text())
    assert [e["slug"] for e in index["experiments"]] == ["tiny-opt"]


def test_cache_reuse_mismatch_and_corruption(tmp_path) -> None:
    said: list[str] = []
    train_experiments(options(tmp_path, only=("tiny",)), echo=said.append)
    path = tmp_path / "data" / "tiny.json"
    first = path.read_bytes()
    said.clear()
    assert train_experiments(options(tmp_path, only=("tiny",)), echo=said.append) == []
    assert said == ["tiny: cached, up to date"]

    # Another config under the same slug: the stored hash no longer matches.
    changed = (tiny(epochs=9),) + TINY_REGISTRY[1:]
    said.clear()
    assert len(train_experiments(options(tmp_path, registry=changed, only=("tiny",)), echo=said.append)) == 1
    assert said[0] == f"tiny: recomputing: {path}: made from another config (hash mismatch)"
    with pytest.raises(CacheError, match="hash mismatch"):
        check_cached(path, TINY_REGISTRY[0])

    # A truncated file is reported in one line and recomputed to the original bytes.
    write_atomic(path, first.decode()[: len(first) // 2])
    said.clear()
    train_experiments(options(tmp_path, only=("tiny",)), echo=said.append)
    assert said[0].startswith(f"tiny: recomputing: {path}: unreadable")
    assert path.read_bytes() == first

    # A file of another schema version is not reused either.
    payload = json.loads(first)
    payload["schema_version"] = SCHEMA_VERSION + 1
    write_atomic(path, json.dumps(payload))
    said.clear()
    train_experiments(options(tmp_path, only=("tiny",)), echo=said.append)
    assert said[0] == f"tiny: recomputing: {path}: schema version {SCHEMA_VERSION + 1}, expected {SCHEMA_VERSION}"

    said.clear()
    train_experiments(options(tmp_path, only=("tiny",), force=True), echo=said.append)
    assert path.read_bytes() == first and said[0].startswith("tiny: trained")


def test_atomic_write_leaves_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "x.json"
    write_atomic(target, "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"
