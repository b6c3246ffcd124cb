"""``make bench``: how fast the compute pipeline runs on this machine, stage by stage.

The figures of merit are effective GFLOP/s (matmul FLOPs over wall time) of training
and of the surfaces, each divided by the fp32 GEMM throughput measured here, in this
process, just before. Training FLOPs are counted by ``train.training_flops``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from lossarticle.configs import EXPERIMENTS, Experiment
from lossarticle.data import load_spirals
from lossarticle.pipeline import ExperimentResult, compute_experiment, sync


@dataclass(frozen=True)
class Row:
    """One experiment's timings."""

    slug: str
    seeds: int  # initializations trained together per run
    train_s: float
    model_epochs_per_s: float  # networks x epochs trained per second, every run and seed
    train_gflops: float  # effective training GFLOP/s
    surface_s: float
    regions_s: float
    gflops: float  # effective surface GFLOP/s
    peak_mib: float  # peak resident memory (CPU) or allocated memory (CUDA) during the experiment


def bench_registry(only: tuple[str, ...] = (), one_seed: bool = False,
                   experiments: tuple[Experiment, ...] = EXPERIMENTS) -> tuple[Experiment, ...]:
    """The experiments to time: those ``only`` names (all when it names none), with one seed each if asked."""
    chosen = tuple(e for e in experiments if not only or e.slug in only)
    return tuple(replace(e, seeds=1) for e in chosen) if one_seed else chosen


def gemm_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Best-of fp32 ``n×n @ n×n`` throughput on ``device``."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def reset_peak(device: torch.device) -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def peak_mib(device: torch.device) -> float:
    """Peak memory since :func:`reset_peak`, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_experiment(experiment: Experiment, data, device: torch.device) -> tuple[Row, ExperimentResult]:
    """Compute one experiment and time its stages."""
    reset_peak(device)
    result = compute_experiment(experiment, data, device)
    t = result.timings
    return Row(experiment.slug, experiment.seeds, t.train_s, t.model_epochs / t.train_s,
               t.train_flops / t.train_s / 1e9, t.surface_s, t.regions_s, t.surface_flops / t.surface_s / 1e9,
               peak_mib(device)), result


HEADER = (f"{'experiment':18s} {'seeds':>5s} {'train s':>8s} {'ep/s':>7s} {'GFLOP/s':>8s} {'ratio':>6s} "
          f"{'surface s':>9s} {'GFLOP/s':>8s} {'ratio':>6s} {'regions s':>9s} {'peak MiB':>9s}")


def row_line(slug: str, seeds: str, train_s: float, epochs_per_s: float, train_gflops: float, surface_s: float,
             surface_gflops: float, regions_s: float, peak: float, gemm: float) -> str:
    """One line of the table; ``ep/s`` is model-epochs (networks x epochs) trained per second."""
    return (f"{slug:18s} {seeds:>5s} {train_s:8.2f} {epochs_per_s:7.0f} {train_gflops:8.1f} "
            f"{train_gflops / gemm:6.2f} {surface_s:9.2f} {surface_gflops:8.1f} {surface_gflops / gemm:6.2f} "
            f"{regions_s:9.2f} {peak:9.0f}")


def run_bench(device: torch.device, experiments: tuple[Experiment, ...] = EXPERIMENTS,
              echo: Callable[[str], None] = print) -> list[Row]:
    """Print the table; the total includes data loading and device start-up."""
    start = time.perf_counter()
    if device.type == "cuda":
        torch.zeros(1, device=device)  # CUDA context creation counts against the goal
    data = load_spirals(experiments[0].data)
    peak = gemm_gflops(device)
    echo(f"device {device.type} ({_device_name(device)}), torch {torch.__version__}, "
         f"{torch.get_num_threads()} threads; fp32 GEMM 2048³: {peak:.1f} GFLOP/s")
    echo(HEADER)
    rows, results = [], []
    for experiment in experiments:
        row, result = bench_experiment(experiment, data, device)
        rows.append(row)
        results.append(result.timings)
        echo(row_line(row.slug, str(row.seeds), row.train_s, row.model_epochs_per_s, row.train_gflops,
                      row.surface_s, row.gflops, row.regions_s, row.peak_mib, peak))
    train_s, surface_s = sum(r.train_s for r in rows), sum(r.surface_s for r in rows)
    echo(row_line("total", "", train_s, sum(t.model_epochs for t in results) / train_s,
                  sum(t.train_flops for t in results) / train_s / 1e9, surface_s,
                  sum(t.surface_flops for t in results) / surface_s / 1e9, sum(r.regions_s for r in rows),
                  max(r.peak_mib for r in rows), peak))
    echo(f"training + surfaces: {train_s + surface_s:.1f} s; whole compute run, start-up and regions "
         f"included: {time.perf_counter() - start:.1f} s")
    return rows


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return Path("/proc/cpuinfo").read_text().split("model name")[1].split(":")[1].split("\n")[0].strip() \
        if Path("/proc/cpuinfo").exists() else "cpu"


# ---------------------------------------------------------------- the reader's side

STEP = """([slug, value]) => {
  const slider = document.querySelector(`#fig-${slug}-epoch`);
  if (value < 0) return;  // the baseline: the same evaluate() round trip, no step
  slider.value = String(value);
  slider.dispatchEvent(new Event("input", {bubbles: true}));
}"""


def step_costs(page, cdp, slug: str, steps: int, baseline: bool = False) -> list[float]:
    """Main-thread task time (ms) per slider step, from Chromium's own TaskDuration counter.

    Everything the renderer's main thread did in the 80 ms after the input event is
    counted: our handler, Bokeh's throttled repaint, style, layout and paint recording,
    and anything else that happened to run (an upper bound, not a best case).
    """
    def task_seconds() -> float:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "TaskDuration")

    maximum = int(page.locator(f"#fig-{slug}-epoch").get_attribute("max"))
    costs = []
    for i in range(steps):
        page.wait_for_timeout(40)
        before = task_seconds()
        page.evaluate(STEP, [slug, -1 if baseline else maximum - (i % (maximum + 1))])
        page.wait_for_timeout(80)
        costs.append(1000 * (task_seconds() - before))
    return costs


@dataclass(frozen=True)
class ReaderRow:
    """What a reader's browser pays for the page."""

    initial_bytes: int  # raw bytes transferred until the first figure is interactive
    initial_gzip: int  # the same files, gzip -6
    total_bytes: int  # after scrolling through every figure
    total_gzip: int
    first_interactive_ms: float  # navigation start to the first figure's data-ready
    step_ms: dict[str, tuple[float, float]]  # figure slug -> (p50, p95) of one slider step
    rebuild_s: float  # prose-only rebuild with the render cache warm


