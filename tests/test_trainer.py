"""The in-browser trainer (templates/assets/trainer/, joined by lossarticle/trainer_script.py) against PyTorch and
the Python pipeline, in Debian's headless Chromium.

Every comparison is float64 against float64: the trainer computes in doubles, and so do the oracles here, so the
tolerances only allow for a different order of summation (and, for the optimizers, torch's fused multiply-adds).
"""
from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from lossarticle.configs import DataConfig, Run
from lossarticle.data import load_spirals
from lossarticle.directions import Plane, pca_directions
from lossarticle.errors import ContentError
from lossarticle.models import Architecture, cross_entropy, dead_layers, forward
from lossarticle.project import project_path
from lossarticle.surface import symmetric_axis
from lossarticle.train import make_optimizer
from lossarticle.trainer_script import TRAINER_PARTS, trainer_script

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
CSP = "default-src 'none'; script-src 'self'; worker-src blob:"

browser_test = pytest.mark.browser


# ------------------------------------------------------------------------------------------------ the join


def test_parts_are_joined_in_order_inside_one_function() -> None:
    script = trainer_script(TEMPLATES)
    assert script.startswith("/* lossarticle's in-browser trainer, joined from templates/assets/trainer/")
    assert "\nwindow.lossarticle.registerTrainer(function trainer(scope) {\n  \"use strict\";\n" in script
    banners = [script.index(f"/* ---- trainer/{name} */") for name in TRAINER_PARTS]
    assert banners == sorted(banners)
    assert script.rstrip().endswith("return api;  // the object of pure functions worker.js lists\n});")


@pytest.mark.parametrize(("change", "message"), [
    (lambda folder: (folder / "net.js").unlink(), "templates/assets/trainer/net.js: missing"),
    (lambda folder: (folder / "extra.js").write_text("", encoding="utf-8"),
     "templates/assets/trainer/extra.js: not in the trainer's order"),
])
def test_a_part_missing_or_unlisted_names_the_file(tmp_path: Path, change: Any, message: str) -> None:
    folder = tmp_path / "templates" / "assets" / "trainer"
    shutil.copytree(TEMPLATES / "assets" / "trainer", folder)
    change(folder)
    with pytest.raises(ContentError, match=message):
        trainer_script(tmp_path / "templates")


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """A blank page whose window.api is trainer(null): the trainer's functions on the main thread."""
    page = browser.new_page()
    page.set_content("<!doctype html><html></html>")
    page.evaluate("() => { window.lossarticle = {registerTrainer: (f) => { window.trainerFactory = f; }}; }")
    page.add_script_tag(content=trainer_script(TEMPLATES))
    page.evaluate("() => { window.api = trainerFactory(null); }")
    yield page
    page.close()


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n random points in [-2, 2]² with random labels of 3 classes."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (n, 2)), rng.integers(0, 3, n)


def random_theta(arch: Architecture, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.8, 0.8, arch.num_params)


def torch_loss(arch: Architecture, theta: torch.Tensor, x: np.ndarray, y: np.ndarray) -> torch.Tensor:
    """The pipeline's training loss (models.forward, models.cross_entropy) in float64."""
    return cross_entropy(forward(arch, theta, torch.as_tensor(x, dtype=torch.float64)), torch.as_tensor(y))


def exact_accuracy(logits: torch.Tensor, y: np.ndarray) -> float:
    """models.accuracy's rule (the first largest logit) as a float64 share; models.accuracy rounds to float32."""
    return (logits.max(dim=-1).indices == torch.as_tensor(y)).double().mean().item()


def relative_error(got: Any, want: Any) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# ------------------------------------------------------------------------------------------------ the numerics

LOSS_AND_GRAD = """([sizes, skip, theta, X, y]) => {
  const network = api.net(sizes, skip), grad = new Float64Array(network.params);
  const result = api.lossAndGrad(network, Float64Array.from(theta), Float64Array.from(X), Uint8Array.from(y), grad);
  return {loss: result.loss, accuracy: result.accuracy, grad: Array.from(grad), live: Array.from(result.live)};
}"""


