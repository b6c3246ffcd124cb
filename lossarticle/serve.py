"""``generate.py serve``: serve site/ on localhost, rebuild it when the sources change, show errors in the page.

Prose and template edits re-render in-process with the decoded data and
figure scripts cached (no retraining, well under 2 s; the prose itself in a
child with a time and a memory limit, ``bounded``); an edit of the
registry (configs.py) runs a full build in a fresh process, then restarts
the server so the new registry is the one imported. A deleted site/ is
built again the same way.

Serving never dies on an editor's mistake: every failed rebuild is one line
in the terminal and a banner in the page, the previous site stays served, and
the next good save rebuilds and reloads the page. The live-reload script is
added to index.html responses only (never written into site/) and keeps to the
page's CSP: a script of our own origin, no eval, no connections; it polls by
adding ``<script src="/__serve__/status.js?n=…">`` elements.
"""
from __future__ import annotations

import http.server
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from lossarticle.content import is_editor_file
from lossarticle.errors import LossArticleError
from lossarticle.render import RenderCache, RenderOptions, describe_template_error, render_site
from lossarticle.site_folder import check_folder, check_outside

REGISTRY = Path(__file__).with_name("configs.py")
GENERATE = Path(__file__).resolve().parents[1] / "generate.py"
LIVE_JS = Path(__file__).with_name("live.js")
LIVE_PREFIX = "/__serve__/"
NO_SITE_PAGE = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Building…</title>{script}"
                "</head><body><p>There is no site/ yet: <code>generate.py serve</code> is building it, and this "
                "page reloads when it is ready.</p></body></html>\n")
LOCATION = re.compile(r"^(\S+:\d+): (.*)$")


@dataclass(frozen=True)
class ServeOptions:
    """What ``generate.py serve`` was asked to do."""

    render: RenderOptions  # what a prose or template edit rebuilds, in-process
    port: int  # on 127.0.0.1; 0 picks a free port
    device: str = "auto"  # for full builds (registry edits, a deleted site/): auto | cpu | cuda
    registry_file: Path = REGISTRY  # an edit of this file means a full build and a restart
    poll_s: float = 0.5  # how often sources are checked for changes


@dataclass
class LiveState:
    """What the page's live-reload script is told on each poll."""

    error: str | None = None  # "file:line: message" of the last failed rebuild; None after a good one
    busy: str | None = None  # what a long full build is doing, while it runs


def snapshot(paths: list[Path]) -> dict[Path, int]:
    """mtime of every source file under ``paths``: cheap enough to poll twice a second.

    Editors' files (``content.is_editor_file``) and hidden folders are skipped, and
    a file or folder that vanishes while it is listed is simply absent (os.walk
    ignores such errors).
    """
    stamps = {}
    for root in paths:
        files = [root] if root.is_file() else list(walk_files(root))
        for path in files:
            if is_editor_file(path.name):
                continue
            try:
                stamps[path] = path.stat().st_mtime_ns
            except OSError:  # deleted since it was listed
                continue
    return stamps


def walk_files(root: Path) -> list[Path]:
    """Files under ``root``, not looking into hidden folders (.git, a site's staging folder .site.build-*)."""
    found = []
    for folder, folders, names in os.walk(root):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(folder, name) for name in names]
    return found


def describe_failure(error: Exception, templates_dir: Path) -> str:
    """One line for any failure of a rebuild (render already words every mistake it expects)."""
    if isinstance(error, LossArticleError):
        return error.message
    if isinstance(error, jinja2.TemplateError):
        return describe_template_error(error, templates_dir)
    return " ".join(f"{type(error).__name__}: {error}".split())


def rebuild(options: RenderOptions, cache: RenderCache, echo: Callable[[str], None],
            live: LiveState | None = None) -> float:
    """Re-render; any failure is one line, and the previous site stays served."""
    start = time.perf_counter()
    try:  # render's notices reach the terminal; its "rendered …" is said below as "rebuilt in …"
        render_site(options, cache, echo=lambda line: None if line.startswith("rendered ") else echo(line))
    except Exception as error:  # serve outlives every failure of a rebuild: it is reported, not raised
        return report_failure(describe_failure(error, options.templates_dir), echo, live)
    if live is not None:
        live.error = None
    seconds = time.perf_counter() - start
    echo(f"rebuilt in {seconds:.2f} s")
    return seconds


