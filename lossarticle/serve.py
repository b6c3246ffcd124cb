"""``generate.py serve``: serve site/ on localhost and rebuild it when the sources change.

Prose and template edits re-render in-process with the decoded data and
figure scripts cached (no retraining, well under 2 s); an edit of the
registry (configs.py) runs a full build in a fresh process, then restarts
the server so the new registry is the one imported.
"""
from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lossarticle.errors import LossArticleError
from lossarticle.render import RenderCache, RenderOptions, render_site

REGISTRY = Path(__file__).with_name("configs.py")


def snapshot(paths: list[Path]) -> dict[Path, int]:
    """mtime of every file under ``paths``: cheap enough to poll twice a second."""
    stamps = {}
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            stamps[path] = path.stat().st_mtime_ns
    return stamps


def rebuild(options: RenderOptions, cache: RenderCache, echo: Callable[[str], None]) -> float:
    """Re-render; an editor's mistake is printed and the previous site stays served."""
    start = time.perf_counter()
    try:
        render_site(options, cache, echo=lambda line: None)
    except LossArticleError as error:
        echo(f"Error: {error.message} (the previous site is still served)")
        return float("nan")
    seconds = time.perf_counter() - start
    echo(f"rebuilt in {seconds:.2f} s")
    return seconds


def start_server(site_dir: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A static file server for site/ on 127.0.0.1, in a daemon thread."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
            pass

        def translate_path(self, path: str) -> str:
            # Resolve against site/ per request: a rebuild swaps the folder itself.
            self.directory = str(site_dir)
            return super().translate_path(path)

    handler = functools.partial(QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(options: RenderOptions, port: int, echo: Callable[[str], None] = print,
          poll_s: float = 0.5) -> None:
    """Serve until interrupted, rebuilding on change."""
    cache = RenderCache()
    rebuild(options, cache, echo)
    server = start_server(options.site_dir, port)
    echo(f"serving {options.site_dir} at http://127.0.0.1:{server.server_port}/ (Ctrl-C to stop)")
    prose = [options.article_dir, options.templates_dir]
    seen, registry_seen = snapshot(prose), snapshot([REGISTRY])
    try:
        while True:
            time.sleep(poll_s)
            if snapshot([REGISTRY]) != registry_seen:
                echo("registry changed: full build, then restart")
                subprocess.run([sys.executable, sys.argv[0], "build"], check=False)
                server.shutdown()
                server.server_close()
                os.execv(sys.executable, [sys.executable, *sys.argv])
            now = snapshot(prose)
            if now != seen:
                seen = now
                rebuild(options, cache, echo)
    except KeyboardInterrupt:
        server.shutdown()