@browser_test
@pytest.mark.parametrize(("sizes", "skip"), [((2, 4, 4, 3), False), ((2, 3, 3, 3, 3), True), ((2, 3), False)])
def test_loss_and_gradient_match_torch_autograd(page: Any, sizes: tuple[int, ...], skip: bool) -> None:
    # 1e-10 relative: both sides sum the same float64 products in different orders (~1e-16 each).
    arch = Architecture(sizes, skip)
    x, y = data(23, 1)
    theta = torch.tensor(random_theta(arch, 2), requires_grad=True)
    loss = torch_loss(arch, theta, x, y)
    loss.backward()
    got = page.evaluate(LOSS_AND_GRAD, [list(sizes), skip, theta.tolist(), x.ravel().tolist(), y.tolist()])
    assert got["loss"] == pytest.approx(loss.item(), rel=1e-12)
    assert got["accuracy"] == exact_accuracy(forward(arch, theta.detach(), torch.as_tensor(x)), y)
    assert relative_error(got["grad"], theta.grad) < 1e-10


OPTIMIZER_STEPS = """([sizes, theta, X, y, kind, settings, steps]) => {
  const network = api.net(sizes, false), weights = Float64Array.from(theta), grad = new Float64Array(network.params);
  const optimizer = api.optimizer(kind, settings), path = [];
  for (let i = 0; i < steps; i++) {
    api.lossAndGrad(network, weights, Float64Array.from(X), Uint8Array.from(y), grad);
    optimizer.step(weights, grad);
    path.push(Array.from(weights));
  }
  return path;
}"""


def torch_optimizer(name: str, theta: torch.Tensor) -> tuple[torch.optim.Optimizer, str, dict[str, float]]:
    """The pipeline's optimizer (train.make_optimizer; Adam β1 = 0.5 straight from torch.optim) and its JS twin."""
    if name == "adam-beta1-0.5":
        return torch.optim.Adam([theta], lr=0.05, betas=(0.5, 0.999), foreach=False), "adam", {"lr": 0.05,
                                                                                               "beta1": 0.5}
    run = {"adam": Run("adam", "adam", lr=0.05), "sgd": Run("sgd", "sgd", lr=0.5),
           "momentum": Run("momentum", "sgd", lr=0.1, momentum=0.9),
           "rmsprop": Run("rmsprop", "rmsprop", lr=0.01)}[name]
    return make_optimizer(run, [theta]), run.optimizer, {"lr": run.lr, "momentum": run.momentum}


@browser_test
@pytest.mark.parametrize("name", ["adam", "adam-beta1-0.5", "sgd", "momentum", "rmsprop"])
def test_thirty_optimizer_steps_match_torch_optim(page: Any, name: str) -> None:
    # 1e-9 relative: each step's gradient agrees to ~1e-15; torch fuses some multiply-adds; 30 steps compound it.
    arch = Architecture((2, 8, 8, 3), False)
    x, y = data(60, 3)
    theta = torch.tensor(random_theta(arch, 4), requires_grad=True)
    optimizer, kind, settings = torch_optimizer(name, theta)
    want = []
    for _ in range(30):
        optimizer.zero_grad()
        torch_loss(arch, theta, x, y).backward()
        optimizer.step()
        want.append(theta.detach().clone().numpy())
    start = random_theta(arch, 4).tolist()
    got = page.evaluate(OPTIMIZER_STEPS, [list(arch.sizes), start, x.ravel().tolist(), y.tolist(), kind, settings, 30])
    assert relative_error(got, np.stack(want)) < 1e-9
    assert relative_error(got[-1], start) > 1e-2  # the steps moved θ: a test of something


