"""The reader benchmark's bookkeeping: milestones from User Timing marks, main-thread time from traces.

The browser side is exercised by ``make bench`` itself; these check the arithmetic on
small hand-made inputs whose answers are known, and the event names on a real Chromium trace.
"""
from __future__ import annotations

from functools import partial
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataclasses import replace

import torch

from lossarticle.bench_compute import bench_registry, gemm_gflops, run_bench
from lossarticle.bench_reader import busy_by_kind, load_stages, trace_events, traced_load
from tests.tiny import TINY_REGISTRY

MAIN, OTHER = (1, 11), (2, 22)  # (pid, tid) of the page's renderer main thread and another renderer's


def complete(name: str, ts: float, dur: float, thread: tuple[int, int] = MAIN, **args) -> dict:
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "pid": thread[0], "tid": thread[1], "args": args}


def thread_name(thread: tuple[int, int], name: str) -> dict:
    return {"name": "thread_name", "ph": "M", "pid": thread[0], "tid": thread[1], "args": {"name": name}}


def timings(marks: dict[str, float]) -> dict:
    return {"marks": list(marks.items()), "html": 20.0, "parsed": 90.0,
            "resources": [["/bokeh/bokeh-3.9.2.min.js", 60.0, 1_250_000], ["/figures/fig.js", 450.0, 300_000],
                          ["/figures/other.js", 470.0, 100_000]]}


MARKS = {"la:script": 400.0, "la:fig:request": 420.0, "la:other:request": 421.0, "la:fig:registered": 500.0,
         "la:fig:embed": 501.0, "la:fig:panel:regions": 600.0, "la:other:panel:loss": 650.0,
         "la:fig:panel:loss": 700.0, "la:fig:embedded": 701.0, "la:fig:scene": 760.0, "la:fig:ready": 762.0,
         "la:fig:panel:gap-pca": 840.0, "la:fig:complete": 841.0}


def test_load_stages_form_a_waterfall_in_time_order() -> None:
    stages, _ = load_stages(timings(MARKS), "fig")
    times = [at for _, at in stages]
    assert times == sorted(times)
    named = dict(stages)
    assert named["BokehJS received (1.25 MB)"] == 60.0 and named["figure script received (0.30 MB)"] == 450.0
    assert named["BokehJS run: parse, compile, execute"] == 400.0
    assert stages[-2:] == [("interactive (data-ready)", 762.0),
                           ("the other panels (landscapes, curves, strips) rendered", 841.0)]


def test_each_panel_is_charged_from_the_previous_panel_of_any_figure() -> None:
    _, panels = load_stages(timings(MARKS), "fig")
    # regions: from the start of embedding; loss: from the other figure's panel done at 650
    assert panels == [("regions", 99.0), ("loss", 50.0), ("gap-pca", 140.0)]


def test_load_stages_name_the_missing_mark() -> None:
    marks = {k: v for k, v in MARKS.items() if k != "la:fig:scene"}
    with pytest.raises(KeyError, match="la:fig:scene"):
        load_stages(timings(marks), "fig")


def test_busy_time_is_self_time_clipped_to_the_window() -> None:
    events = [complete("RunTask", 0, 100), complete("FunctionCall", 10, 50), complete("MinorGC", 20, 10),
              complete("Layout", 70, 20)]
    busy = busy_by_kind(events, 0, 80)
    assert busy == pytest.approx({"other": 0.020, "JS": 0.040, "GC": 0.010, "style+layout": 0.010})
    assert sum(busy.values()) == pytest.approx(0.080)  # a thread busy throughout is busy for the whole window
    assert busy_by_kind(events, 100, 200) == {}


# A page that keeps the main thread busy twice, measuring each stretch itself: script alone, then
# layouts that script forces (a few thousand paragraphs reflowed at each new width).
BUSY_PAGE = """<!doctype html><body><div id="box"></div><script>
const spin = (ms) => {
  const t = performance.now();
  for (let x = 0; performance.now() - t < ms;) x += Math.sqrt(x + 1);
};
window.measured = new Promise((resolve) => setTimeout(() => {
  performance.mark("busy:start");
  const t0 = performance.now(); spin(200); const js = performance.now() - t0;
  setTimeout(() => {
    const box = document.getElementById("box");
    for (let i = 0; i < 3000; i++) box.appendChild(document.createElement("p")).textContent = "word ".repeat(i % 7 + 1);
    const t1 = performance.now();
    for (let n = 0; performance.now() - t1 < 200; n++) { box.style.width = (300 + n % 50) + "px"; box.offsetHeight; }
    const layout = performance.now() - t1;
    performance.mark("busy:end");
    resolve({ js, layout });
  }, 0);
}, 0));
</script>"""


