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
from typing import Any

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

THROTTLE = 4  # Chromium's CPU throttling rate for the slow-device figures (DevTools' "4x slowdown")
STEPS = 40  # slider steps per figure and rate: p95 of 40 is the second-worst step
COLD_LOADS = 5  # cold page loads behind the first-figure median

# One slider step, as the page sees a reader's drag: set the value, fire "input", then wait for
# the second animation frame. The first rAF callback runs at the start of the next frame,
# after any rAF the handler itself requested (Bokeh paints in one); the frame is then styled,
# laid out, painted and committed; the second callback runs when the frame after it starts.
# So the time returned is input to "the frame showing the step has left the main thread".
# value < 0 is the baseline: the same round trip and two frames, no step.
STEP = """async ([slug, value]) => {
  const slider = document.querySelector(`#fig-${slug}-epoch`);
  const start = performance.now();
  if (value >= 0) {
    slider.value = String(value);
    slider.dispatchEvent(new Event("input", {bubbles: true}));
  }
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - start;
}"""

# True once every figure script the page asked for has run and every embedding it began is
# complete, the rows embedded after the figure became interactive included (lossarticle.js leaves
# a User Timing mark at each stage): nothing is loading in the background.
QUIET = """() => {
  const names = performance.getEntriesByType("mark").map((m) => m.name);
  const count = (stage) => names.filter((name) => name.endsWith(stage)).length;
  return count(":request") === count(":registered") && count(":embed") === count(":complete");
}"""

# Everything a cold load's waterfall needs, in ms since navigation start (sizes in bytes).
TIMINGS = """() => ({
  marks: performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]),
  resources: performance.getEntriesByType("resource")
    .map((r) => [new URL(r.name).pathname, r.responseEnd, r.encodedBodySize]),
  html: performance.getEntriesByType("navigation")[0].responseEnd,
  parsed: performance.getEntriesByType("navigation")[0].domInteractive,
})"""


def step_costs(page, cdp, slug: str, steps: int, rate: float = 1, baseline: bool = False
               ) -> tuple[list[float], list[float], list[float]]:
    """Per slider step (ms): main-thread task time, main-thread CPU time, input to the second frame.

    Task time is Chromium's own ``TaskDuration`` counter over the step (the awaited two
    frames, then 100 ms more): our handler, Bokeh's repaint, style, layout, paint recording
    and commit, and anything else that happened to run (an upper bound, not a best case).
    It is wall time, so on a busy machine it also counts the renderer waiting for a core;
    ``ThreadTime`` over the same window is its CPU time, steadier there (unthrottled only:
    Chromium throttles by keeping the thread busy). Under ``Emulation.setCPUThrottlingRate``
    the renderer runs ``rate`` times slower: what a phone-class CPU would see. The steps walk
    down from the last epoch one at a time: the path grows or shrinks on every step, the
    decision regions change on every step that crosses a snapshot frame (every 5-7 epochs),
    which the p95 catches.
    """
    def seconds() -> tuple[float, float]:
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return metrics["TaskDuration"], metrics["ThreadTime"]

    maximum = int(page.locator(f"#fig-{slug}-epoch").get_attribute("max"))
    tasks, cpu, latencies = [], [], []
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    try:
        for i in range(steps):
            page.wait_for_timeout(40)
            before = seconds()
            latencies.append(page.evaluate(STEP, [slug, -1 if baseline else maximum - (i % (maximum + 1))]))
            page.wait_for_timeout(100)
            after = seconds()
            tasks.append(1000 * (after[0] - before[0]))
            cpu.append(1000 * (after[1] - before[1]))
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return tasks, cpu, latencies


@dataclass(frozen=True)
class FigureSteps:
    """Slider steps of one figure, each list one value per step (ms)."""

    slug: str
    task_ms: list[float]  # main-thread task time, unthrottled
    cpu_ms: list[float]  # main-thread CPU time, unthrottled
    task_throttled_ms: list[float]  # the same at THROTTLE
    frame_throttled_ms: list[float]  # input to the second animation frame at THROTTLE


