"""``make bench``, second half: what a reader's browser pays for the built page, in headless Chromium.

Bytes transferred, the first figure's cold loads stage by stage, every figure's
slider steps (plain and CPU-throttled), and a prose-only rebuild. Reads only the
built site: never imports torch, so ``generate.py bench --no-compute`` runs without it.
"""
from __future__ import annotations

import gzip
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lossarticle.bench_lab import WATCH as LAB_WATCH, LabRow, echo_labs, lab_rows
from lossarticle.polling import wait_until

if TYPE_CHECKING:  # the types only: Playwright is imported when the page is measured
    from playwright.sync_api import Browser, CDPSession, Locator, Page

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


def step_costs(page: Page, cdp: CDPSession, slug: str, steps: int, rate: float = 1, baseline: bool = False
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


def figure_steps(page: Page, cdp: CDPSession, slug: str, baseline: bool = False) -> FigureSteps:
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


def cold_load(browser: Browser, url: str, slug: str, trace: bool = False) -> tuple[dict[str, Any], bytes | None]:
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


def first_figure(browser: Browser, base: str, slug: str) -> FirstFigure:
    """Cold loads straight to the first figure (``#fig-<slug>``, as a link to it would open the page).

    The figure starts loading as soon as lossarticle.js runs; figures within a screen
    of it load too, as they would for a reader, and compete for the main thread.
    """
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
    labs: list[LabRow]  # every lab of the page, opened and trained once (bench_lab.py)


def transferred(site_dir: Path, urls: list[str], base: str) -> tuple[int, int]:
    """Raw and gzip size of the distinct local files behind ``urls``."""
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
            labs = measure_labs(browser, site_dir, base)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return ReaderRow(initial[0], initial[1], total[0], total[1], first, steps, idle, rebuild_s, labs)


def measure_labs(browser: Browser, site_dir: Path, base: str) -> list[LabRow]:
    """The labs in a page of their own: what they cost is not mixed into the figures' numbers, nor theirs into it."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page.add_init_script(LAB_WATCH)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(base)
    rows = lab_rows(page, site_dir, base, transferred, urls, lambda figure: _wait_quiet(page, figure))
    page.close()
    return rows


def percentiles(values: list[float]) -> str:
    """``p50 / p95`` of a list of milliseconds, for the step table."""
    return f"{np.percentile(values, 50):5.1f} / {np.percentile(values, 95):5.1f}"


def echo_first_figure(first: FirstFigure, echo: Callable[[str], None]) -> None:
    """The first figure's waterfall: when each stage ended and how long it took after the one before."""
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
    echo_labs(row.labs, echo)


def _poll(page: Page, done: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait for ``done`` with :func:`~lossarticle.polling.wait_until` (wait_for_function would eval() and trip
    the page's CSP); pausing through Playwright lets the page's events (the requests counted) arrive meanwhile."""
    wait_until(done, timeout_s, what, pause=lambda seconds: page.wait_for_timeout(1000 * seconds))


def _wait_ready(page: Page, figure: Locator, timeout_s: float = 60.0) -> None:
    """Wait for a figure's data-ready."""
    _poll(page, lambda: figure.get_attribute("data-ready") == "true", timeout_s,
          f"{figure.get_attribute('id')} never became ready")


def _wait_mark(page: Page, name: str, timeout_s: float = 60.0) -> None:
    """Wait until the page has left the User Timing mark ``name``."""
    _poll(page, lambda: page.evaluate("name => performance.getEntriesByName(name).length > 0", name), timeout_s,
          f"no performance mark {name}")


def _wait_quiet(page: Page, figure: Locator, timeout_s: float = 60.0, settle_ms: int = 300) -> None:
    """Wait for ``figure`` and for every other figure still loading, then for Bokeh's last repaints."""
    _wait_ready(page, figure, timeout_s)
    _poll(page, lambda: page.evaluate(QUIET), timeout_s, "figures still loading")
    page.wait_for_timeout(settle_ms)
