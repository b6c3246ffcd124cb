from __future__ import annotations

import json

import numpy as np
import pytest

from lossarticle.build import TrainOptions, train_experiments
from lossarticle.errors import CacheError
from lossarticle.atomic import write_atomic
from lossarticle.schema import SCHEMA_VERSION, read_experiment
from tests.tiny import TINY_REGISTRY, tiny


def options(tmp_path, **changes) -> TrainOptions:
    fields = dict(data_dir=tmp_path / "data", registry=TINY_REGISTRY, device="cpu", progress=False)
    fields.update(changes)
    return TrainOptions(**fields)


def test_two_runs_give_byte_identical_json(tmp_path) -> None:
    train_experiments(options(tmp_path / "a"), echo=lambda s: None)
    train_experiments(options(tmp_path / "b"), echo=lambda s: None)
    names = sorted(p.name for p in (tmp_path / "a" / "data").iterdir())
    assert names == ["spiral.json", "tiny-dirs.json", "tiny-opt.json", "tiny.json"]
    for name in names:
        assert (tmp_path / "a" / "data" / name).read_bytes() == (tmp_path / "b" / "data" / name).read_bytes()


def test_exported_file_reads_back_as_the_config_implies(tmp_path) -> None:
    experiment = TINY_REGISTRY[1]
    train_experiments(options(tmp_path, only=(experiment.slug,)), echo=lambda s: None)
    document = read_experiment(tmp_path / "data" / "tiny-opt.json", experiment)
    assert [r.name for r in document.runs] == ["adam", "sgd"]
    adam = document.reference
    assert adam.train_loss.shape == (experiment.epochs + 1,) and adam.path("pca").coords.shape == (9, 2)
    assert document.plane("pca").views[0].surface.loss.shape == (experiment.surface.resolution,) * 2
    assert document.provenance.device == "cpu"
    assert json.loads((tmp_path / "data" / "tiny-opt.json").read_text())["config"]["epochs"] == 8


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
        read_experiment(path, TINY_REGISTRY[0])

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


def test_the_seeds_block_holds_every_initialization_with_seed_0_as_the_run_drawn(tmp_path) -> None:
    experiment = tiny("seeded", seeds=5)
    train_experiments(options(tmp_path, registry=(experiment,)), echo=lambda s: None)
    document = read_experiment(tmp_path / "data" / "seeded.json", experiment)
    seeds, run = document.seeds, document.reference
    assert seeds.count == 5 and seeds.train_loss.shape == (5, experiment.epochs + 1)
    assert np.array_equal(seeds.train_loss[0], run.train_loss)  # the figures draw seed 0
    assert seeds.final_train_loss[0] == run.train_loss[-1]
    assert seeds.final_test_acc[0] == pytest.approx(run.test_acc, abs=1e-6)  # the run's is rounded to 6 decimals
    assert len(set(seeds.final_train_loss.tolist())) == 5  # five different initializations