def figure_steps(page, cdp, slug: str, baseline: bool = False) -> FigureSteps:
    """Unthrottled and throttled steps of one ready figure."""
    plain, cpu, _ = step_costs(page, cdp, slug, STEPS, baseline=baseline)
    throttled, _, frames = step_costs(page, cdp, slug, STEPS, THROTTLE, baseline=baseline)
    return FigureSteps(slug, plain, cpu, throttled, frames)


@dataclass(frozen=True)
class FirstFigure:
    """Where the time to the first interactive figure goes, from cold loads of the page."""

    slug: str
    ready_ms: list[float]  # navigation start to data-ready, one per cold load
    stages: list[tuple[str, float]]  # (stage, ms since navigation start at its end), medians, in order
    panels: list[tuple[str, float]]  # (panel, ms since the previous panel of any figure was done), medians
    others: list[tuple[str, float]]  # figures embedding meanwhile: (key, ready at ms), traced load
    bokeh_script_ms: float  # traced load: BokehJS's EvaluateScript (parse, compile, run)
    embed_ms: float  # traced load: wall time of the figure's embedding
    embed_busy_ms: dict[str, float]  # traced load: main-thread time during the figure's embedding, by kind


def load_stages(timings: dict[str, Any], slug: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Milestones of one load (ms since navigation start) and each panel's share of the embedding."""
    marks = dict(timings["marks"])
    received = {path.rsplit("/", 1)[-1]: (end, size) for path, end, size in timings["resources"]}
    bokeh = next(name for name in received if name.startswith("bokeh-"))
    stages = [("page HTML received", timings["html"]),
              (f"BokehJS received ({received[bokeh][1] / 1e6:.2f} MB)", received[bokeh][0]),
              ("HTML parsed (deferred scripts may run)", timings["parsed"]),
              ("BokehJS run: parse, compile, execute", marks["la:script"]),
              ("lossarticle.js run, figure requested", marks[f"la:{slug}:request"]),
              (f"figure script received ({received[slug + '.js'][1] / 1e6:.2f} MB)", received[slug + ".js"][0]),
              ("figure script run (register)", marks[f"la:{slug}:registered"]),
              ("Bokeh embedding started", marks[f"la:{slug}:embed"]),
              ("Bokeh embed: first panels (a landscape, regions)", marks[f"la:{slug}:embedded"]),
              ("scene: data decoded, epoch drawn", marks[f"la:{slug}:scene"]),
              ("interactive (data-ready)", marks[f"la:{slug}:ready"]),
              ("the other panels (landscapes, curves, strips) rendered", marks[f"la:{slug}:complete"])]
    stages.sort(key=lambda stage: stage[1])  # a waterfall: each stage took the time since the one before
    done = sorted((t, name) for name, t in marks.items() if ":panel:" in name)
    panels, previous = [], marks[f"la:{slug}:embed"]
    for t, name in done:
        if name.startswith(f"la:{slug}:panel:"):
            panels.append((name.rsplit(":", 1)[-1], t - previous))
        previous = max(previous, t)
    return stages, panels


def cold_load(browser, url: str, slug: str, trace: bool = False) -> tuple[dict[str, Any], bytes | None]:
    """Load ``url`` in a fresh context (empty HTTP and code caches) until figure ``slug`` is ready."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    if trace:
        browser.start_tracing(page=page, categories=["devtools.timeline", "v8.execute", "blink.user_timing"])
    page.goto(url)
    _wait_ready(page, page.locator(f"#fig-{slug}"))
    _wait_mark(page, f"la:{slug}:complete")  # the strips, embedded once the figure is interactive
    timings = page.evaluate(TIMINGS)
    traced = browser.stop_tracing() if trace else None
    context.close()
    return timings, traced


def first_figure(browser, base: str, slug: str) -> FirstFigure:
    """Cold loads straight to the first figure (``#fig-<slug>``, as a link to it would open the page).

    The figure starts loading as soon as lossarticle.js runs; figures within a screen
    of it load too, as they would for a reader, and compete for the main thread.
    """
    import numpy as np
    url = f"{base}#fig-{slug}"
    loads = [load_stages(cold_load(browser, url, slug)[0], slug) for _ in range(COLD_LOADS)]
    timings, traced = cold_load(browser, url, slug, trace=True)
    stages = [(name, float(np.median([dict(load[0])[name] for load in loads]))) for name, _ in loads[0][0]]
    stages.sort(key=lambda stage: stage[1])
    panels = [(name, float(np.median([dict(load[1])[name] for load in loads]))) for name, _ in loads[0][1]]
    marks = dict(timings["marks"])
    others = [(name.split(":")[1], marks.get(name[:-len("embed")] + "ready", float("nan"))) for name, t in marks.items()
              if name.endswith(":embed") and name != f"la:{slug}:embed" and t < marks[f"la:{slug}:ready"]]
    script_ms, busy = traced_load(traced, marks, slug)
    ready = [dict(load[0])["interactive (data-ready)"] for load in loads]
    embed_ms = marks[f"la:{slug}:embedded"] - marks[f"la:{slug}:embed"]
    return FirstFigure(slug, ready, stages, panels, others, script_ms, embed_ms, busy)


def trace_events(traced: bytes) -> list[dict[str, Any]]:
    """The renderer main thread's complete events, sorted, from a Chromium trace."""
    import json
    events = json.loads(traced)["traceEvents"]
    names = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
             and e["args"].get("name") == "CrRendererMain"}
    busiest = max(names, key=lambda key: sum(1 for e in events if (e.get("pid"), e.get("tid")) == key))
    return sorted((e for e in events if (e.get("pid"), e.get("tid")) == busiest and e.get("ph") == "X"
                   and "dur" in e), key=lambda e: (e["ts"], -e["dur"]))


def event_kind(name: str) -> str:
    """A trace event's share of the main thread, in the words of the DevTools summary."""
    if "GC" in name:
        return "GC"
    if name in ("UpdateLayoutTree", "RecalculateStyles", "Layout", "ParseAuthorStyleSheet", "HitTest",
                "IntersectionObserverController::computeIntersections", "ResizeObserver"):
        return "style+layout"
    if name in ("Paint", "PrePaint", "Layerize", "Commit", "UpdateLayer", "PaintImage", "RasterTask"):
        return "paint+commit"
    if name in ("FunctionCall", "EvaluateScript", "RunMicrotasks", "TimerFire", "EventDispatch",
                "FireAnimationFrame", "v8.compile", "v8.run", "V8.Execute", "CompileScript"):
        return "JS"
    return "other"


def busy_by_kind(events: list[dict[str, Any]], start_us: float, end_us: float) -> dict[str, float]:
    """Self time (ms) of the main thread's events inside [start, end), by :func:`event_kind`.

    Events are clipped to the window, so a task that straddles an end counts only its inside.
    """
    from collections import defaultdict
    kinds: dict[str, float] = defaultdict(float)
    stack: list[tuple[str, float]] = []  # enclosing events: (name, end)
    for event in events:
        begin, finish = max(event["ts"], start_us), min(event["ts"] + event["dur"], end_us)
        if finish <= begin:
            continue
        while stack and stack[-1][1] <= event["ts"]:
            stack.pop()
        if stack:
            kinds[event_kind(stack[-1][0])] -= (finish - begin) / 1000
        kinds[event_kind(event["name"])] += (finish - begin) / 1000
        stack.append((event["name"], event["ts"] + event["dur"]))
    return dict(kinds)


def traced_load(traced: bytes, marks: dict[str, float], slug: str) -> tuple[float, dict[str, float]]:
    """BokehJS's script evaluation and the main thread's work while ``slug`` embeds (ms)."""
    import json
    events = trace_events(traced)
    instants = {e["name"]: e["ts"] for e in json.loads(traced)["traceEvents"] if e.get("name", "").startswith("la:")}
    offset = instants["la:script"] - 1000 * marks["la:script"]  # trace µs = offset + 1000 · performance.now()
    bokeh = sum(e["dur"] for e in events if e["name"] == "EvaluateScript"
                and "/bokeh-" in e.get("args", {}).get("data", {}).get("url", "")) / 1000
    window = [offset + 1000 * marks[f"la:{slug}:{stage}"] for stage in ("embed", "embedded")]
    return bokeh, busy_by_kind(events, *window)


@dataclass(frozen=True)
class ReaderRow:
    """What a reader's browser pays for the page."""

    initial_bytes: int  # raw bytes transferred until the first figure is interactive
    initial_gzip: int  # the same files, gzip -6
    total_bytes: int  # after scrolling through every figure
    total_gzip: int
    first: FirstFigure
    steps: dict[str, FigureSteps]  # figure slug -> its slider steps
    idle: FigureSteps  # the same measurement without a step
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
    """Time a prose-only rebuild, then measure the built page in headless Chromium."""
    from lossarticle.render import RenderCache, RenderOptions, render_site

    options = RenderOptions(site_dir=site_dir, article_dir=article_dir, templates_dir=templates_dir)
    cache = RenderCache()
    render_site(options, cache, echo=lambda line: None)
    start = time.perf_counter()
    render_site(options, cache, echo=lambda line: None)
    row = measure_page(site_dir, time.perf_counter() - start)
    echo_reader(row, echo)
    return row


def measure_page(site_dir: Path, rebuild_s: float = float("nan")) -> ReaderRow:
    """Headless Chromium on 127.0.0.1: bytes, the first figure's cold loads, every figure's slider steps."""
    from playwright.sync_api import sync_playwright

    from lossarticle.browser import launch_chromium
    from lossarticle.serve import start_server

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
            figures = page.locator(".la-figure[data-src]").all()
            slugs = [figure.get_attribute("data-slug") for figure in figures]
            figures[0].scroll_into_view_if_needed()
            _wait_ready(page, figures[0])
            initial = transferred(site_dir, urls, base)
            steps = {}
            for slug, figure in zip(slugs, figures):
                figure.scroll_into_view_if_needed()
                _wait_quiet(page, figure)
                steps[slug] = figure_steps(page, cdp, slug)
            for figure in page.locator(".la-explorer").all():
                figure.scroll_into_view_if_needed()
                _wait_quiet(page, figure)
            idle = figure_steps(page, cdp, slugs[-1], baseline=True)
            total = transferred(site_dir, urls, base)
            page.close()
            first = first_figure(browser, base, slugs[0])
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return ReaderRow(initial[0], initial[1], total[0], total[1], first, steps, idle, rebuild_s)


def percentiles(values: list[float]) -> str:
    """``p50 / p95`` of a list of milliseconds, for the step table."""
    import numpy as np
    return f"{np.percentile(values, 50):5.1f} / {np.percentile(values, 95):5.1f}"


def echo_first_figure(first: FirstFigure, echo: Callable[[str], None]) -> None:
    """The first figure's waterfall: when each stage ended and how long it took after the one before."""
    import numpy as np
    echo(f"first figure interactive: {first.slug} at {np.median(first.ready_ms):.0f} ms after navigation "
         f"(median of {len(first.ready_ms)} cold loads, {min(first.ready_ms):.0f}-{max(first.ready_ms):.0f} ms; "
         f"goal <= 1000)")
    echo(f"  {'stage (medians)':50s} {'at ms':>7s} {'took':>6s}")
    previous = 0.0
    for name, at in first.stages:
        echo(f"  {name:50s} {at:7.0f} {at - previous:6.0f}")
        previous = at
    echo("  Bokeh embed per panel, ms after the previous panel (any figure) was done: "
         + " · ".join(f"{name} {ms:.0f}" for name, ms in first.panels))
    others = ", ".join(f"{key} (ready at {at:.0f} ms)" for key, at in first.others) or "none"
    echo(f"  other figures embedding meanwhile (traced load): {others}")
    busy = sorted(first.embed_busy_ms.items(), key=lambda kind: -kind[1])
    echo(f"  main thread in one traced load: BokehJS script {first.bokeh_script_ms:.0f} ms; embedding took "
         f"{first.embed_ms:.0f} ms, {sum(ms for _, ms in busy):.0f} ms of it busy: "
         + " · ".join(f"{kind} {ms:.0f}" for kind, ms in busy))


def echo_reader(row: ReaderRow, echo: Callable[[str], None]) -> None:
    """Print the reader-side figures."""
    import numpy as np
    echo(f"page: first load {row.initial_bytes / 1e6:.2f} MB raw, {row.initial_gzip / 1e6:.2f} MB gzip; "
         f"after every figure {row.total_bytes / 1e6:.2f} MB raw, {row.total_gzip / 1e6:.2f} MB gzip (goal <= 2 MB)")
    echo_first_figure(row.first, echo)
    echo(f"slider step, ms, p50 / p95 of {STEPS}   main thread   (its CPU)     main thread {THROTTLE}x   "
         f"input->2nd frame {THROTTLE}x")
    for slug, steps in row.steps.items():
        echo(f"  {slug:32s}   {percentiles(steps.task_ms)}  ({percentiles(steps.cpu_ms)})  "
             f"{percentiles(steps.task_throttled_ms)}       {percentiles(steps.frame_throttled_ms)}")
    worst = [max(np.percentile(getattr(s, field), 95) for s in row.steps.values())
             for field in ("task_ms", "task_throttled_ms", "frame_throttled_ms")]
    echo(f"worst figure p95: {worst[0]:.1f} ms (goal <= 4), {worst[1]:.1f} ms at {THROTTLE}x (goal <= 16), "
         f"input->2nd frame at {THROTTLE}x {worst[2]:.1f} ms (goal <= 40)")
    idle = row.idle
    echo(f"the same measurement without a step: {np.percentile(idle.task_ms, 50):.1f} ms p50 "
         f"(CPU {np.percentile(idle.cpu_ms, 50):.1f}), {np.percentile(idle.task_throttled_ms, 50):.1f} ms at "
         f"{THROTTLE}x, 2nd frame after {np.percentile(idle.frame_throttled_ms, 50):.1f} ms at {THROTTLE}x")
    echo(f"prose-only rebuild: {row.rebuild_s:.2f} s")


def _poll(page, done: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``done`` every 50 ms (wait_for_function would eval() and trip the page's CSP)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        page.wait_for_timeout(50)


def _wait_ready(page, figure, timeout_s: float = 60.0) -> None:
    """Wait for a figure's data-ready."""
    _poll(page, lambda: figure.get_attribute("data-ready") == "true", timeout_s,
          f"{figure.get_attribute('id')} never became ready")


def _wait_mark(page, name: str, timeout_s: float = 60.0) -> None:
    """Wait until the page has left the User Timing mark ``name``."""
    _poll(page, lambda: page.evaluate("name => performance.getEntriesByName(name).length > 0", name), timeout_s,
          f"no performance mark {name}")


def _wait_quiet(page, figure, timeout_s: float = 60.0, settle_ms: int = 300) -> None:
    """Wait for ``figure`` and for every other figure still loading, then for Bokeh's last repaints."""
    _wait_ready(page, figure, timeout_s)
    _poll(page, lambda: page.evaluate(QUIET), timeout_s, "figures still loading")
    page.wait_for_timeout(settle_ms)
