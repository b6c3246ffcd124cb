"""The figure scripts: byte-stable, safe to load in a page, honest about divergence and overflow."""
from __future__ import annotations

import base64
import gzip
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pytest

from lossarticle import figures

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
EPOCHS, FRAMES, GRID = 8, 3, 6  # tiny: a whole figure builds in well under a second


def synthetic_run(name: str, epochs: int, diverged: bool = False, planes: tuple[str, ...] = ("pca",)) -> dict[str, Any]:
    """A decoded run as ``export.load_experiment`` returns it, with series of length epochs + 1."""
    steps = np.arange(epochs + 1, dtype=np.float32)
    loss = np.exp(-steps / 3).astype(np.float32) + 0.05
    if diverged:
        loss[-1] = np.nan  # what a diverged run records at the step it blew up
    frames = np.linspace(0, epochs, FRAMES).astype(np.int32)
    label = (np.arange(FRAMES * GRID * GRID) % 3).reshape(FRAMES, GRID, GRID).astype(np.uint8)
    confidence = (np.arange(FRAMES * GRID * GRID) * 7 % 256).reshape(FRAMES, GRID, GRID).astype(np.uint8)
    path = {"coords": np.stack([steps / 10, -steps / 20], axis=1).astype(np.float32),
            "distance": (steps / 7).astype(np.float32), "surface_loss": (loss * 1.1).astype(np.float32)}
    return {"name": name, "optimizer": "adam", "lr": 0.005, "epochs": epochs, "diverged": diverged,
            "train_loss": loss, "train_acc": np.linspace(0.3, 0.9, epochs + 1, dtype=np.float32),
            "val_acc": np.linspace(0.3, 0.85, epochs + 1, dtype=np.float32),
            "paths": {plane: path for plane in planes},
            "regions": {"frames": frames, "label": label, "confidence": confidence}}


def synthetic_surface(nx: int = 7, ny: int = 5) -> dict[str, Any]:
    """A lopsided, non-square loss grid Z[iy][ix], positive everywhere."""
    x, y = np.linspace(-1, 1, nx, dtype=np.float32), np.linspace(-0.5, 0.5, ny, dtype=np.float32)
    loss = (0.05 + x[None, :] ** 2 + 8 * y[:, None] ** 2).astype(np.float32)
    return {"x": x, "y": y, "loss": loss, "accuracy": np.ones_like(loss)}


def synthetic_payload(runs: list[dict[str, Any]] | None = None, planes: tuple[str, ...] = ("pca",),
                      axis_label: str = "PC1 · 90.0 % of variance") -> dict[str, Any]:
    """A decoded experiment payload with the fields figures.py reads."""
    runs = runs if runs is not None else [synthetic_run("adam", EPOCHS, planes=planes)]
    axis = np.linspace(-2, 2, GRID, dtype=np.float32)
    return {"slug": "tiny", "title": "tiny", "config": {"epochs": EPOCHS, "planes": list(planes)},
            "runs": runs, "regions_axes": {"x": axis, "y": axis},
            "planes": {m: {"axis_labels": [axis_label, "PC2"], "explained_variance": None,
                           "surface": synthetic_surface()} for m in planes}}


@pytest.fixture()
def dataset() -> dict[str, Any]:
    points = np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32)
    return {"train_x": points, "train_y": (np.arange(12) % 3).astype(np.uint8)}


def spec_of(script: str, slug: str = "tiny") -> dict[str, Any]:
    """The JSON inside ``window.lossarticle.register("<slug>", <json>);``."""
    prefix = f'window.lossarticle.register("{slug}", '
    assert script.startswith(prefix) and script.endswith(");\n")
    return json.loads(script[len(prefix):-3])


