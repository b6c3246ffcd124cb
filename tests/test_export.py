from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lossarticle.atomic import write_atomic
from lossarticle.build import TrainOptions, train_experiments
from lossarticle.errors import CacheError, ConfigError
from lossarticle.models import architecture, init_params
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
    assert names == ["spiral.json", "tiny-dirs.json", "tiny-opt.json", "tiny-skip.json", "tiny.json"]
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


def test_the_seeds_block_holds_every_initialization_and_names_the_median_one_the_figures_draw(tmp_path) -> None:
    experiment = tiny("seeded", seeds=5)
    train_experiments(options(tmp_path, registry=(experiment,)), echo=lambda s: None)
    document = read_experiment(tmp_path / "data" / "seeded.json", experiment)
    seeds, run = document.seeds, document.reference
    assert seeds.count == 5 and seeds.train_loss.shape == seeds.train_acc.shape == (5, experiment.epochs + 1)
    # 8 epochs: the late measure is the last epoch; the median of five is the third lowest.
    assert seeds.drawn == int(np.argsort(seeds.final_train_loss, kind="stable")[2])
    assert np.array_equal(seeds.train_loss[seeds.drawn], run.train_loss)
    assert np.array_equal(seeds.train_acc[seeds.drawn], run.train_acc)
    assert seeds.final_test_acc[seeds.drawn] == pytest.approx(run.test_acc, abs=1e-6)  # rounded to 6 decimals
    arch = architecture(experiment)
    theta0 = init_params(arch, torch.Generator().manual_seed(experiment.seed + seeds.drawn))
    assert run.weight_norm[0] == pytest.approx(float(theta0.double().norm()), rel=1e-6)  # |θ₀| of the drawn seed
    assert len(set(seeds.final_train_loss.tolist())) == 5  # five different initializations


def test_the_skip_twin_draws_its_plain_nets_initialization_and_goes_stale_when_that_changes(tmp_path) -> None:
    from lossarticle.build import stale_reason
    plain = tiny("plain", depth=3, width=3, seeds=5)
    twin = tiny("plain-skip", depth=3, width=3, seeds=5, skip=True, drawn_from="plain")
    train_experiments(options(tmp_path, registry=(plain, twin)), echo=lambda s: None)
    drawn = read_experiment(tmp_path / "data" / "plain.json", plain).seeds.drawn
    path = tmp_path / "data" / "plain-skip.json"
    assert read_experiment(path, twin).seeds.drawn == drawn
    assert stale_reason(path, twin, False, drawn) is None
    other = (drawn + 1) % 5
    assert stale_reason(path, twin, False, other) == f"draws initialization {drawn}, but plain now draws {other}"


def test_a_twin_without_its_plain_nets_file_is_one_line(tmp_path) -> None:
    plain = tiny("plain", depth=3, width=3, seeds=2)
    twin = tiny("plain-skip", depth=3, width=3, seeds=2, skip=True, drawn_from="plain")
    with pytest.raises(ConfigError, match=r"^plain-skip draws the initialization plain draws, but .*plain\.json: "
                                          r"missing; train plain first$"):
        train_experiments(options(tmp_path, registry=(plain, twin), only=("plain-skip",)), echo=lambda s: None)
