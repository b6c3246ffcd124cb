"""The figure scripts and templates: byte-stable, safe to load in a page, honest about divergence and overflow."""
from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lossarticle import figure_context, figure_layout, packing, page_data, style
from lossarticle.configs import Experiment, Run, mlp
from lossarticle.errors import ConfigError
from lossarticle.posters import Poster
from lossarticle.render import page_environment
from lossarticle.scales import shared_scale
from lossarticle.numbers import num
from tests.records import (EPOCHS, spec_of, synthetic_dataset, synthetic_document, synthetic_experiment,
                           synthetic_run)
from tests.tiny import TEMPLATES, TINY_ARTICLE, TINY_REGISTRY, copy_data, render_tiny, write_article

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.fixture()
def dataset():
    return synthetic_dataset()


SHARED = shared_scale([np.array([0.01, 10.0])])


def script(dataset, id_base: int = 5000, **changes: Any) -> str:
    return page_data.figure_script(synthetic_document(**changes), dataset, id_base, SHARED)


def test_same_input_gives_the_same_bytes(dataset) -> None:
    first = script(dataset)
    script(dataset, 9000, experiment=synthetic_experiment("other", planes=("random", "pca")))  # moves the counter
    assert first == script(dataset)


def test_first_build_in_a_fresh_process_matches_the_next() -> None:
    # Bokeh spends extra ids the first time it serializes in a process; only a fresh one shows it.
    code = ("import hashlib\nfrom lossarticle.page_data import figure_script\n"
            "from tests.records import synthetic_dataset, synthetic_document\n"
            "from lossarticle.scales import shared_scale\nimport numpy as np\n"
            "print(*(hashlib.sha256(figure_script(synthetic_document(), synthetic_dataset(), 5000, "
            "shared_scale([np.array([0.01, 10.0])])).encode())"
            ".hexdigest() for _ in range(2)))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first, second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout.split()
    assert first == second


def test_ids_start_at_the_base_and_do_not_collide(dataset) -> None:
    base_a, base_b = page_data.figure_id_base(0), page_data.figure_id_base(1)
    experiment = synthetic_experiment(planes=("random", "init-final", "pca"))  # the most panels a figure has
    ids_a = set(map(int, re.findall(r'"id":"p(\d+)"', script(dataset, base_a, experiment=experiment))))
    ids_b = set(map(int, re.findall(r'"id":"p(\d+)"', script(dataset, base_b, experiment=experiment))))
    assert min(ids_a) == base_a and max(ids_a) < base_b <= min(ids_b)
    assert not ids_a & ids_b


def test_id_base_must_be_positive(dataset) -> None:
    with pytest.raises(ValueError, match="id_base"):
        script(dataset, 0)


def test_script_is_one_register_call_with_every_panel(dataset) -> None:
    spec = spec_of(script(dataset))
    keys = [panel["key"] for row in spec["layout"] for cell in row["cells"] for panel in cell["panels"]]
    assert sorted(keys) == sorted(spec["items"])
    assert {"regions", "landscape-pca", "loss", "accuracy", "gap-pca", "distance-pca", "units"} == set(keys)
    assert all(item["target_id"] == f"fig-tiny-{key}" for key, item in spec["items"].items())
    assert spec["max_epoch"] == EPOCHS and len(spec["runs"][0]["loss"]) == EPOCHS + 1


# ---------------------------------------------------------------- the one contract between the languages

def spec_names(models: Any) -> list[str]:
    """Every model name a panel's ``models`` gives, however deep (by view, colour scale or run)."""
    if isinstance(models, str):
        return [models]
    assert isinstance(models, dict), models
    return [name for value in models.values() for name in spec_names(value)]


def document_names(item: dict[str, Any]) -> list[str]:
    """The ``name`` of every model serialized in one json_item: each model is written out once, in full
    (``{"type": "object", "attributes": {...}}``); other mentions of it are references by id."""
    return [node["attributes"]["name"] for node in walk(item["doc"])
            if node.get("type") == "object" and isinstance(node.get("attributes"), dict)
            and isinstance(node["attributes"].get("name"), str)]


def test_every_model_the_spec_names_is_in_its_panels_document(tiny_site, tmp_path, dataset) -> None:
    # What the tiny site publishes (both explorer networks among them), and a synthetic figure with
    # three planes and two runs: every role the spec has.
    site = render_tiny(copy_data(tiny_site, tmp_path / "site"), write_article(tmp_path / "article", TINY_ARTICLE))
    specs = {path.stem: spec_of(path.read_text(), path.stem) for path in (site / "figures").glob("*.js")}
    assert sorted(specs) == ["tiny", "tiny-dirs", "tiny-opt"]  # placed in TINY_ARTICLE, or the explorer's
    runs = (synthetic_run("adam", EPOCHS, ("random", "pca")), synthetic_run("sgd", EPOCHS, ("random", "pca")))
    experiment = synthetic_experiment(planes=("random", "pca"), runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    specs["synthetic"] = spec_of(script(dataset, experiment=experiment, runs=runs))
    for slug, spec in specs.items():
        cells = [panel for row in spec["layout"] for cell in row["cells"] for panel in cell["panels"]]
        assert sorted(panel["key"] for panel in cells) == sorted(spec["items"]), slug
        for panel in cells:
            where, named = f"{slug}: {panel['key']}", spec_names(panel["models"])
            in_document = document_names(spec["items"][panel["key"]])
            assert panel["kind"] in ("regions", "landscape", "loss", "accuracy", "gap", "distance", "units",
                                     "sharpness"), where
            assert panel["epoch_axis"] == (panel["kind"] in ("loss", "accuracy", "gap", "distance", "units",
                                                             "sharpness")), where
            assert (panel["plane"] in spec["planes"]) == (panel["kind"] in ("landscape", "gap", "distance")), where
            missing = [name for name in named if in_document.count(name) != 1]
            assert not missing, f"{where}: the spec names models its document lacks or holds twice: {missing}"
            untold = sorted(set(in_document) - set(named))
            assert not untold, f"{where}: named in the document but not in the spec: {untold}"
    landscape = next(p for row in specs["synthetic"]["layout"] for c in row["cells"] for p in c["panels"]
                     if p["key"] == "landscape-pca")
    assert landscape["models"]["views"]["stretched"]["contours"]["shared"] == "contours-pca-stretched-shared"


def test_markup_in_labels_cannot_close_the_script(dataset) -> None:
    nasty = "</script><script>alert(1)</script><!-- & \u2028"
    text = page_data.figure_script(synthetic_document(axis_label=nasty), dataset, 5000, SHARED)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert nasty in json.dumps(spec_of(text), ensure_ascii=False)


def test_regions_round_trip_through_the_packed_bytes() -> None:
    regions = synthetic_run("adam", EPOCHS, ("pca",)).regions
    packed = base64.b64decode(packing.encode_regions(regions.label, regions.confidence))
    codes = np.frombuffer(gzip.decompress(packed), np.uint8).reshape(regions.label.shape)
    bits = packing.CONFIDENCE_BITS
    assert np.array_equal(codes >> bits, regions.label)
    assert np.array_equal(codes & ((1 << bits) - 1), regions.confidence >> (8 - bits))


def test_regions_refuse_labels_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        label = np.full((1, 2, 2), 1 << (8 - packing.CONFIDENCE_BITS), np.uint8)  # one past the largest that fits
        packing.encode_regions(label, np.zeros((1, 2, 2), np.uint8))


def test_landscape_images_hold_the_unrounded_loss_on_a_log_scale_and_overflow_takes_the_top_colour(dataset) -> None:
    document = synthetic_document()
    loss = document.planes[0].views[0].surface.loss
    loss[0, 0], loss[1, 2], loss[4, 6] = np.inf, np.nan, 1e30
    spec = spec_of(page_data.figure_script(document, dataset, 5000, SHARED))
    images = [packing.unpack_loss(view["loss"]) for view in spec["landscapes"]["pca"]]
    assert len(images) == 2  # the true and the stretched view
    finite = np.isfinite(loss)
    packed = spec["landscapes"]["pca"][0]["loss"]
    half_step = (packed["high"] - packed["low"]) / (packing.OVERFLOW_CODE - 1) / 2  # decades; nothing coarser
    assert np.all(np.abs(np.log10(images[0][finite]) - np.log10(loss[finite].astype(np.float64))) <= half_step + 1e-12)
    assert np.isinf(images[0][0, 0]) and np.isinf(images[0][1, 2]) and images[0][4, 6] == pytest.approx(1e30, rel=1e-3)
    mapper = next(node for node in walk(spec["items"]["landscape-pca"]) if node.get("name") == "mapper-pca")
    assert mapper["nan_color"] == style.LANDSCAPE_PALETTE[-1]  # NaN is overflow; inf is clamped to the top
    low, high = mapper["low"], mapper["high"]
    assert high / low <= 10 ** 3.0 * (1 + 1e-9)  # 1e30 does not squash the valley into one colour
    accuracy = [a for a in ndarrays(spec["items"]["landscape-pca"]) if a.dtype == np.uint8]
    assert len(accuracy) == 2 and accuracy[0].max() == 100  # for the hover readout


def walk(node: Any):
    """Every dict inside a json_item."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_landscape_carries_its_views_and_both_scales(dataset) -> None:
    experiment = synthetic_experiment(planes=("random", "pca"))
    spec = spec_of(script(dataset, experiment=experiment))
    assert [v["name"] for v in spec["landscapes"]["random"]] == ["true"]
    assert [v["name"] for v in spec["landscapes"]["pca"]] == ["true", "stretched"]
    assert spec["landscapes"]["pca"][1]["title"] == "PCA of the path · PC2 stretched ×2.0"
    assert spec["landscapes"]["pca"][0]["title"] == "PCA of the path · true proportions"
    names = {node.get("name") for node in walk(spec["items"]["landscape-pca"])}
    assert {"image-pca-true", "image-pca-stretched", "contours-pca-true-figure", "contours-pca-true-shared",
            "contours-pca-stretched-figure", "contours-pca-stretched-shared", "mapper-pca", "bar-pca",
            "title-pca", "note-pca"} <= names
    assert spec["scales"]["shared"]["low"] == SHARED.loss_range[0] and len(spec["scales"]["figure"]["ticks"]) >= 3


def test_surface_image_keeps_rows_as_y(dataset) -> None:
    document = synthetic_document()
    surface = document.planes[0].views[0].surface  # rows (y) by columns (x), steeper along y
    spec = spec_of(page_data.figure_script(document, dataset, 5000, SHARED))
    image = np.log10(packing.unpack_loss(spec["landscapes"]["pca"][0]["loss"]))  # the true view
    assert image.shape == (len(surface.y), len(surface.x))
    assert image[0, 3] > image[3, 0] + 0.1  # y = -0.5 on the centre column costs more than x = -1 on the centre row


def test_diverged_run_stops_the_slider_and_says_so(dataset) -> None:
    experiment = synthetic_experiment()
    document = synthetic_document(experiment, runs=(synthetic_run("adam", 3, ("pca",), diverged=True),))
    context = figure_context.figure_context(document)
    assert context.max_epoch == 3 and context.notes == ("Training diverged at epoch 3.",)
    spec = spec_of(page_data.figure_script(document, dataset, 5000, SHARED))
    assert spec["max_epoch"] == 3 and spec["runs"][0]["diverged"] is True


def test_one_diverged_run_among_several_is_named() -> None:
    experiment = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    runs = (synthetic_run("adam", EPOCHS, ("pca",)), synthetic_run("sgd", 4, ("pca",), diverged=True))
    context = figure_context.figure_context(synthetic_document(experiment, runs=runs))
    assert context.max_epoch == EPOCHS and context.multi_run
    assert context.notes == ("sgd: training diverged at epoch 4.",)


def test_layout_follows_the_planes_in_the_registry_order(dataset) -> None:
    planes = ("random", "init-final", "pca")
    spec = spec_of(script(dataset, experiment=synthetic_experiment(planes=planes)))
    assert spec["planes"] == list(planes)
    assert [cell["panels"][0]["key"] for cell in spec["layout"][0]["cells"]] == [f"landscape-{m}" for m in planes]
    columns = {row["columns"] for row in spec["layout"][:2]}  # the third holds the measured strips (units)
    assert columns == {3}  # every strip sits in its plane's column
    assert [[p["key"] for p in cell["panels"]] for cell in spec["layout"][0]["cells"]] == [
        [f"landscape-{m}", f"gap-{m}", f"distance-{m}"] for m in planes]
    assert [{p["plane"] for p in cell["panels"]} for cell in spec["layout"][0]["cells"]] == [{m} for m in planes]


@pytest.mark.parametrize("planes", [("pca",), ("random", "init-final", "pca")])
def test_a_phone_reads_each_landscape_with_its_strips_and_the_figure_is_interactive_with_them(planes,
                                                                                                dataset) -> None:
    rows = figure_layout.layout_rows(planes)
    order = [key for row in rows for cell in row["cells"] for key in cell["keys"]]  # one column, top to bottom
    for plane in planes:
        at = order.index(f"landscape-{plane}")
        assert order[at + 1:at + 3] == [f"gap-{plane}", f"distance-{plane}"], order
    assert sorted(order) == sorted({"regions", "loss", "accuracy", *(f"{kind}-{m}" for m in planes
                                                                     for kind in ("landscape", "gap", "distance"))})
    first = figure_layout.first_panels(planes)
    assert set(first) == {"regions", f"landscape-{planes[0]}"} and set(first) <= set(order)
    spec = spec_of(script(dataset, experiment=synthetic_experiment(planes=planes)))
    assert spec["first"] == first


def test_the_page_draws_what_moves_so_no_panel_carries_it(dataset) -> None:
    runs = (synthetic_run("adam", EPOCHS, ("pca",)), synthetic_run("sgd", EPOCHS, ("pca",)))
    experiment = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    spec = spec_of(script(dataset, runs=runs, experiment=experiment))
    names = {node.get("name") for item in spec["items"].values() for node in walk(item) if node.get("type") == "object"}
    kinds = {node.get("name") for item in spec["items"].values() for node in walk(item)}
    assert "ImageRGBA" not in kinds  # the region frames are the page's ImageData
    named = {node["attributes"]["name"] for item in spec["items"].values() for node in walk(item)
             if isinstance(node.get("attributes"), dict) and isinstance(node["attributes"].get("name"), str)}
    assert not [n for n in named if n.startswith(("path-", "now-", "regions-image"))], named
    assert {"loss-adam", "loss-sgd", "gap-recorded-pca", "image-pca-true", "mapper-pca"} <= named
    assert "Figure" in names
    regions = spec["items"]["regions"]["doc"]["roots"][0]["attributes"]
    assert regions["background_fill_color"] is None  # see-through: the page's regions lie beneath


def test_the_readout_series_keep_float32_so_the_readout_rounds_like_the_prose(dataset) -> None:
    run = synthetic_run("adam", EPOCHS, ("pca",))
    run.train_loss[3] = np.float32(0.12351)  # rounded to 4 digits first, it would read 0.123, not 0.124
    spec = spec_of(script(dataset, runs=(run,)))
    shipped = spec["runs"][0]
    for field, values in (("loss", run.train_loss), ("train_acc", run.train_acc), ("val_acc", run.val_acc)):
        np.testing.assert_array_equal(np.array(shipped[field], dtype=np.float32), values)
    assert num(shipped["loss"][3]) == num(float(run.train_loss[3])) == "0.124"


def render(name: str, **context: Any) -> str:
    context.setdefault("lab", None)
    context.setdefault("poster", Poster("tiny", b"", b"", 960, 317, 1500, 495, "A poster."))
    return page_environment(TEMPLATES).get_template(name).render(**context)


def test_figure_template_has_accessible_controls_and_no_inline_code() -> None:
    experiment = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    html = render("figure.html", number=3, caption_html="A <em>caption</em>.", src="figures/tiny.js",
                  download="data/tiny.json", figure=figure_context.figure_context(synthetic_document(experiment)))
    assert 'id="fig-tiny"' in html and 'data-src="figures/tiny.js"' in html and 'id="fig-tiny-plots"' in html
    assert 'aria-label="Epoch"' in html and 'aria-live="polite"' in html and 'max="8"' in html
    assert html.count('<button type="button"') == 7 and '<select class="la-run"' in html
    assert 'aria-label="Play speed"' in html and ">loop<" in html and ">copy link<" in html
    assert 'class="la-link"' in html and 'aria-label="Link to this view of the figure" hidden' in html
    assert html.count('aria-pressed="false"') == 3  # stretch to fit, one colour scale, loop: off by default
    assert ">adam · lr 0.005<" in html and ">sgd · lr 0.1<" in html  # each run as its config says
    assert "style=" not in html and "<script" not in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", re.sub(r'"[^"]*"', '""', html))  # no inline event handlers
    assert 'href="data/tiny.json"' in html and "Figure 3." in html


def test_single_run_figure_has_no_run_menu() -> None:
    html = render("figure.html", number=1, caption_html="c", src="figures/tiny.js", download="data/tiny.json",
                  figure=figure_context.figure_context(synthetic_document()))
    assert "la-run" not in html and html.count("<select") == 1  # the play speed only


def test_explorer_grid_comes_from_depth_width_and_explorer() -> None:
    registry = (Experiment(slug="logistic", title="logistic regression", depth=0, width=0, epochs=3, explorer=True),
                *(mlp(d, w, epochs=3, explorer=True) for d, w in ((10, 5), (1, 5), (1, 100))),
                mlp(20, 5, epochs=3))  # not offered
    grid = figure_context.explorer_grid(registry)
    assert grid.depths == (1, 10) and grid.widths == (5, 100)
    assert [[c.slug if c else None for c in row] for row in grid.cells] == [
        ["mlp-d1-w5", "mlp-d1-w100"], ["mlp-d10-w5", None]]
    assert [c.slug for c in grid.choices] == ["logistic", "mlp-d1-w5", "mlp-d1-w100", "mlp-d10-w5"]
    # It opens on the first network in reading order that no earlier figure has shown.
    assert grid.opening(("logistic", "mlp-d1-w5")).slug == "mlp-d1-w100"
    assert grid.opening([c.slug for c in grid.choices]).slug == grid.opening().slug == "logistic"
    html = render("explorer.html", grid=grid, opening="mlp-d1-w100", caption_html="Pick one.", number=4)
    slugs = re.findall(r'data-slug="([^"]+)" data-src="figures/([^"]+)\.js"', html)
    assert [a for a, _ in slugs] == [b for _, b in slugs] == [c.slug for c in grid.choices]
    assert html.count('aria-pressed="true"') == 1 and 'data-initial="mlp-d1-w100"' in html
    assert re.search(r'la-choice--initial" data-slug="mlp-d1-w100"', html)
    assert "la-cols-2" in html and html.count("la-choice-empty") == 1
    assert 'aria-label="Epoch"' in html and "style=" not in html and "<script" not in html


def test_two_explorer_networks_in_one_cell_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"mlp-d20-w5-skip\.explorer=True: the explorer already has a 20 × 5"):
        figure_context.explorer_grid((mlp(20, 5, epochs=3, explorer=True),
                                      mlp(20, 5, epochs=3, skip=True, explorer=True)))


def test_the_description_says_what_the_data_says() -> None:
    experiment = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    runs = (synthetic_run("adam", EPOCHS, ("pca",)), synthetic_run("sgd", 4, ("pca",), diverged=True))
    document = synthetic_document(experiment, runs=runs)
    text = figure_context.figure_context(document).description
    adam = document.runs[0]
    assert text.startswith("tiny, trained for up to 8 epochs.")
    assert (f"With adam (learning rate 0.005), the training loss goes from {num(float(adam.train_loss[0]))} to "
            f"{num(float(adam.train_loss[-1]))}, and accuracy ends at 90.0\u202f% on the training set") in text
    start = document.runs[0].path("pca").coords[0]
    assert "training diverged at epoch 4." in text
    assert f"On the map “PCA of the path” the path starts at ({num(float(start[0]), 2)}, " in text


def test_the_loss_panel_draws_other_initializations_faintly_and_thinned(dataset) -> None:
    experiment = synthetic_experiment()
    spec = spec_of(page_data.figure_script(synthetic_document(experiment), dataset, 5000, SHARED))
    maps = [dict(node["entries"]) for node in walk(spec["items"]["loss"]) if node.get("type") == "map"]
    [columns] = [m for m in maps if "xs" in m]  # the multi_line's source, as Bokeh serializes a dict
    xs, ys = ndarrays(columns["xs"]), ndarrays(columns["ys"])
    assert len(ys) == experiment.seeds - 1  # every initialization but the first, which the page draws in full
    document = synthetic_document(experiment)
    np.testing.assert_allclose(ys[0], document.seeds.train_loss[1, xs[0].astype(int)], rtol=5e-3)


def test_the_caption_states_each_maps_extent() -> None:
    experiment = synthetic_experiment(planes=("random", "pca"))
    note = figure_context.figure_context(synthetic_document(experiment)).extents
    assert note == ("Maps in true proportions, centred on the final weights. Random directions: a and b within ±1.0 "
                    "(the standard extent of a random plane); PCA of the path: a and b within ±1.0 (the path's reach "
                    "plus a margin).")


@pytest.mark.parametrize("decades", [0.004, 1.0, 6.0])
def test_packed_losses_come_back_within_half_a_step(decades: float) -> None:
    rng = np.random.default_rng(1)
    loss = (1.1 * 10 ** (decades * rng.random((9, 11)))).astype(np.float32)
    loss[2, 3] = np.nan
    back = packing.unpack_loss(packing.pack_loss(loss))
    finite = np.isfinite(loss)
    step = decades / (packing.OVERFLOW_CODE - 1)  # in decades
    assert np.all(np.abs(np.log10(back[finite]) - np.log10(loss[finite].astype(np.float64))) <= step / 2 + 1e-12)
    assert np.isinf(back[2, 3])


def test_each_strip_names_its_plane_and_the_page_gets_the_title_of_every_run(dataset) -> None:
    """Issue 16, finding 7: the directions figure's six strips all carried the same two titles."""
    planes = ("random", "init-final", "pca")
    experiment = synthetic_experiment(planes=planes, runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    runs = (synthetic_run("adam", EPOCHS, planes), synthetic_run("sgd", EPOCHS, planes))
    spec = spec_of(script(dataset, runs=runs, experiment=experiment))
    texts = {node["attributes"]["name"]: node["attributes"].get("text") for item in spec["items"].values()
             for node in walk(item) if isinstance(node.get("attributes"), dict)
             and str(node["attributes"].get("name", "")).startswith(("gap-title-", "distance-title-"))}
    titles = spec["titles"]
    assert titles["gap"]["pca"] == ["PCA of the path (adam):\nloss recorded vs. read off the plane",
                                    "PCA of the path (sgd):\nloss recorded vs. read off the plane"]
    for kind in ("gap", "distance"):
        for plane in planes:
            assert all(t.startswith(style.plane_title(plane) + " (") for t in titles[kind][plane])
            assert texts[f"{kind}-title-{plane}"] == titles[kind][plane][0]  # the page's first title is the panel's
    assert len({t for kind in titles.values() for plane in kind.values() for t in plane}) == 2 * 3 * 2
    single = spec_of(script(dataset))
    assert single["titles"]["distance"]["pca"] == ["PCA of the path:\ndistance from the plane"]


def flattened(document: Any, spread: float) -> Any:
    """``document`` with every map rescaled to vary by ``spread`` of its lowest loss, which is ln 3."""
    def view(v: Any) -> Any:
        z = v.surface.loss.astype(np.float64)
        loss = (1.0986 * (1 + spread * (z - z.min()) / np.ptp(z))).astype(np.float32)
        return dataclasses.replace(v, surface=dataclasses.replace(v.surface, loss=loss))
    return dataclasses.replace(document, planes=tuple(dataclasses.replace(p, views=tuple(view(v) for v in p.views))
                                                      for p in document.planes))


def test_a_nearly_flat_figure_opens_on_a_scale_that_keeps_it_flat_and_offers_its_own(dataset) -> None:
    """Issue 16, finding 8: by default a 9.2 % change filled the whole grey ramp, flagged only in small text."""
    flat = flattened(synthetic_document(), 0.092)
    spec = spec_of(page_data.figure_script(flat, dataset, 5000, SHARED))
    figure, local = (np.log10([spec["scales"][k]["low"], spec["scales"][k]["high"]]) for k in ("figure", "local"))
    assert np.log10(1.092) / np.ptp(figure) <= 0.5 and np.log10(1.092) / np.ptp(local) == pytest.approx(1, rel=1e-3)
    names = {node.get("name") for node in walk(spec["items"]["landscape-pca"])}
    assert {"contours-pca-true-figure", "contours-pca-true-local", "contours-pca-true-shared"} <= names
    assert figure_context.figure_context(flat).local_scale
    steep = flattened(synthetic_document(), 3.0)
    assert "local" not in spec_of(page_data.figure_script(steep, dataset, 5000, SHARED))["scales"]
    assert not figure_context.figure_context(steep).local_scale


def test_a_run_with_curvature_gets_a_sharpness_strip_on_the_epoch_axis(dataset) -> None:
    from lossarticle.dynamics import sharpness_ratio
    from lossarticle.schema import CurvatureRecord
    epochs = np.array([0, 2, 5], np.int32)
    adam = CurvatureRecord(adaptive=True, threshold=7600.0, epochs=epochs,
                           hessian=np.array([10, 20, 40], np.float32), preconditioned=np.array([3800, 7600, 15200],
                                                                                               np.float32))
    sgd = CurvatureRecord(adaptive=False, threshold=20.0, epochs=epochs, hessian=np.array([5, 20, 30], np.float32),
                          preconditioned=np.full(3, np.nan, np.float32))
    runs = tuple(dataclasses.replace(synthetic_run(name, EPOCHS, ("pca",)), curvature=c)
                 for name, c in (("adam", adam), ("sgd", sgd)))
    # Each run's own sharpness over its own threshold: Adam's preconditioned one, gradient descent's raw one.
    np.testing.assert_allclose(sharpness_ratio(runs[0])[1], [0.5, 1, 2])
    np.testing.assert_allclose(sharpness_ratio(runs[1])[1], [0.25, 1, 1.5])
    experiment = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
    spec = spec_of(script(dataset, experiment=experiment, runs=runs))
    panels = {p["key"]: p for row in spec["layout"] for c in row["cells"] for p in c["panels"]}
    assert panels["sharpness"]["kind"] == "sharpness" and panels["sharpness"]["epoch_axis"]
    assert panels["units"]["epoch_axis"] and "sharpness" in spec["items"]