def transferred(site_dir: Path, urls: list[str], base: str) -> tuple[int, int]:
    """Raw and gzip size of the distinct local files behind ``urls``."""
    import gzip
    raw = packed = 0
    for url in dict.fromkeys(urls):
        relative = url[len(base):].split("#")[0].split("?")[0] or "index.html"
        data = (site_dir / relative).read_bytes()
        raw += len(data)
        packed += len(gzip.compress(data, compresslevel=6, mtime=0))
    return raw, packed


def reader_bench(site_dir: Path, article_dir: Path, templates_dir: Path,
                 echo: Callable[[str], None] = print) -> ReaderRow:
    """Headless Chromium on 127.0.0.1: bytes, time to the first interactive figure, slider steps."""
    import numpy as np
    from playwright.sync_api import sync_playwright

    from lossarticle.browser import launch_chromium
    from lossarticle.render import RenderCache, RenderOptions, render_site
    from lossarticle.serve import start_server

    options = RenderOptions(site_dir=site_dir, article_dir=article_dir, templates_dir=templates_dir)
    cache = RenderCache()
    render_site(options, cache, echo=lambda line: None)
    start = time.perf_counter()
    render_site(options, cache, echo=lambda line: None)
    rebuild_s = time.perf_counter() - start

    server = start_server(site_dir, 0)
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            urls: list[str] = []
            page.on("request", lambda request: urls.append(request.url))
            page.goto(base)
            first = page.locator(".la-figure").first
            first.scroll_into_view_if_needed()
            _wait_ready(page, first)
            ready_ms = page.evaluate("performance.now()")
            initial = transferred(site_dir, urls, base)
            steps = {}
            for figure in page.locator(".la-figure[data-src]").all():
                figure.scroll_into_view_if_needed()
                _wait_ready(page, figure)
                slug = figure.get_attribute("data-slug")
                costs = np.array(step_costs(page, cdp, slug, 40))
                steps[slug] = (float(np.percentile(costs, 50)), float(np.percentile(costs, 95)))
            for figure in page.locator(".la-explorer").all():
                figure.scroll_into_view_if_needed()
                _wait_ready(page, figure)
            idle = np.array(step_costs(page, cdp, slug, 40, baseline=True))
            total = transferred(site_dir, urls, base)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    row = ReaderRow(initial[0], initial[1], total[0], total[1], ready_ms, steps, rebuild_s)
    echo_reader(row, float(np.percentile(idle, 50)), echo)
    return row


def echo_reader(row: ReaderRow, idle_p50: float, echo: Callable[[str], None]) -> None:
    """Print the reader-side figures."""
    echo(f"page: first load {row.initial_bytes / 1e6:.2f} MB raw, {row.initial_gzip / 1e6:.2f} MB gzip; "
         f"after every figure {row.total_bytes / 1e6:.2f} MB raw, {row.total_gzip / 1e6:.2f} MB gzip")
    echo(f"first figure interactive after {row.first_interactive_ms:.0f} ms")
    for slug, (p50, p95) in row.step_ms.items():
        echo(f"slider step {slug:18s} p50 {p50:5.1f} ms  p95 {p95:5.1f} ms")
    worst = max(p95 for _, p95 in row.step_ms.values())
    echo(f"slider step p95, worst figure: {worst:.1f} ms (main-thread task time per step, all work included; "
         f"the same measurement without a step costs {idle_p50:.1f} ms p50)")
    echo(f"prose-only rebuild: {row.rebuild_s:.2f} s")


def _wait_ready(page, figure, timeout_s: float = 60.0) -> None:
    """Poll a figure's data-ready (wait_for_function would eval() and trip the page's CSP)."""
    deadline = time.monotonic() + timeout_s
    while figure.get_attribute("data-ready") != "true":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{figure.get_attribute('id')} never became ready")
        page.wait_for_timeout(50)
