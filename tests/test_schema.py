"""The file format: what is written reads back equal, and what is damaged never reads back at all."""
from __future__ import annotations

import base64
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lossarticle.configs import Run
from lossarticle.errors import CacheError
from lossarticle.schema import (SCHEMA_VERSION, ExperimentFile, config_hash, decode_array, encode_array, read_dataset,
                                read_experiment, to_json)
from tests.records import synthetic_dataset, synthetic_document, synthetic_experiment


def assert_same(a: object, b: object) -> None:
    """Two format objects hold equal values, arrays compared element by element (NaN equal to NaN)."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b)
        for item in dataclasses.fields(a):
            assert_same(getattr(a, item.name), getattr(b, item.name))
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def written(tmp_path: Path, document: ExperimentFile) -> Path:
    path = tmp_path / f"{document.slug}.json"
    path.write_text(to_json(document))
    return path


def edited(tmp_path: Path, document: ExperimentFile, edit) -> Path:
    """The file of ``document`` after ``edit`` changed its JSON tree in place."""
    tree = json.loads(to_json(document))
    edit(tree)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(tree))
    return path


def test_a_written_file_reads_back_equal(tmp_path) -> None:
    experiment = synthetic_experiment(planes=("random", "init-final", "pca"),
                                      runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    document = synthetic_document(experiment)
    again = read_experiment(written(tmp_path, document), experiment)
    assert_same(document, again)
    assert again.config is experiment  # the registry's object, checked by hash, not parsed back


def test_planes_are_a_list_in_the_registry_order(tmp_path) -> None:
    experiment = synthetic_experiment(planes=("random", "init-final", "pca"))
    tree = json.loads(to_json(synthetic_document(experiment)))
    assert [p["method"] for p in tree["planes"]] == ["random", "init-final", "pca"]
    assert [p["method"] for p in tree["runs"][0]["paths"]] == ["random", "init-final", "pca"]


def test_the_text_is_canonical() -> None:
    text = to_json(synthetic_document())
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) + "\n"


def test_arrays_are_little_endian_whatever_the_input() -> None:
    assert encode_array(np.array([1.0], ">f4"))["base64"] == encode_array(np.array([1.0], "<f4"))["base64"]
    assert base64.b64decode(encode_array(np.array([1], np.uint16))["base64"]) == b"\x01\x00"
    assert sys.byteorder in ("little", "big")  # the encoding does not depend on it


def surface_loss_as_int32(tree: dict) -> None:
    node = tree["planes"][0]["views"][0]["surface"]["loss"]
    values = np.frombuffer(base64.b64decode(node["base64"]), "<f4").astype("<i4")
    node.update(dtype="int32", base64=base64.b64encode(values.tobytes()).decode())


def nan_in_train_loss(tree: dict) -> None:
    node = tree["runs"][0]["train_loss"]
    values = np.frombuffer(base64.b64decode(node["base64"]), "<f4").copy()
    values[3] = np.nan
    node["base64"] = base64.b64encode(values.tobytes()).decode()


def truncated_val_acc(tree: dict) -> None:
    node = tree["runs"][0]["val_acc"]
    node["base64"] = base64.b64encode(base64.b64decode(node["base64"])[:-8]).decode()


def shorter_series(tree: dict) -> None:
    node = tree["runs"][0]["train_acc"]
    node.update(shape=[4], base64=base64.b64encode(np.zeros(4, "<f4").tobytes()).decode())


def accuracy_above_one(tree: dict) -> None:
    node = tree["runs"][0]["train_acc"]
    values = np.frombuffer(base64.b64decode(node["base64"]), "<f4").copy()
    values[0] = 1.5
    node["base64"] = base64.b64encode(values.tobytes()).decode()


@pytest.mark.parametrize("edit, message", [
    (surface_loss_as_int32, r"edited\.json\.planes\[0\]\.views\[0\]\.surface\.loss: dtype int32, expected float32"),
    (nan_in_train_loss, r"edited\.json\.runs\[0\]\.train_loss: non-finite value at index \[3\]"),
    (truncated_val_acc, r"edited\.json\.runs\[0\]\.val_acc: not an encoded array"),
    (shorter_series, r"edited\.json\.runs\[0\]\.train_acc: shape \[4\], expected \[9\]"),
    (accuracy_above_one, r"edited\.json\.runs\[0\]\.train_acc: value 1\.5 above 1"),
    (lambda t: t["runs"][0].pop("regions"), r"edited\.json\.runs\[0\]\.regions: missing"),
    (lambda t: t["runs"][0].update(epochs="8"), r"edited\.json\.runs\[0\]\.epochs: expected int, got '8'"),
    (lambda t: t["runs"][0].update(epochs=5), r"runs\[0\]\.train_loss: shape \[9\], expected \[6\]"),
    (lambda t: t["planes"].reverse(), r"edited\.json\.planes: \['pca', 'random'\], expected \['random', 'pca'\]"),
    (lambda t: t["planes"][1]["views"].reverse(), r"planes\[1\]\.views: \['stretched', 'true'\], expected"),
    (lambda t: t["planes"][1].update(segment=t["planes"][1]["views"][0]["surface"]),
     r"planes\[1\]\.segment\.alpha: missing"),
    (lambda t: t.update(schema_version=SCHEMA_VERSION - 1),
     rf"schema version {SCHEMA_VERSION - 1}, expected {SCHEMA_VERSION}"),
    (lambda t: t.update(config_hash="0" * 64), r"made from another config \(hash mismatch\)"),
    # Values a person edited: out of range, not finite, or not what the config makes.
    (lambda t: t["runs"][0].update(test_acc=7.5), r"edited\.json\.runs\[0\]\.test_acc: value 7\.5 outside \[0, 1\]"),
    (lambda t: t["runs"][0].update(test_acc=float("nan")),
     r"edited\.json\.runs\[0\]\.test_acc: expected a finite number, got nan"),
    (lambda t: t["planes"][0].update(axis_lengths=[1.0, float("inf")]),
     r"edited\.json\.planes\[0\]\.axis_lengths\[1\]: expected a finite number, got inf"),
    (lambda t: t["architecture"].update(num_params=28), r"edited\.json\.architecture\.num_params: 28, expected 27"),
    (lambda t: t["architecture"].update(sizes=[2, 5, 3]),
     r"edited\.json\.architecture: sizes \[2, 5, 3\], skip False; expected \[2, 4, 3\], skip False"),
    (lambda t: t.update(title="Edited"), r"edited\.json\.title: 'Edited', expected 'tiny'"),
    (lambda t: t["runs"][0].update(lr=0.5), r"edited\.json\.runs\[0\]: adam lr=0\.5 momentum=0\.0, expected adam "
                                            r"lr=0\.005 momentum=0\.0"),
    (lambda t: t["provenance"].update(seed=3), r"edited\.json\.provenance\.seed: 3, expected 0"),
])
def test_damage_is_one_error_naming_the_file_and_the_field(tmp_path, edit, message: str) -> None:
    experiment = synthetic_experiment(planes=("random", "pca"))
    with pytest.raises(CacheError, match=message) as caught:
        read_experiment(edited(tmp_path, synthetic_document(experiment), edit), experiment)
    assert "\n" not in caught.value.message


def test_a_surface_may_hold_overflow_but_paths_may_not_leave_the_grid_shape(tmp_path) -> None:
    document = synthetic_document()
    document.planes[0].views[0].surface.loss[0, 0] = np.inf  # what an overflowing loss records
    read_experiment(written(tmp_path, document), document.config)
    view = document.planes[0].views[0]
    wrong = dataclasses.replace(view, surface=dataclasses.replace(view.surface, x=view.surface.x[:-1]))
    plane = dataclasses.replace(document.planes[0], views=(wrong,) + document.planes[0].views[1:])
    with pytest.raises(CacheError, match=r"views\[0\]\.surface\.x: shape \[6\], expected \[7\]"):
        read_experiment(written(tmp_path, dataclasses.replace(document, planes=(plane,))), document.config)


def test_frames_must_run_from_zero_to_the_last_epoch(tmp_path) -> None:
    document = synthetic_document()
    run = document.runs[0]
    regions = dataclasses.replace(run.regions, frames=np.array([0, 2, 5], np.int32))
    damaged = dataclasses.replace(document, runs=(dataclasses.replace(run, regions=regions),))
    with pytest.raises(CacheError, match=r"runs\[0\]\.regions\.frames: \[0, 2, 5\] is not an ascending 0\.\.8"):
        read_experiment(written(tmp_path, damaged), document.config)


def test_the_hash_covers_every_config_field_and_the_version() -> None:
    experiment = synthetic_experiment()
    assert config_hash(experiment) != config_hash(dataclasses.replace(experiment, epochs=experiment.epochs + 1))
    assert config_hash(experiment) != config_hash(dataclasses.replace(experiment, surface=dataclasses.replace(
        experiment.surface, margin=0.5)))
    assert config_hash(experiment) == config_hash(synthetic_experiment())


def test_the_data_set_reads_back_and_refuses_another_config(tmp_path) -> None:
    dataset = synthetic_dataset()
    path = tmp_path / "spiral.json"
    path.write_text(to_json(dataset))
    assert_same(dataset, read_dataset(path, dataset.config))
    with pytest.raises(CacheError, match="made from another data config"):
        read_dataset(path, dataclasses.replace(dataset.config, seed=1))


def test_decode_refuses_what_is_not_an_array() -> None:
    with pytest.raises(CacheError, match="not an encoded array"):
        decode_array({"dtype": "float32", "shape": [3], "base64": "AAAA"})
    with pytest.raises(ValueError, match="complex128"):
        encode_array(np.array([1j]))
