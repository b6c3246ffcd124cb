"""What the labs cost a reader (``generate.py bench``): the built page's labs trained in headless Chromium.

Per lab: the bytes it loads when opened (gzip), the epochs per second the worker trains at, for the dice
the time of the reader's maps, and how often the main thread was blocked meanwhile: Long Tasks (over
50 ms, the browser's own count) and the longest gap between animation frames (a frame is 16.7 ms; a gap
much longer means the main thread held a frame back).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Collects Long Tasks and animation-frame gaps from the start, before any page script runs.
WATCH = """window.__longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
  .observe({ type: "longtask", buffered: true });
window.__frames = [];
const __tick = (t) => { window.__frames.push(t); requestAnimationFrame(__tick); };
requestAnimationFrame(__tick);"""
MARKS = """(slug) => Object.fromEntries(performance.getEntriesByType("mark")
  .filter((m) => m.name.startsWith("la:lab:" + slug + ":")).map((m) => [m.name.split(":").pop(), m.startTime]))"""
WAIT = """async ([slug, name, timeout]) => {
  const deadline = performance.now() + timeout;
  while (!performance.getEntriesByName("la:lab:" + slug + ":" + name).length) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}"""
BLOCKED = """([start, end]) => {
  const tasks = window.__longTasks.filter(([t, d]) => t + d >= start && t <= end);
  const frames = window.__frames.filter((t) => t >= start && t <= end);
  let gap = 0;
  for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i] - frames[i - 1]);
  return { longTasks: tasks.length, longest: Math.max(0, ...tasks.map(([, d]) => d)), frameGap: gap };
}"""


@dataclass(frozen=True)
class LabRow:
    """One lab, trained once in the page."""

    slug: str
    kind: str  # configs.LABS
    loaded_gzip: int  # bytes the lab loads when opened (its payload and the trainer), gzip -6 (goal <= 60 KB)
    epochs: int  # epochs trained (both nets for the dice)
    train_s: float  # from the request to the last epoch
    map_s: float  # dice: from the last epoch to both full maps; NaN for your-run
    long_tasks: int  # Long Tasks on the main thread while training and mapping
    longest_task_ms: float
    frame_gap_ms: float  # the longest gap between animation frames meanwhile

    @property
    def epochs_per_s(self) -> float:
        return self.epochs / self.train_s


def lab_rows(page: Any, site_dir: Path, base: str, transferred: Callable[[Path, list[str], str], tuple[int, int]],
             urls: list[str], settle: Callable[[Any], None]) -> list[LabRow]:
    """Open and train every lab of the page loaded in ``page`` (``urls`` collects its requests).

    ``settle(figure)`` waits until the figure and every other one loading are embedded and painted: what the
    page does meanwhile is not the lab's, and would be counted as its long tasks.
    """
    rows = []
    for lab in page.locator(".la-lab").all():
        slug, kind = lab.get_attribute("data-slug"), lab.get_attribute("data-lab")
        lab.scroll_into_view_if_needed()
        settle(page.locator(f"#fig-{slug}"))
        before = len(urls)
        lab.locator(".la-lab-open").click()
        _wait(page, slug, "loaded")
        settle(page.locator(f"#fig-{slug}"))
        payload, trainer = base + lab.get_attribute("data-src"), base + lab.get_attribute("data-trainer")
        if payload not in urls[before:] or trainer not in urls:  # the trainer: once, by the first lab opened
            raise RuntimeError(f"lab {slug}: opening it did not load {payload} and {trainer}")
        loaded = transferred(site_dir, [payload, trainer], base)[1]  # the trainer counted for each lab
        lab.locator(".la-lab-roll" if kind == "dice" else ".la-lab-train").click()
        _wait(page, slug, "mapped" if kind == "dice" else "trained", timeout_s=300)
        marks = page.evaluate(MARKS, slug)
        end = marks.get("mapped", marks["trained"])
        blocked = page.evaluate(BLOCKED, [marks["train"], end])
        epochs = page.evaluate("(slug) => { const l = window.lossarticle.lab(slug); "
                               "return (l.nets ? l.nets.map((n) => n.series) : [l.series])"
                               ".reduce((sum, s) => sum + s.last, 0); }", slug)
        rows.append(LabRow(slug, kind, loaded, epochs, (marks["trained"] - marks["train"]) / 1000,
                           (marks["mapped"] - marks["trained"]) / 1000 if "mapped" in marks else float("nan"),
                           blocked["longTasks"], blocked["longest"], blocked["frameGap"]))
    return rows


def _wait(page: Any, slug: str, name: str, timeout_s: float = 60) -> None:
    if not page.evaluate(WAIT, [slug, name, timeout_s * 1000]):
        raise TimeoutError(f"lab {slug}: no mark {name!r} within {timeout_s:.0f} s")


def echo_labs(rows: list[LabRow], echo: Callable[[str], None]) -> None:
    """The labs' table (goals: issue 18, BENCHMARKS.md)."""
    echo("labs (trained in headless Chromium, in a Web Worker):")
    for row in rows:
        mapped = "" if row.map_s != row.map_s else f", maps {row.map_s:.2f} s"
        echo(f"  {row.slug} ({row.kind}): loads {row.loaded_gzip / 1024:.1f} KB gzip; {row.epochs} epochs in "
             f"{row.train_s:.2f} s = {row.epochs_per_s:.0f} epochs/s{mapped}; main thread: {row.long_tasks} long "
             f"tasks (longest {row.longest_task_ms:.0f} ms), longest frame gap {row.frame_gap_ms:.0f} ms")