@browser_test
def test_projection_matches_project_path(page: Any) -> None:
    # 1e-10: the 2 × 2 system is well conditioned; Cramer's rule here, LU in numpy.
    rng = np.random.default_rng(5)
    origin, d1, thetas = rng.normal(size=40), rng.normal(size=40), rng.normal(size=(25, 40))
    d2 = 0.6 * d1 + rng.normal(size=40)  # neither orthogonal to d1 nor of unit length
    want = project_path(thetas, Plane("random", origin, d1, d2, None, ("", "")))
    got = page.evaluate("""([origin, d1, d2, thetas]) => {
      const plane = {origin: Float64Array.from(origin), d1: Float64Array.from(d1), d2: Float64Array.from(d2)};
      return thetas.map((theta) => api.project(plane, Float64Array.from(theta)));
    }""", [origin.tolist(), d1.tolist(), d2.tolist(), thetas.tolist()])
    assert relative_error([[g["a"], g["b"]] for g in got], want.coords) < 1e-10
    assert relative_error([g["distance"] for g in got], want.distance) < 1e-10


PCA = """([rows, origin]) => {
  const start = performance.now();
  const result = api.pca(rows.map((row) => Float64Array.from(row)), Float64Array.from(origin));
  return {d1: Array.from(result.d1), d2: Array.from(result.d2), shares: result.shares, ms: performance.now() - start};
}"""


