from __future__ import annotations

import math

import pytest

from lossarticle.configs import EXPERIMENTS, DataConfig, Run, SurfaceConfig, check_unique, experiment_by_slug, mlp
from lossarticle.errors import ConfigError
from tests.tiny import tiny


def test_seed_counts_where_the_outcome_varies() -> None:
    by_slug = {e.slug: e for e in EXPERIMENTS}
    assert all(e.seeds >= 100 for e in EXPERIMENTS if e.width == 5)
    assert by_slug["mlp-d20-w5"].seeds == by_slug["mlp-d20-w5-skip"].seeds  # the twins share θ₀ seed by seed
    assert by_slug["optimizers"].seeds == by_slug["directions"].seeds == 1


@pytest.mark.parametrize("changes, key", [
    (dict(width=0), "tiny.width=0"),
    (dict(width=-3), "tiny.width=-3"),
    (dict(depth=-1), "tiny.depth=-1"),
    (dict(epochs=0), "tiny.epochs=0"),
    (dict(planes=("pca", "sideways")), "tiny.planes='sideways'"),
    (dict(slug="Bad Slug"), "slug='Bad Slug'"),
    (dict(depth=0, width=5), "tiny.width=5"),
    (dict(seeds=0), "tiny.seeds=0: must be a positive integer"),
    (dict(seeds=2.0), "tiny.seeds=2.0: must be a positive integer"),
    (dict(seed=-1), "tiny.seed=-1: must be an integer >= 0"),  # numpy's generators refuse it mid-build
    (dict(seed=2 ** 64 - 2, seeds=3), "tiny.seed=18446744073709551614: must be an integer >= 0 (below 2"),
    (dict(data=DataConfig(seed=0), seed=True), "tiny.seed=True: must be an integer"),
    (dict(lab="sandbox"), "tiny.lab='sandbox': unknown lab"),
    (dict(lab="dice"), "tiny.lab='dice': a dice lab trains this net beside its twin: it needs drawn_from"),
])
def test_invalid_experiment_names_the_key_and_value(changes: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("(", r"\(").replace(".", r"\.")):
        tiny(**changes)


@pytest.mark.parametrize("lr", [-1.0, 0.0, math.inf, math.nan])
def test_bad_learning_rate_is_refused(lr: float) -> None:
    with pytest.raises(ConfigError, match=r"runs\[adam\]\.lr="):
        Run("adam", lr=lr)


def test_unknown_optimizer_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"optimizer='lbfgs'.*known: sgd, adam, rmsprop"):
        Run("x", optimizer="lbfgs")


def test_grid_too_small_to_draw() -> None:
    with pytest.raises(ConfigError, match="surface.resolution=2"):
        SurfaceConfig(resolution=2)


def test_data_config_validation() -> None:
    with pytest.raises(ConfigError, match="data.points_per_class=0"):
        DataConfig(points_per_class=0)


def test_duplicated_slug_is_refused() -> None:
    with pytest.raises(ConfigError, match="slug='tiny': duplicated"):
        check_unique((tiny(), tiny()))


def test_unknown_slug_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="unknown experiment 'mlp-d7-w5' .*logistic"):
        experiment_by_slug("mlp-d7-w5")


def test_config_is_frozen_and_serializable() -> None:
    experiment = tiny()
    with pytest.raises(AttributeError):
        experiment.epochs = 3  # type: ignore[misc]
    assert experiment.to_dict()["runs"][0]["optimizer"] == "adam"
    assert experiment.to_dict()["surface"]["resolution"] == experiment.surface.resolution


def test_mlp_names_its_slug_and_title_from_the_architecture() -> None:
    plain, twin = mlp(20, 5, epochs=3), mlp(20, 5, epochs=3, skip=True)
    assert (plain.slug, plain.title) == ("mlp-d20-w5", "20 hidden layers × 5 neurons")
    assert (twin.slug, twin.skip) == ("mlp-d20-w5-skip", True) and twin.title.endswith("skip connections")
    assert mlp(1, 7, epochs=3).title == "1 hidden layer × 7 neurons"


def test_drawn_from_must_name_an_earlier_experiment_with_the_same_initial_weights() -> None:
    from lossarticle.configs import check_unique
    from tests.tiny import tiny
    plain = tiny("plain", depth=3, seeds=4)
    with pytest.raises(ConfigError, match=r"^twin\.drawn_from='plain': must name an experiment listed before it$"):
        check_unique((tiny("twin", depth=3, seeds=4, skip=True, drawn_from="plain"), plain))
    with pytest.raises(ConfigError, match=r"^twin\.drawn_from='plain': must start from the same initial weights"):
        check_unique((plain, tiny("twin", depth=3, seeds=5, skip=True, drawn_from="plain")))
    check_unique((plain, tiny("twin", depth=3, seeds=4, skip=True, drawn_from="plain")))


def test_a_negative_data_seed_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^data\.seed=-1: must be an integer >= 0"):
        DataConfig(seed=-1)
