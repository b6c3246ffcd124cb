"""Scratch A/B for issue 12: slider-step costs of prototype variants, measured as `make bench` does.

    python prototypes/issue12/ab_steps.py SITE FIGURES QUERY [QUERY ...]

SITE is a built site whose assets/lossarticle.js is the prototype; FIGURES a comma list
("all" for every figure); each QUERY a set of the prototype's switches ("?layers=0",
"?layers=1&markers=html&far=0%25"). The page is walked figure by figure from the top, as
the benchmark walks it, so earlier figures stay loaded; each variant gets a fresh page.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import sync_playwright  # noqa: E402

from lossarticle import bench  # noqa: E402
from lossarticle.browser import launch_chromium  # noqa: E402
from lossarticle.serve import start_server  # noqa: E402


def row(label: str, steps: bench.FigureSteps) -> str:
    return (f"  {label:20s} {bench.percentiles(steps.task_ms)}  ({bench.percentiles(steps.cpu_ms)})  "
            f"{bench.percentiles(steps.task_throttled_ms)}   {bench.percentiles(steps.frame_throttled_ms)}")


def main(site: Path, wanted: list[str], queries: list[str]) -> None:
    server = start_server(site, 0)
    base = f"http://127.0.0.1:{server.server_port}/"
    print(f"  {'ms, p50 / p95':20s} {'main thread':13s}  {'(its CPU)':13s}  {'at 4x':13s}   input->2nd frame at 4x")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for query in queries:
            print(query, flush=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(base + query)
            for figure in page.locator(".la-figure[data-src]").all():
                slug = figure.get_attribute("data-slug")
                figure.scroll_into_view_if_needed()
                bench._wait_quiet(page, figure)
                if slug in wanted or "all" in wanted:
                    print(row(slug, bench.figure_steps(page, cdp, slug)), flush=True)
            print(row("(no step)", bench.figure_steps(page, cdp, slug, baseline=True)), flush=True)
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:])