def report_failure(failure: str, echo: Callable[[str], None], live: LiveState | None) -> float:
    """Tell the terminal and the page; NaN stands for the rebuild's time."""
    echo(f"Error: {failure} (the previous site is still served)")
    if live is not None:
        live.error = failure
    return math.nan


def build_command(options: ServeOptions) -> list[str]:
    """``generate.py build`` for the site, article and device being served (not the defaults)."""
    render = options.render
    return [sys.executable, str(GENERATE), "build", "--site", str(render.site_dir),
            "--article", str(render.article_dir), "--device", options.device]


def run_child(command: Sequence[str], pass_through: bool) -> str | None:
    """Run ``command``; None when it succeeds, else its failure in one line.

    With ``pass_through`` its output reaches the terminal as it comes (training's
    progress bars); otherwise it is kept quiet and only the one line is told.
    """
    try:
        process = subprocess.Popen(command, stdout=None if pass_through else subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    except OSError as error:
        return f"cannot run {command[1]}: {error.strerror}"
    assert process.stderr is not None
    tail = b""
    for chunk in iter(lambda: process.stderr.read1(65536), b""):  # type: ignore[union-attr]
        if pass_through:
            os.write(2, chunk)
        tail = (tail + chunk)[-65536:]
    status = process.wait()
    return None if status == 0 else child_failure(tail.decode(errors="replace"), status)


def child_failure(output: str, status: int) -> str:
    """A failed child's one line: its ``Error: …`` line, else its traceback's last frame and exception."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    if errors:
        return errors[-1].removeprefix("Error: ")
    frames = re.findall(r'File "([^"]+)", line (\d+)', output)
    if lines and frames:
        path = Path(frames[-1][0])
        shown = path.relative_to(GENERATE.parent) if path.is_relative_to(GENERATE.parent) else path
        exception = re.sub(r"^[\w.]+\.(\w+: )", r"\1", lines[-1])  # lossarticle.errors.ConfigError -> ConfigError
        return f"{shown}:{frames[-1][1]}: {exception}"
    return f"exit status {status}" + (f": {lines[-1]}" if lines else "")


def full_build(options: ServeOptions, reason: str, echo: Callable[[str], None], live: LiveState) -> bool:
    """Train what the cache lacks and render, in a fresh process; whether it succeeded."""
    echo(f"{reason}: full build (training what the cache lacks)")
    live.busy = f"{reason}: full build running (training what the cache lacks)…"
    try:
        # Import the registry first, quietly: a mistake in it is one line, not a traceback.
        failure = run_child([sys.executable, str(GENERATE), "--help"], pass_through=False)
        failure = failure or run_child(build_command(options), pass_through=True)
    finally:
        live.busy = None
    if failure is not None:
        report_failure(failure, echo, live)
        return False
    live.error = None
    return True


def restart(server: http.server.ThreadingHTTPServer) -> None:
    """Replace this process by a fresh ``serve`` with the same arguments, importing the edited registry."""
    server.shutdown()
    server.server_close()
    os.execv(sys.executable, [sys.executable, *sys.argv])


def status_script(site_dir: Path, live: LiveState) -> bytes:
    """The JavaScript a poll receives: the served site's version and the current error, if any."""
    error = None if live.error is None else dict(zip(("where", "message"), split_location(live.error)))
    status = {"version": site_version(site_dir), "error": error, "busy": live.busy}
    return f"window.lossarticleServe && window.lossarticleServe({json.dumps(status)});\n".encode()


def split_location(failure: str) -> tuple[str, str]:
    """``("file:line", "message")`` of a failure; the location is empty when it names none."""
    match = LOCATION.match(failure)
    return (match[1], match[2]) if match else ("", failure)


def site_version(site_dir: Path) -> str:
    """Changes whenever a build swaps in a new page: the mtime of site/index.html."""
    try:
        return str((site_dir / "index.html").stat().st_mtime_ns)
    except OSError:
        return "none"


def page_with_live_script(site_dir: Path) -> bytes:
    """index.html as served: with the live-reload script; a placeholder page while there is none."""
    version = site_version(site_dir)
    script = f'<script src="{LIVE_PREFIX}live.js?version={version}" defer></script>'
    try:
        html = (site_dir / "index.html").read_text(encoding="utf-8")
    except OSError:
        return NO_SITE_PAGE.format(script=script).encode()
    head_end = html.find("</head>")
    return (html[:head_end] + script + html[head_end:] if head_end >= 0 else html + script).encode()


class QuietServer(http.server.ThreadingHTTPServer):
    """The file server; a client that leaves mid-response (a reload, a closed tab) is normal, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError, …
            return
        super().handle_error(request, client_address)


def start_server(site_dir: Path, port: int, live: LiveState | None = None) -> http.server.ThreadingHTTPServer:
    """A file server for ``site_dir`` on 127.0.0.1 in a daemon thread; ``live`` adds live reload.

    A busy or invalid port is one line, raised before anything is built.
    """

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
            pass

        def translate_path(self, path: str) -> str:
            # Resolve against site/ per request: a rebuild swaps the folder itself.
            self.directory = str(site_dir)
            return super().translate_path(path)

        def end_headers(self) -> None:
            if live is not None:  # revalidate every file, so a reload never shows a cached one
                self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            path = urllib.parse.urlsplit(self.path).path
            if live is not None and path in ("/", "/index.html"):
                self.send_bytes(page_with_live_script(site_dir), "text/html; charset=utf-8")
            elif live is not None and path == f"{LIVE_PREFIX}live.js":
                self.send_bytes(LIVE_JS.read_bytes(), "text/javascript; charset=utf-8")
            elif live is not None and path == f"{LIVE_PREFIX}status.js":
                self.send_bytes(status_script(site_dir, live), "text/javascript; charset=utf-8")
            else:
                super().do_GET()

        def send_bytes(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    try:
        server = QuietServer(("127.0.0.1", port), Handler)
    except (OSError, OverflowError) as error:
        reason = str(getattr(error, "strerror", None) or error).removeprefix("bind(): ").rstrip(".")
        raise LossArticleError(f"cannot serve on 127.0.0.1:{port}: {reason[:1].lower() + reason[1:]} "
                               "(choose another port with --port)") from error
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(options: ServeOptions, echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> None:
    """Serve until interrupted (or ``stop`` is set), rebuilding on change."""
    live = LiveState()
    site = options.render.site_dir
    sources = [options.render.article_dir, options.render.templates_dir]
    check_folder(site)
    check_outside(site, tuple(sources))  # its own output would look like an edit: a rebuild, forever
    server = start_server(site, options.port, live)  # bind first: a busy port fails before any work
    echo(f"serving {site} at http://127.0.0.1:{server.server_port}/ (Ctrl-C to stop)")
    cache, stop = RenderCache(), stop or threading.Event()
    registry_seen, done = snapshot([options.registry_file]), None
    try:
        while not stop.is_set():
            if snapshot([options.registry_file]) != registry_seen:
                registry_seen = snapshot([options.registry_file])
                if full_build(options, "registry changed", echo, live):
                    restart(server)
                continue
            wanted = (snapshot(sources), (site / "index.html").exists())
            if wanted != done:
                if (site / "data").is_dir():
                    rebuild(options.render, cache, echo, live)
                else:  # site/ deleted (or never built): its data must be trained again
                    full_build(options, f"no {site / 'data'}", echo, live)
                # Edits during the build show in the next snapshot; a failed build waits for one.
                done = (wanted[0], (site / "index.html").exists())
            stop.wait(options.poll_s)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
