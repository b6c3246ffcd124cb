"""Scratch A/B for issue 12: cold loads straight to the first figure, variants interleaved.

    python prototypes/issue12/ab_first_figure.py LOADS SITE|QUERY [SITE|QUERY ...]

Prints the median of each User Timing milestone (ms after navigation) per variant; "bokeh"
is BokehJS having run (the prototype's "la:bokeh" mark, else "la:script").
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.sync_api import sync_playwright  # noqa: E402

from lossarticle import bench  # noqa: E402
from lossarticle.browser import launch_chromium  # noqa: E402
from lossarticle.serve import start_server  # noqa: E402

SLUG = "directions"  # the first figure of the article


def milestones(marks: dict[str, float]) -> dict[str, float]:
    panels = sorted(t for name, t in marks.items() if name.startswith(f"la:{SLUG}:panel:"))
    others = [t for name, t in marks.items() if name.endswith(":ready") and name != f"la:{SLUG}:ready"]
    return {"bokeh": marks.get("la:bokeh", marks["la:script"]), "request": marks[f"la:{SLUG}:request"],
            "registered": marks[f"la:{SLUG}:registered"], "embed": marks[f"la:{SLUG}:embed"],
            "first panel": panels[0] if panels else float("nan"), "embedded": marks[f"la:{SLUG}:embedded"],
            "scene": marks[f"la:{SLUG}:scene"], "ready": marks[f"la:{SLUG}:ready"],
            "next figure ready": min(others, default=float("nan"))}


def main(loads: int, variants: list[tuple[str, str]]) -> None:
    servers = {site: start_server(Path(site), 0) for site in {site for site, _ in variants}}
    rows: dict[tuple[str, str], list[dict[str, float]]] = {v: [] for v in variants}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for _ in range(loads):
            for site, query in variants:
                url = f"http://127.0.0.1:{servers[site].server_port}/{query}#fig-{SLUG}"
                timings, _ = bench.cold_load(browser, url, SLUG)
                rows[(site, query)].append(milestones(dict(timings["marks"])))
        browser.close()
    for server in servers.values():
        server.shutdown()
    keys = list(rows[variants[0]][0])
    print(f"{'variant':48s}" + "".join(f"{k:>18s}" for k in keys) + "   ready range")
    for (site, query), found in rows.items():
        medians = [np.nanmedian([r[k] for r in found]) if any(r[k] == r[k] for r in found) else float("nan")
                   for k in keys]
        ready = [r["ready"] for r in found]
        print(f"{(Path(site).name + ' ' + query)[:48]:48s}" + "".join(f"{m:18.0f}" for m in medians)
              + f"   {min(ready):.0f}-{max(ready):.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), [tuple(arg.split("|", 1)) for arg in sys.argv[2:]])
