"""The labs in a real browser: a reader's own run trained in the page, checked against the Python pipeline.

The tiny page is opened from file://, under its Content-Security-Policy, as a reader who saved it would
open it; the trainer runs in a Web Worker. What the browser trains is compared with what PyTorch trained
(the stored runs of the figure), epoch by epoch; on the full registry, the optimizers figure's four runs and
its surface are trained and computed by the same trainer in a blank page.

Tolerances. PyTorch trains in float32, the page in float64, so the two differ from the first step by float32
rounding (about 1e-7 relative) and the difference grows as the weights move. Before a run first fits (90 %
training accuracy) it grows slowly; after, training is chaotic (a spike comes at another epoch with another
summation order) and no tolerance would hold on every machine, so the full comparison stops there. Inside
that window the loss must agree to 3e-4 relative and the projected path to 3e-4 of the path's extent: 30 times
the largest difference measured (1.0e-5 for gradient descent up to its fit at epoch 64; at most 2.2e-7 for the
other three; the surface 2.0e-6), while a wrong formula moves the loss by more: Adam's β₂ = 0.998 instead of
0.999 by 2.9e-3, β₁ = 0 by 8.7e-4 within the tiny run's eight epochs.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lossarticle.configs import EXPERIMENTS
from lossarticle.lab import FAR_FROM_PLANE, net_spec, outcomes, run_settings
from lossarticle.measures import FIT_ACCURACY, fit_epoch, late
from lossarticle.scales import figure_scale
from lossarticle.schema import (DATASET_FILE, DatasetFile, data_dir_of, experiment_path, read_dataset,
                               read_experiment)
from lossarticle.summaries import stuck_at_ln3
from lossarticle.trainer_script import trainer_script
from tests.tiny import TEMPLATES, TINY_DATA, TINY_REGISTRY

pytestmark = pytest.mark.browser

TOLERANCE = 3e-4  # relative, for the loss; of the path's extent, for the path (module docstring)

WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
# Waits inside the page for a condition on a lab (the page's CSP refuses wait_for_function's eval).
UNTIL = """async ([key, condition, timeout]) => {
  const deadline = performance.now() + timeout, lab = () => window.lossarticle.lab(key);
  const holds = () => { const l = lab(); return CONDITIONS[condition](l); };
  while (!holds()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}"""
CONDITIONS = """const CONDITIONS = {
  ready: (l) => !!l && l.root.dataset.ready === "true",
  trained: (l) => !!l && !!l.series && l.series.done,
  mapped: (l) => !!l && l.nets.every((n) => n.series && n.series.done && n.map.el.dataset.resolution === String(l.payload.map.resolution)),
};"""
SERIES = """(key) => { const s = window.lossarticle.lab(key).series;
  return {count: s.count, loss: Array.from(s.loss.subarray(0, s.count)), accuracy: Array.from(s.accuracy.subarray(0, s.count)),
          a: Array.from(s.a.subarray(0, s.count)), b: Array.from(s.b.subarray(0, s.count)),
          distance: Array.from(s.distance.subarray(0, s.count)), done: s.done}; }"""


def until(page: Any, key: str, condition: str, timeout_s: float = 30) -> None:
    script = UNTIL.replace("const deadline", CONDITIONS + "\n  const deadline")
    assert page.evaluate(script, [key, condition, timeout_s * 1000]), f"{key}: never {condition}"


@pytest.fixture()
def page(browser, tiny_page: Path) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(WATCH)
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
    page.requested = []  # type: ignore[attr-defined]
    page.on("request", lambda request: page.requested.append(request.url))  # type: ignore[attr-defined]
    yield page
    context.close()


def open_page(page: Any, site: Path, fragment: str = "") -> None:
    page.goto((site / "index.html").as_uri() + fragment)
    page.wait_for_load_state("load")


def stored(site: Path, slug: str):
    experiment = next(e for e in TINY_REGISTRY if e.slug == slug)
    return read_experiment(experiment_path(data_dir_of(site), slug), experiment)


def dataset(site: Path) -> DatasetFile:
    return read_dataset(data_dir_of(site) / "spiral.json", TINY_DATA)


def test_nothing_of_a_lab_loads_until_the_reader_opens_it(page, tiny_page) -> None:
    open_page(page, tiny_page)
    page.locator("#fig-tiny-opt .la-lab-open").scroll_into_view_if_needed()
    page.wait_for_function("() => true")  # one round trip: the figure's own scripts were asked for meanwhile
    assert not [url for url in page.requested if "/lab/" in url or url.endswith("trainer.js")]
    assert page.locator("#fig-tiny-opt .la-lab-about").is_hidden()  # the no-script sentence gives way to the button
    page.click("#fig-tiny-opt .la-lab-open")
    until(page, "tiny-opt", "ready")
    assert any(url.endswith("/lab/tiny-opt.js") for url in page.requested)
    assert any(url.endswith("/assets/trainer.js") for url in page.requested)
    assert page.evaluate("window.__csp") == [] and page.errors == []


@pytest.mark.parametrize("index", [0, 1])
def test_a_stored_run_trained_in_the_browser_matches_pytorch(page, tiny_page, index) -> None:
    """The reader's controls set to a stored run's settings give that run: loss and projected path."""
    document = stored(tiny_page, "tiny-opt")
    run = document.runs[index]
    choice = "momentum" if run.momentum > 0 else run.optimizer
    open_page(page, tiny_page, f"#fig-tiny-opt?yours={choice}&lr={run.lr}" + (f"&m={run.momentum}" if run.momentum else ""))
    until(page, "tiny-opt", "trained")
    got = page.evaluate(SERIES, "tiny-opt")
    assert got["count"] == run.epochs + 1
    loss = np.array(got["loss"])
    relative = np.abs(loss - run.train_loss) / run.train_loss
    assert relative.max() < TOLERANCE, f"{run.name}: largest relative loss difference {relative.max():.2e}"
    path = run.paths[0]
    extent = float(np.ptp(path.coords, axis=0).max())
    coords = np.stack([got["a"], got["b"]], axis=1)
    assert np.abs(coords - path.coords).max() < TOLERANCE * extent, f"{run.name}: path differs by {np.abs(coords - path.coords).max():.2e}"
    assert np.allclose(got["distance"], path.distance, rtol=TOLERANCE, atol=TOLERANCE * extent)
    assert np.allclose(got["accuracy"], run.train_acc, atol=1.5 / len(dataset(tiny_page).train_y))
    assert page.evaluate("window.__csp") == [] and page.errors == []


def test_the_reader_s_settings_go_into_the_address_and_far_paths_are_flagged(page, tiny_page) -> None:
    open_page(page, tiny_page)
    page.click("#fig-tiny-opt .la-lab-open")
    until(page, "tiny-opt", "ready")
    page.select_option("#fig-tiny-opt .la-lab-optimizer", "rmsprop")
    page.click("#fig-tiny-opt .la-lab-train")
    until(page, "tiny-opt", "trained")
    lab = page.evaluate("() => { const l = window.lossarticle.lab('tiny-opt'); return l.settings; }")
    assert lab["choice"] == "rmsprop"
    page.wait_for_selector("#fig-tiny-opt[data-ready=true]")
    page.evaluate("() => window.lossarticle.writeAddress('tiny-opt')")
    assert "yours=rmsprop" in page.url and f"lr={lab['lr']}" in page.url
    got = page.evaluate(SERIES, "tiny-opt")
    # The rule, applied here to the streamed series: out of the picture / distance from the centre.
    document = stored(tiny_page, "tiny-opt")
    lengths = document.planes[0].axis_lengths
    share = [d / math.hypot(math.hypot(a * lengths[0], b * lengths[1]), d) if d > 0 else 0.0
             for a, b, d in zip(got["a"], got["b"], got["distance"])]
    far = [e for e, s in enumerate(share) if s > FAR_FROM_PLANE]
    warning = page.locator("#fig-tiny-opt .la-lab-warning")
    if far:
        assert warning.is_visible() and f"From epoch {far[0]} " in warning.inner_text()
    else:
        assert warning.is_hidden()
    assert page.evaluate("window.__csp") == [] and page.errors == []


def test_roll_the_dice_trains_both_nets_and_places_the_outcome_among_ours(page, tiny_page) -> None:
    open_page(page, tiny_page, "#fig-tiny-skip?dice=7")
    until(page, "tiny-skip", "mapped", timeout_s=60)
    result = page.evaluate("""() => window.lossarticle.lab('tiny-skip').nets.map((n) => ({
        slug: n.net.slug, epochs: n.series.epochs, loss: Array.from(n.series.loss), accuracy: Array.from(n.series.accuracy),
        outcome: n.outcome.dataset.outcome, text: n.outcome.textContent, units: n.units.cells.length,
        resolution: Number(n.map.el.dataset.resolution), mapLoss: Array.from(n.map.shown.map.loss),
        scale: [n.map.shown.scale.low, n.map.shown.scale.high]}))""")
    assert page.locator("#fig-tiny-skip .la-lab-seed").inner_text().startswith("seed 7 ")
    twin = stored(tiny_page, "tiny-dirs")
    mine = stored(tiny_page, "tiny-skip")
    for got, document in zip(result, (twin, mine)):
        assert got["slug"] == document.slug and got["units"] == document.config.depth
        loss, accuracy = np.array([got["loss"]]), np.array([got["accuracy"]])
        expected = ("stuck" if stuck_at_ln3(late(loss))[0] else "fit" if late(accuracy)[0] >= FIT_ACCURACY
                    else "neither")
        assert got["outcome"] == expected
        assert f"like {outcomes(document)[expected]} of our {document.seeds.count}." in got["text"]
        assert got["resolution"] == 41
        # The house's colour-scale rule (a figure's default: its range, clipped, widened when nearly flat).
        house = figure_scale([np.array(got["mapLoss"]).reshape(41, 41)])
        assert np.allclose(got["scale"], [house.low, house.high], rtol=0, atol=1e-9)
    # The same seed gives the same run: a shared link replays it.
    again = page.evaluate("() => Array.from(window.lossarticle.lab('tiny-skip').nets[1].series.loss)")
    open_page(page, tiny_page, "#fig-tiny-skip?dice=7")
    page.reload()
    until(page, "tiny-skip", "mapped", timeout_s=60)
    assert page.evaluate("() => Array.from(window.lossarticle.lab('tiny-skip').nets[1].series.loss)") == again
    assert page.evaluate("window.__csp") == [] and page.errors == []


def test_without_a_script_and_in_print_a_lab_says_what_it_does(browser, tiny_page) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((tiny_page / "index.html").as_uri())
    for slug in ("tiny-opt", "tiny-skip"):
        about = page.locator(f"#fig-{slug} .la-lab-about")
        assert about.is_visible() and about.inner_text().startswith("With JavaScript, this panel ")
        assert page.locator(f"#fig-{slug} .la-lab-open").is_hidden()
    context.close()
    context = browser.new_context()
    page = context.new_page()
    page.goto((tiny_page / "index.html").as_uri())
    page.emulate_media(media="print")
    assert page.locator("#fig-tiny-opt .la-lab-about").is_visible()
    assert page.locator("#fig-tiny-opt .la-lab-open").is_hidden()
    context.close()


# ------------------------------------------------------------------------------------------------ the full registry

# The trainer's API on the main thread (trainer(null)): one stored run again, epoch by epoch, projected as it goes.
TRAIN_RUN = """([sizes, skip, settings, theta0, X, y, plane, epochs]) => {
  const t = window.trainer, network = t.net(sizes, skip), step = t.optimizer(settings.kind, settings);
  const theta = Float64Array.from(theta0), grad = new Float64Array(theta.length), inputs = Float64Array.from(X);
  const on = {origin: Float64Array.from(plane[0]), d1: Float64Array.from(plane[1]), d2: Float64Array.from(plane[2])};
  const out = {loss: [], a: [], b: [], distance: []};
  for (let e = 0; e <= epochs; e++) {
    out.loss.push(t.lossAndGrad(network, theta, inputs, y, grad).loss);
    const p = t.project(on, theta);
    out.a.push(p.a); out.b.push(p.b); out.distance.push(p.distance);
    if (e < epochs) step.step(theta, grad);
  }
  return out;
}"""
SURFACE = """([sizes, skip, plane, xs, ys, X, y]) => {
  const t = window.trainer, on = {origin: Float64Array.from(plane[0]), d1: Float64Array.from(plane[1]),
    d2: Float64Array.from(plane[2])};
  return Array.from(t.surface(t.net(sizes, skip), on, Float64Array.from(xs), Float64Array.from(ys), Float64Array.from(X), y).loss);
}"""
SURFACE_EVERY = 4  # every fourth grid line of the stored true view each way: a 26 x 26 sample of its 101 x 101


def test_the_optimizers_runs_trained_by_the_page_s_trainer_follow_the_stored_ones(browser, full_data_dir) -> None:
    experiment = next(e for e in EXPERIMENTS if e.lab == "your-run")
    document = read_experiment(experiment_path(full_data_dir, experiment.slug), experiment)
    data = read_dataset(full_data_dir / DATASET_FILE, experiment.data)
    weights, net = document.lab_weights, net_spec(document)
    plane = [weights.origin.tolist(), weights.d1.tolist(), weights.d2.tolist()]
    X, y = data.train_x.ravel().astype(float).tolist(), data.train_y.tolist()
    page = browser.new_page()
    page.add_script_tag(content="window.lossarticle = {registerTrainer: (f) => { window.trainer = f(null); }};")
    page.add_script_tag(content=trainer_script(TEMPLATES))
    for run in document.runs:
        fitted = fit_epoch(run.train_acc)
        window = run.epochs if fitted is None else fitted  # after the fit, training is chaotic (module docstring)
        got = page.evaluate(TRAIN_RUN, [net["sizes"], net["skip"], run_settings(run), weights.theta0.tolist(), X, y,
                                        plane, window])
        loss = np.array(got["loss"])
        relative = np.abs(loss - run.train_loss[:window + 1]) / run.train_loss[:window + 1]
        assert relative.max() < TOLERANCE, f"{run.name}: loss differs by {relative.max():.1e} relative up to epoch {window}"
        path = run.paths[0]
        extent = float(np.ptp(path.coords, axis=0).max())
        coords = np.stack([got["a"], got["b"]], axis=1)
        moved = max(np.abs(coords - path.coords[:window + 1]).max(),
                    np.abs(np.array(got["distance"]) - path.distance[:window + 1]).max()) / extent
        assert moved < TOLERANCE, f"{run.name}: path differs by {moved:.1e} of its extent up to epoch {window}"
    surface = document.planes[0].view("true").surface
    xs, ys = surface.x[::SURFACE_EVERY], surface.y[::SURFACE_EVERY]
    loss = np.array(page.evaluate(SURFACE, [net["sizes"], net["skip"], plane, xs.astype(float).tolist(),
                                            ys.astype(float).tolist(), X, y])).reshape(len(ys), len(xs))
    stored_loss = surface.loss[::SURFACE_EVERY, ::SURFACE_EVERY]
    finite = np.isfinite(stored_loss)
    relative = np.abs(loss[finite] - stored_loss[finite]) / stored_loss[finite]
    assert finite.sum() > 0.9 * finite.size and relative.max() < TOLERANCE, f"surface differs by {relative.max():.1e}"
    page.close()