def ndarrays(node: Any) -> list[np.ndarray]:
    """Every Bokeh-serialized ndarray inside a json_item, decoded."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "ndarray" and isinstance(node.get("array"), dict):
            raw = base64.b64decode(node["array"]["data"])
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            found.append(np.frombuffer(raw, dtype=node["dtype"]).reshape(node["shape"]))
        for value in node.values():
            found += ndarrays(value)
    elif isinstance(node, list):
        for value in node:
            found += ndarrays(value)
    return found


def test_same_input_gives_the_same_bytes(dataset: dict[str, Any]) -> None:
    first = figures.figure_script("tiny", synthetic_payload(), dataset, 5000)
    figures.figure_script("other", synthetic_payload(planes=("random", "pca")), dataset, 9000)  # moves the counter
    again = figures.figure_script("tiny", synthetic_payload(), dataset, 5000)
    assert first == again


def test_first_build_in_a_fresh_process_matches_the_next() -> None:
    # Bokeh spends extra ids the first time it serializes in a process; only a fresh one shows it.
    code = ("import hashlib, numpy as np, test_figures as t\n"
            "ds = {'train_x': np.zeros((6, 2), np.float32), 'train_y': (np.arange(6) % 3).astype(np.uint8)}\n"
            "print(*(hashlib.sha256(t.figures.figure_script('tiny', t.synthetic_payload(), ds, 5000).encode())"
            ".hexdigest() for _ in range(2)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    first, second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout.split()
    assert first == second


def test_ids_start_at_the_base_and_do_not_collide(dataset: dict[str, Any]) -> None:
    base_a, base_b = figures.figure_id_base(0), figures.figure_id_base(1)
    payload = synthetic_payload(planes=("random", "init-final", "pca"))  # the most panels a figure has
    ids_a = set(map(int, re.findall(r'"id":"p(\d+)"', figures.figure_script("tiny", payload, dataset, base_a))))
    ids_b = set(map(int, re.findall(r'"id":"p(\d+)"', figures.figure_script("tiny", payload, dataset, base_b))))
    assert min(ids_a) == base_a and max(ids_a) < base_b <= min(ids_b)
    assert not ids_a & ids_b


def test_id_base_must_be_positive(dataset: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="id_base"):
        figures.figure_script("tiny", synthetic_payload(), dataset, 0)


def test_script_is_one_register_call_with_every_panel(dataset: dict[str, Any]) -> None:
    spec = spec_of(figures.figure_script("tiny", synthetic_payload(), dataset, 5000))
    keys = [key for row in spec["layout"] for cell in row["cells"] for key in cell["keys"]]
    assert sorted(keys) == sorted(spec["items"])
    assert {"regions", "landscape-pca", "loss", "accuracy", "gap-pca", "distance-pca"} == set(keys)
    assert all(item["target_id"] == f"fig-tiny-{key}" for key, item in spec["items"].items())
    assert spec["max_epoch"] == EPOCHS and len(spec["runs"][0]["loss"]) == EPOCHS + 1


def test_markup_in_labels_cannot_close_the_script(dataset: dict[str, Any]) -> None:
    nasty = "</script><script>alert(1)</script><!-- & \u2028"
    script = figures.figure_script("tiny", synthetic_payload(axis_label=nasty), dataset, 5000)
    assert "<" not in script and ">" not in script and "&" not in script and "\u2028" not in script
    assert nasty in json.dumps(spec_of(script), ensure_ascii=False)


def test_regions_round_trip_through_the_packed_bytes() -> None:
    run = synthetic_run("adam", EPOCHS)
    label, confidence = run["regions"]["label"], run["regions"]["confidence"]
    codes = np.frombuffer(gzip.decompress(base64.b64decode(figures.encode_regions(label, confidence))), np.uint8)
    codes = codes.reshape(label.shape)
    bits = figures.CONFIDENCE_BITS
    assert np.array_equal(codes >> bits, label)
    assert np.array_equal(codes & ((1 << bits) - 1), confidence >> (8 - bits))


def test_regions_refuse_labels_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        figures.encode_regions(np.full((1, 2, 2), 9, np.uint8), np.zeros((1, 2, 2), np.uint8))


def test_non_finite_and_huge_losses_get_the_top_colour(dataset: dict[str, Any]) -> None:
    payload = synthetic_payload()
    loss = payload["planes"]["pca"]["surface"]["loss"]
    loss[0, 0], loss[1, 2], loss[4, 6] = np.inf, np.nan, 1e30
    scale = figures.colour_scale([loss])
    assert scale[1] - scale[0] <= figures.CLIP_DECADES and scale[1] < 30
    spec = spec_of(figures.figure_script("tiny", payload, dataset, 5000))
    [image] = [a for a in ndarrays(spec["items"]["landscape-pca"]) if a.shape == loss.shape]
    assert np.isfinite(image).all()
    # Clipped to one value and rounded by one code path: exactly equal to one another. The scale's
    # top went through log10 (its last bit may differ between CPUs) and is rounded here by Python,
    # not numpy, so it is compared within the 3-decimal rounding.
    assert image[0, 0] == image[1, 2] == image[4, 6] == image.max()
    assert image[0, 0] == pytest.approx(scale[1], abs=5e-4 + 1e-6)
    assert image[2, 3] == pytest.approx(math.log10(loss[2, 3]), abs=1e-3)  # the valley keeps its detail


def test_colour_scale_spans_at_most_the_clip() -> None:
    loss = np.logspace(-2, 10, 30, dtype=np.float64).reshape(5, 6)
    low, high = figures.colour_scale([loss])
    assert low == pytest.approx(-2) and high == pytest.approx(-2 + figures.CLIP_DECADES)


def test_surface_image_keeps_rows_as_y(dataset: dict[str, Any]) -> None:
    payload = synthetic_payload()
    surface = payload["planes"]["pca"]["surface"]  # 5 rows (y) by 7 columns (x), steeper along y
    spec = spec_of(figures.figure_script("tiny", payload, dataset, 5000))
    [image] = [a for a in ndarrays(spec["items"]["landscape-pca"]) if a.ndim == 2]
    assert image.shape == (len(surface["y"]), len(surface["x"]))
    assert image[0, 3] > image[2, 0] + 0.1  # y = -0.5 on the centre column costs more than x = -1 on the centre row


def test_diverged_run_stops_the_slider_and_says_so(dataset: dict[str, Any]) -> None:
    payload = synthetic_payload(runs=[synthetic_run("adam", 3, diverged=True)])
    context = figures.figure_context("tiny", payload)
    assert context["max_epoch"] == 3
    assert context["notes"] == ["Training diverged at epoch 3."]
    assert context["readout"].endswith("training diverged at epoch 3")
    spec = spec_of(figures.figure_script("tiny", payload, dataset, 5000))
    assert spec["max_epoch"] == 3 and spec["runs"][0]["diverged"] is True
    assert spec["runs"][0]["loss"][-1] is None  # NaN travels as null, never as invalid JSON


def test_one_diverged_run_among_several_is_named(dataset: dict[str, Any]) -> None:
    runs = [synthetic_run("adam", EPOCHS), synthetic_run("sgd", 4, diverged=True)]
    context = figures.figure_context("tiny", synthetic_payload(runs=runs))
    assert context["max_epoch"] == EPOCHS and context["multi_run"]
    assert context["notes"] == ["sgd: training diverged at epoch 4."]
    assert figures.readout_text(runs[1], 6, EPOCHS, True) == "epoch 6 / 8 · sgd · diverged at epoch 4"


def test_planes_follow_the_experiment_order(dataset: dict[str, Any]) -> None:
    planes = ("random", "init-final", "pca")
    payload = synthetic_payload(planes=planes)
    payload["planes"] = dict(sorted(payload["planes"].items()))  # as the JSON file stores them
    spec = spec_of(figures.figure_script("tiny", payload, dataset, 5000))
    assert spec["planes"] == list(planes)
    assert [cell["keys"][0] for cell in spec["layout"][0]["cells"]] == [f"landscape-{m}" for m in planes]
    assert [p["method"] for p in figures.figure_context("tiny", payload)["planes"]] == list(planes)


@pytest.mark.parametrize(("value", "text"), [(0.41, "0.41"), (1.5, "1.5"), (0.0283, "0.028"), (12.0, "12"),
                                             (0.005, "0.0050"), (0.00031, "3.1e-4"), (math.inf, "∞"),
                                             (math.nan, "—")])
def test_loss_readout_format(value: float, text: str) -> None:
    assert figures.format_loss(value) == text


def test_readout_reads_like_the_article() -> None:
    run = synthetic_run("adam", EPOCHS)
    # loss 1.05 in float32 is 1.0499999...; the page sees the rounded 1.05 and writes 1.1, so must we.
    assert figures.readout_text(run, 0, EPOCHS, False) == "epoch 0 / 8 · loss 1.1 · train 30\u202f% · val 30\u202f%"


def render(name: str, **context: Any) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=True)
    return env.get_template(name).render(**context)


def test_figure_template_has_accessible_controls_and_no_inline_code() -> None:
    runs = [synthetic_run("adam", EPOCHS), synthetic_run("sgd", EPOCHS)]
    html = render("figure.html", slug="tiny", number=3, caption_html="A <em>caption</em>.", title="tiny",
                  src="figures/tiny.js", download="data/tiny.json",
                  **figures.figure_context("tiny", synthetic_payload(runs=runs)))
    assert 'id="fig-tiny"' in html and 'data-src="figures/tiny.js"' in html and 'id="fig-tiny-plots"' in html
    assert 'aria-label="Epoch"' in html and 'aria-live="polite"' in html and 'max="8"' in html
    assert html.count('<button type="button"') == 3 and '<select class="la-run"' in html
    assert "style=" not in html and "<script" not in html and " on" not in re.sub(r'"[^"]*"', '""', html)
    assert 'href="data/tiny.json"' in html and "Figure 3." in html


def test_single_run_figure_has_no_run_menu() -> None:
    html = render("figure.html", slug="tiny", number=1, caption_html="c", title="t", src="figures/tiny.js",
                  download="data/tiny.json", **figures.figure_context("tiny", synthetic_payload()))
    assert "<select" not in html


def test_explorer_template_offers_every_choice_once() -> None:
    choices = [("logistic", "logistic regression")] + [
        (f"mlp-d{d}-w{w}", f"{d} × {w}") for d in (1, 5, 10) for w in (5, 20, 100)]
    html = render("explorer.html", choices=choices, caption_html="Pick one.", number=4)
    slugs = re.findall(r'data-slug="([^"]+)" data-src="figures/([^"]+)\.js"', html)
    assert [a for a, _ in slugs] == [b for _, b in slugs] == [slug for slug, _ in choices]
    assert html.count('aria-pressed="true"') == 1 and 'data-initial="logistic"' in html
    assert 'aria-label="Epoch"' in html and "style=" not in html and "<script" not in html