def path_with_spectrum(singular: list[float], rows: int, params: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A path whose offsets from its origin have exactly the singular values ``singular``."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.normal(size=(rows, len(singular))))[0]
    v = np.linalg.qr(rng.normal(size=(params, len(singular))))[0]
    origin = rng.normal(size=params)
    return origin + (u * singular) @ v.T, origin


@browser_test
@pytest.mark.parametrize(("singular", "rows", "params"), [
    ([10, 3, 2.9, 1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.01, 0.005, 0.001], 401, 603),  # close 2nd and 3rd
    ([5, 4, 1, 0.5, 0.1, 0.05, 0.01, 0.01, 0.01, 0.01], 50, 12),  # more snapshots than parameters
])
def test_pca_matches_pca_directions(page: Any, singular: list[float], rows: int, params: int) -> None:
    # 1e-8: eigenvectors of the Gram matrix err by ~eps·λ₁/(λ₂ − λ₃), 1e-14 here; ARPACK's by as little.
    path, origin = path_with_spectrum(singular, rows, params, 6)
    d1, d2, shares = pca_directions(path, origin)
    got = page.evaluate(PCA, [path.tolist(), origin.tolist()])
    assert np.max(np.abs(np.array(got["d1"]) - d1)) < 1e-8  # signs included: same rule on both sides
    assert np.max(np.abs(np.array(got["d2"]) - d2)) < 1e-8
    assert got["shares"] == pytest.approx(list(shares), abs=1e-8)
    print(f"\npca of {rows} x {params} in the browser: {got['ms']:.0f} ms")


@browser_test
def test_pca_of_a_trained_path_matches_pca_directions(page: Any) -> None:
    path = np.array(page.evaluate("""() => {
      const network = api.net([2, 8, 8, 3], false), theta = api.initParams(network, 9);
      const X = Float64Array.from({length: 200}, (_, i) => Math.sin(i * 1.7) * 2), y = Uint8Array.from({length: 100},
        (_, i) => i % 3), grad = new Float64Array(network.params), optimizer = api.optimizer("adam", {lr: 0.02});
      const rows = [];
      for (let e = 0; e <= 150; e++) {
        api.lossAndGrad(network, theta, X, y, grad);
        rows.push(Array.from(theta));
        optimizer.step(theta, grad);
      }
      return rows;
    }"""))
    d1, d2, shares = pca_directions(path, path[-1])
    got = page.evaluate(PCA, [path.tolist(), path[-1].tolist()])
    assert np.max(np.abs(np.array(got["d1"]) - d1)) < 1e-8
    assert np.max(np.abs(np.array(got["d2"]) - d2)) < 1e-8
    assert got["shares"] == pytest.approx(list(shares), abs=1e-8)


@browser_test
@pytest.mark.parametrize(("values", "margin", "resolution"), [([0.3, -1.7, 0.2], 0.25, 41), ([], 0.25, 21),
                                                               ([2.5e-3, 1e-3], 0.1, 8)])
def test_symmetric_axis_is_surface_symmetric_axis(page: Any, values: list[float], margin: float,
                                                  resolution: int) -> None:
    got = page.evaluate("([v, m, r]) => Array.from(api.symmetricAxis(v, m, r))", [values, margin, resolution])
    assert got == symmetric_axis(np.array(values), margin, resolution).tolist()  # the same operations: exact


@browser_test
def test_surface_is_stored_rows_y_on_a_lopsided_grid(page: Any) -> None:
    # 1e-12 relative: a float64 forward on both sides; θ = origin + a·d1 + b·d2 rounds alike.
    arch = Architecture((2, 4, 4, 4, 3), True)
    x, y = data(50, 7)
    origin, d1, d2 = (random_theta(arch, seed) for seed in (8, 9, 10))
    xs, ys = np.linspace(-1.5, 0.7, 7), np.linspace(-0.3, 1.1, 5)  # not square, not symmetric
    want_loss, want_acc = np.empty((5, 7)), np.empty((5, 7))
    for iy, b in enumerate(ys):
        for ix, a in enumerate(xs):
            logits = forward(arch, torch.as_tensor(origin + a * d1 + b * d2), torch.as_tensor(x))
            want_loss[iy, ix] = cross_entropy(logits, torch.as_tensor(y)).item()
            want_acc[iy, ix] = exact_accuracy(logits, y)
    got = page.evaluate("""([sizes, origin, d1, d2, xs, ys, X, y]) => {
      const plane = {origin: Float64Array.from(origin), d1: Float64Array.from(d1), d2: Float64Array.from(d2)};
      const result = api.surface(api.net(sizes, true), plane, xs, ys, Float64Array.from(X), Uint8Array.from(y));
      return {loss: Array.from(result.loss), accuracy: Array.from(result.accuracy)};
    }""", [list(arch.sizes), origin.tolist(), d1.tolist(), d2.tolist(), xs.tolist(), ys.tolist(), x.ravel().tolist(),
           y.tolist()])
    assert relative_error(np.reshape(got["loss"], (5, 7)), want_loss) < 1e-12
    assert np.array_equal(np.reshape(got["accuracy"], (5, 7)), want_acc)
    assert len(np.unique(want_loss.round(8))) == 35  # lopsided: no two grid points agree, so a transpose would show


@browser_test
def test_regions_are_the_argmax_on_the_input_grid(page: Any) -> None:
    arch = Architecture((2, 6, 6, 3), False)
    theta = random_theta(arch, 11) * 2
    xs, ys = np.linspace(-2, 1.5, 9), np.linspace(-1, 2, 6)
    gx, gy = np.meshgrid(xs, ys)
    logits = forward(arch, torch.as_tensor(theta), torch.as_tensor(np.column_stack([gx.ravel(), gy.ravel()])))
    want = logits.max(dim=-1).indices.numpy().reshape(6, 9)
    got = page.evaluate("([sizes, theta, xs, ys]) => Array.from(api.regions(api.net(sizes, false), "
                        "Float64Array.from(theta), xs, ys))", [list(arch.sizes), theta.tolist(), xs.tolist(),
                                                                ys.tolist()])
    assert np.array_equal(np.reshape(got, (6, 9)), want)
    assert len(np.unique(want)) > 1


@browser_test
def test_live_units_count_what_dead_layers_sees(page: Any) -> None:
    arch = Architecture((2, 6, 6, 6, 3), False)
    x, _ = data(40, 12)
    theta = random_theta(arch, 13)
    (_, b1, _, _), (w2, b2, _, inp2), (w3, b3, _, _) = arch.weight_slices[:3]
    theta[b1.start:b1.start + 2] = -100  # two dead units in the first hidden layer
    theta[w2.start:w2.start + inp2], theta[b2.start] = 0.0, 1e-12  # a unit barely alive: 1e-12 for every input
    theta[w3], theta[b3] = 0.0, -1.0  # the whole third layer dead
    outputs: list[torch.Tensor] = []
    forward(arch, torch.as_tensor(theta), torch.as_tensor(x), hidden=outputs)
    want = [int((a != 0).any(dim=0).sum()) for a in outputs]
    got = page.evaluate("([sizes, theta, X]) => Array.from(api.liveUnits(api.net(sizes, false), "
                        "Float64Array.from(theta), Float64Array.from(X)))", [list(arch.sizes), theta.tolist(),
                                                                              x.ravel().tolist()])
    assert got == want
    assert want[0] <= 4 and want[1] >= 1 and want[2] == 0
    dead = dead_layers(arch, torch.as_tensor(theta), torch.as_tensor(x)).tolist()
    assert dead == [count == 0 for count in got]
    train_live = page.evaluate(LOSS_AND_GRAD, [list(arch.sizes), False, theta.tolist(), x.ravel().tolist(),
                                               [0] * len(x)])["live"]
    assert train_live == want  # lossAndGrad counts the same units


# ------------------------------------------------------------------------------------------------ initialization

MASK = 0xFFFFFFFF


def rotate_left(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & MASK


def python_uniforms(seed: int) -> Iterator[float]:
    """random.js's generator transcribed from the C references: splitmix32 (MurmurHash3's fmix32 over a Weyl
    sequence) seeding xoshiro128** 1.1 (prng.di.unimi.it/xoshiro128starstar.c), output / 2³²."""
    counter, state = seed, []
    for _ in range(4):
        counter = (counter + 0x9E3779B9) & MASK
        z = ((counter ^ (counter >> 16)) * 0x85EBCA6B) & MASK
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK
        state.append(z ^ (z >> 16))
    s0, s1, s2, s3 = state
    while True:
        result = (rotate_left((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 9) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate_left(s3, 11)
        yield result / 2 ** 32


def python_init(arch: Architecture, seed: int) -> list[float]:
    uniforms = python_uniforms(seed)
    return [1 / math.sqrt(inp) * (2 * next(uniforms) - 1) for w, b, out, inp in arch.weight_slices
            for _ in range(out * inp + out)]


@browser_test
def test_init_params_is_the_documented_generator(page: Any) -> None:
    arch = Architecture((2, 20, 20, 3), False)
    got = {seed: page.evaluate("([sizes, seed]) => Array.from(api.initParams(api.net(sizes, false), seed))",
                               [list(arch.sizes), seed]) for seed in (0, 1, 4294967295)}
    for seed, theta in got.items():
        assert theta == python_init(arch, seed)  # integer arithmetic and one product: exact in every browser
        for w, b, _, inp in arch.weight_slices:
            bound = 1 / math.sqrt(inp)
            for part in (np.array(theta[w]), np.array(theta[b])):
                assert np.all(np.abs(part) <= bound)
                if len(part) >= 20:  # enough draws to reach both halves of the range
                    assert part.max() > 0.5 * bound and part.min() < -0.5 * bound
    assert got[0] != got[1] != got[4294967295]
    again = page.evaluate("([sizes]) => Array.from(trainerFactory(null).initParams(trainerFactory(null).net(sizes, "
                          "false), 0))", [list(arch.sizes)])
    assert again == got[0]  # a fresh trainer: no state carried between calls
    assert "must be an integer" in page.evaluate("() => { try { api.initParams(api.net([2, 3], false), 1.5); } "
                                                 "catch (e) { return e.message; } }")


# ------------------------------------------------------------------------------------------------ the worker

HARNESS = """window.lossarticle = {registerTrainer: (f) => { window.trainerFactory = f; }};
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective + " " + e.blockedURI));
"""

# Starts the worker as the page will, sends the requests, and collects every message until the answer to the last
# request (a final map, or an error), or fails at the deadline; typed arrays come back as plain arrays.
TALK = """async ([requests, deadline]) => {
  const source = "(" + trainerFactory + ")(self)";
  const worker = new Worker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})));
  const messages = [];
  const plain = (v) => ArrayBuffer.isView(v) ? Array.from(v) : Array.isArray(v) ? v.map(plain)
    : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no final map within " + deadline + " ms")), deadline);
    worker.onmessage = (e) => {
      messages.push(plain(e.data));
      const answered = e.data.id === requests[requests.length - 1].id && (e.data.type === "error" || e.data.final);
      if (answered) { clearTimeout(timer); resolve(); }
    };
    worker.onerror = (e) => reject(new Error("worker: " + e.message));
    for (const request of requests) worker.postMessage(request);
  });
  worker.terminate();
  return {messages, violations};
}"""

# The same runs on the main thread through the API: rows and regions as the worker should stream them.
MAIN_THREAD = """([runs, map]) => {
  const rows = [], results = runs.map((r) => {
    const network = api.net(r.sizes, r.skip), grad = new Float64Array(network.params);
    const theta = r.theta0 ? Float64Array.from(r.theta0) : api.initParams(network, r.seed);
    const {kind, ...settings} = r.optimizer, optimizer = api.optimizer(kind, settings);
    const plane = r.plane && {origin: Float64Array.from(r.plane.origin), d1: Float64Array.from(r.plane.d1),
      d2: Float64Array.from(r.plane.d2)};
    const out = {loss: [], accuracy: [], norm: [], live: [], a: [], b: [], distance: [], regions: {}, rows: []};
    for (let e = 0; e <= r.epochs; e++) {
      const result = api.lossAndGrad(network, theta, r.X, r.y, grad);
      if (!Number.isFinite(result.loss) || !Number.isFinite(api.norm(theta))) break;
      out.rows.push(Float64Array.from(theta));
      out.loss.push(result.loss); out.accuracy.push(result.accuracy); out.norm.push(api.norm(theta));
      out.live.push(...result.live);
      if (plane) {
        const p = api.project(plane, theta);
        out.a.push(p.a); out.b.push(p.b); out.distance.push(p.distance);
      }
      if (r.regions) out.regions[e] = Array.from(api.regions(network, theta, r.regions.xs, r.regions.ys));
      if (e < r.epochs) optimizer.step(theta, grad);
    }
    rows.push(...out.rows);
    return out;
  });
  const origin = results[0].rows[results[0].rows.length - 1], pca = api.pca(rows, origin);
  const plane = {origin, d1: pca.d1, d2: pca.d2}, network = api.net(runs[0].sizes, runs[0].skip);
  return {results: results.map(({rows, ...rest}) => rest), shares: pca.shares,
    paths: results.map((r) => r.rows.map((theta) => api.project(plane, theta))),
    rows: rows.map((row) => Array.from(row)), centre: api.evaluate(network, origin, runs[0].X, runs[0].y).loss};
}"""


def worker_page(browser: Any, tmp_path: Path) -> Any:
    """A page from file:// under the site's CSP that loads the joined trainer as a script file, with window.api."""
    (tmp_path / "trainer.js").write_text(trainer_script(TEMPLATES), encoding="utf-8")
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<script src="harness.js"></script><script src="trainer.js"></script></head><body></body></html>',
        encoding="utf-8")
    page = browser.new_page()
    page.goto((tmp_path / "index.html").as_uri())
    page.evaluate("() => { window.api = trainerFactory(null); }")
    return page


def stream_of(messages: list[dict[str, Any]], run_id: Any) -> dict[str, Any]:
    """A run's "epochs" batches joined, after checking that they arrive in order with no gap."""
    batches = [m for m in messages if m["type"] == "epochs" and m["id"] == run_id]
    joined: dict[str, Any] = {"batches": len(batches)}
    for batch in batches:
        assert batch["first"] == len(joined.get("loss", []))  # contiguous, in order
        for key in ("loss", "accuracy", "norm", "live", "a", "b", "distance"):
            joined.setdefault(key, []).extend(batch.get(key, []))
    return joined


@browser_test
def test_worker_streams_what_the_api_computes_and_maps_the_runs(browser: Any, tmp_path: Path) -> None:
    x, y = data(150, 14)
    sizes, grid = [2, 8, 8, 3], {"xs": np.linspace(-2, 2, 12).tolist(), "ys": np.linspace(-2, 2, 7).tolist()}
    rng = np.random.default_rng(15)
    plane = {key: rng.normal(size=Architecture(tuple(sizes), False).num_params).tolist()
             for key in ("origin", "d1", "d2")}
    common = {"type": "train", "sizes": sizes, "skip": False, "X": x.ravel().tolist(), "y": y.tolist()}
    runs = [{**common, "id": "adam", "seed": 3, "optimizer": {"kind": "adam", "lr": 0.02}, "epochs": 300,
             "plane": plane, "regions": {**grid, "every": 40}},
            {**common, "id": "momentum", "theta0": random_theta(Architecture(tuple(sizes), False), 16).tolist(),
             "optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, "epochs": 40},
            {**common, "id": "blown", "seed": 3, "optimizer": {"kind": "sgd", "lr": 1e300}, "epochs": 30,
             "regions": {**grid, "every": 7}}]
    map_request = {"type": "map", "id": "map", "runs": ["adam", "momentum"], "resolution": 31, "margin": 0.25,
                   "coarse": 15}

    page = worker_page(browser, tmp_path)
    talk = page.evaluate(TALK, [[*runs, map_request], 20000])
    messages = talk["messages"]
    want = page.evaluate(MAIN_THREAD, [runs[:2], map_request])
    blown = page.evaluate(MAIN_THREAD, [[runs[2]], map_request])["results"][0]
    page.close()

    assert talk["violations"] == []  # the Blob worker runs under the page's CSP
    assert [m for m in messages if m["type"] == "error"] == []
    for run, expected in zip(runs, [*want["results"], blown]):
        stream = stream_of(messages, run["id"])
        # The same code on the same engine in the same order: equal to the last bit.
        for key in ("loss", "accuracy", "norm", "live", *(("a", "b", "distance") if "plane" in run else ())):
            assert stream[key] == expected[key], (run["id"], key)
        done = [m for m in messages if m["type"] == "done" and m["id"] == run["id"]]
        assert done == [{"type": "done", "id": run["id"], "epochs": len(expected["loss"]) - 1,
                         "diverged": run["id"] == "blown"}]
        regions = {m["epoch"]: m["label"] for m in messages if m["type"] == "regions" and m["id"] == run["id"]}
        if "regions" in run:
            last = len(expected["loss"]) - 1
            assert sorted(regions) == sorted({*range(0, last + 1, run["regions"]["every"]), last})
            assert all(label == expected["regions"][str(epoch)] for epoch, label in regions.items())
        print(f"\nworker run {run['id']}: {len(expected['loss'])} rows in {stream['batches']} epochs message(s)")
    assert len(stream_of(messages, "adam")["loss"]) == 301
    assert 0 < len(stream_of(messages, "blown")["loss"]) < 31  # stopped at the first non-finite loss

    maps = [m for m in messages if m["type"] == "map"]
    assert [(m["resolution"], m["final"]) for m in maps] == [(15, False), (31, True)]
    rows = np.array(want["rows"])
    d1, d2, shares = pca_directions(rows, rows[300])  # origin: the first run's last snapshot
    every_point = []
    for got_path, want_path in zip(maps[-1]["paths"], want["paths"]):
        assert got_path == {key: [p[key] for p in want_path] for key in ("a", "b", "distance")}
        every_point += got_path["a"] + got_path["b"]
    for m in maps:
        axis = symmetric_axis(np.array(every_point), 0.25, m["resolution"]).tolist()
        assert m["xs"] == axis and m["ys"] == axis  # square, true proportions, as surface.view_axes draws it
        assert m["shares"] == pytest.approx(list(shares), abs=1e-8) and m["shares"] == want["shares"]
        assert np.max(np.abs(np.array(m["plane"]["d1"]) - d1)) < 1e-8
        assert np.max(np.abs(np.array(m["plane"]["d2"]) - d2)) < 1e-8
        centre = (m["resolution"] // 2) * (m["resolution"] + 1)
        assert m["loss"][centre] == want["centre"]  # the middle grid point is exactly the origin
        assert len(m["loss"]) == len(m["accuracy"]) == m["resolution"] ** 2


@browser_test
def test_worker_answers_a_bad_request_with_an_error_and_goes_on(browser: Any, tmp_path: Path) -> None:
    page = worker_page(browser, tmp_path)
    train = {"type": "train", "id": 1, "sizes": [2, 3], "skip": False, "seed": 0, "X": [0.5, -0.5], "y": [0],
             "optimizer": {"kind": "adam", "lr": 0.1}, "epochs": 2}
    lost = {"type": "map", "id": 7, "runs": ["never-trained"], "resolution": 21, "margin": 0.25}
    default_coarse = {"type": "map", "id": 8, "runs": [1], "resolution": 23, "margin": 0.25}
    messages = page.evaluate(TALK, [[train, lost, default_coarse], 20000])["messages"]
    last = page.evaluate(TALK, [[lost], 20000])["messages"]  # an error answers the last request too
    page.close()
    assert {"type": "error", "id": 7, "message": 'map: no finished run "never-trained"'} in messages
    assert [m["resolution"] for m in messages if m["type"] == "map"] == [21, 23]  # COARSE_RESOLUTION first
    assert last == [{"type": "error", "id": 7, "message": 'map: no finished run "never-trained"'}]


# ------------------------------------------------------------------------------------------------ timings

TIMINGS = """([X, y]) => {
  const optimizer = api.optimizer("adam", {lr: 0.005}), wide = api.net([2, 20, 20, 3], false);
  const theta = api.initParams(wide, 0), grad = new Float64Array(wide.params);
  let start = performance.now();
  for (let e = 0; e <= 400; e++) {
    api.lossAndGrad(wide, theta, X, y, grad);
    if (e < 400) optimizer.step(theta, grad);
  }
  const train = performance.now() - start;
  const deep = api.net([2, ...Array(20).fill(5), 3], false);
  const plane = {origin: api.initParams(deep, 1), d1: api.initParams(deep, 2), d2: api.initParams(deep, 3)};
  const axis = api.symmetricAxis([1], 0.25, 41);
  start = performance.now();
  api.surface(deep, plane, axis, axis, X, y);
  return {train, surface: performance.now() - start, n: y.length, params: deep.params};
}"""


@browser_test
def test_print_timings(page: Any) -> None:
    """Not a check: how long a reader waits, measured in the browser (the 2-core machine: BENCHMARKS.md)."""
    spirals = load_spirals(DataConfig())
    got = page.evaluate("([X, y]) => { window.timingData = [Float64Array.from(X), Uint8Array.from(y)]; }",
                        [spirals.x_train.astype(np.float64).ravel().tolist(), spirals.y_train.tolist()])
    assert got is None
    got = page.evaluate(f"() => ({TIMINGS})(timingData)")
    print(f"\n400 epochs of [2, 20, 20, 3] on {got['n']} points: {got['train']:.0f} ms; "
          f"41 x 41 surface of the 20 x 5 net ({got['params']} parameters): {got['surface']:.0f} ms")