@pytest.mark.browser
def test_event_kinds_sort_a_real_chromium_trace_as_the_page_spent_it() -> None:
    """The names event_kind knows are the ones this Chromium writes: a trace's time lands in the right kind."""
    from playwright.sync_api import sync_playwright

    from lossarticle.browser import launch_chromium
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        browser.start_tracing(page=page, categories=["devtools.timeline", "v8.execute", "blink.user_timing"])
        page.set_content(BUSY_PAGE)
        measured = page.evaluate("window.measured")
        traced = browser.stop_tracing()
        browser.close()
    events = json.loads(traced)["traceEvents"]
    marks = {e["name"]: e for e in events if e.get("name", "").startswith("busy:")}
    main = (marks["busy:start"]["pid"], marks["busy:start"]["tid"])  # the page's main thread left the marks
    timed = sorted((e for e in events if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X" and "dur" in e),
                   key=lambda e: (e["ts"], -e["dur"]))
    busy = busy_by_kind(timed, marks["busy:start"]["ts"], marks["busy:end"]["ts"])
    # Both stretches are wall-clock in the page and in the trace alike, so load on the machine cancels out.
    assert busy.get("JS", 0) >= 0.9 * measured["js"], (busy, measured)
    assert busy.get("style+layout", 0) >= 0.8 * measured["layout"], (busy, measured)
    assert busy.get("other", 0) <= 0.1 * sum(busy.values()), busy  # nothing big goes unnamed


def test_traced_load_reads_the_page_main_thread_and_aligns_marks() -> None:
    bokeh = "http://127.0.0.1:1/bokeh/bokeh-3.9.2.min.js"
    events = [thread_name(MAIN, "CrRendererMain"), thread_name(OTHER, "CrRendererMain"),
              {"name": "la:script", "ph": "I", "ts": 5_000_000, "pid": 1, "tid": 11},
              complete("EvaluateScript", 4_600_000, 300_000, data={"url": bokeh}),
              complete("EvaluateScript", 4_600_000, 900_000, OTHER, data={"url": bokeh}),  # another page
              complete("RunTask", 5_100_000, 50_000), complete("RunTask", 5_300_000, 50_000, OTHER),
              complete("FunctionCall", 5_110_000, 30_000)]
    traced = json.dumps({"traceEvents": events}).encode()
    assert [e["ts"] for e in trace_events(traced)] == [4_600_000, 5_100_000, 5_110_000]
    # la:script at 400 ms page time is 5 000 000 µs trace time: embed 500..600 ms -> 5 100 000..5 200 000 µs
    script_ms, busy = traced_load(traced, {"la:script": 400.0, "la:fig:embed": 500.0, "la:fig:embedded": 600.0},
                                  "fig")
    assert script_ms == 300.0
    assert busy == pytest.approx({"other": 20.0, "JS": 30.0})


def test_one_seed_registry_keeps_everything_but_the_seed_count() -> None:
    registry = tuple(replace(e, seeds=3) for e in TINY_REGISTRY)
    chosen = bench_registry(("tiny-opt",), one_seed=True, experiments=registry)
    assert [(e.slug, e.seeds, e.runs) for e in chosen] == [("tiny-opt", 1, registry[1].runs)]
    assert bench_registry(experiments=registry) == registry


def test_compute_table_has_a_row_per_experiment_and_a_total(monkeypatch) -> None:
    # The ratio column needs a GEMM rate, not the bench's 2048³ one (1.5 s of the quick lane).
    monkeypatch.setattr("lossarticle.bench_compute.gemm_gflops", partial(gemm_gflops, n=256))
    lines: list[str] = []
    rows = run_bench(torch.device("cpu"), bench_registry(("tiny", "tiny-opt"), experiments=TINY_REGISTRY),
                     echo=lines.append)
    assert [r.slug for r in rows] == ["tiny", "tiny-opt"]
    assert lines[1].split()[:4] == ["experiment", "seeds", "train", "s"]
    assert [line.split()[0] for line in lines[2:5]] == ["tiny", "tiny-opt", "total"]
    assert all(r.train_gflops > 0 and r.model_epochs_per_s > 0 for r in rows)
    assert rows[1].seeds == 1


def test_bench_without_compute_never_imports_torch(tmp_path) -> None:
    # The command's own path, through click; the reader bench itself (Chromium) is stubbed, and
    # tests/test_imports.py walks every import it could make.
    code = ("import sys; sys.path[:0] = [{root!r}]\n"
            "import lossarticle.bench_reader as reader\n"
            "reader.reader_bench = lambda *args, **kwargs: print('reader bench')\n"
            "from generate import cli\n"
            "cli(['bench', '--no-compute', '--site', {site!r}, '--article', {article!r}], standalone_mode=False)\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    root = str(Path(__file__).resolve().parents[1])
    result = subprocess.run([sys.executable, "-c", code.format(root=root, site=str(tmp_path / "site"),
                                                               article=str(tmp_path / "article"))],
                            capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["reader bench", "[]"], result.stderr
