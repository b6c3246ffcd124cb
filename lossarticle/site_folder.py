"""Keeping ``site/`` safe: one build at a time, swaps that survive a kill, and folders that are ours to replace.

``site/`` is replaced whole (the page is built in a sibling folder and swapped
in), and ``site/data`` is also the cache of trained experiments, so a build
killed half-way must never strand or delete it. Every command that writes into
a site folder holds :func:`site_lock` while it does, and starts by calling
:func:`recover` to finish or undo whatever a killed build left behind.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lossarticle.errors import LossArticleError
from lossarticle.files import file_kind

#: What a build puts at the top of a site folder; anything else there is someone else's.
SITE_ENTRIES = frozenset({"index.html", "data", "figures", "assets", "bokeh", "posters", "lab"})  # lab: lab.lab_path

_held: dict[Path, int] = {}  # lock path -> depth, so build() can hold the lock that train and render take
_held_guard = threading.Lock()


def lock_path(site: Path) -> Path:
    """The lock file sits beside the site folder, which is itself renamed by every render."""
    return site.parent / f".{site.name}.lock"


@contextmanager
def site_lock(site: Path, echo: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the site's build lock; a second build waits for the first and says whom it waits for.

    ``flock`` locks belong to the open file, so the kernel releases them when a
    holder dies, even by SIGKILL: a stale lock file never blocks anyone. A site
    that cannot be a folder is refused first (the lock would go beside /dev/null).
    """
    check_folder(site)
    path = lock_path(site).absolute()
    with _held_guard:
        if path in _held:
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[path] -= 1
        return
    handle = open_lock(path)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            echo(f"{site}: another build (pid {holder(path)}) is writing it; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        with _held_guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _held_guard:
                del _held[path]
    finally:
        handle.close()  # releases the lock


def open_lock(path: Path):  # noqa: ANN201 (a text file object)
    """Open (creating) the lock file; a folder we cannot write is one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+", encoding="ascii")
    except OSError as error:
        raise LossArticleError(f"{path.parent}: cannot write here ({error.strerror})") from error


def holder(path: Path) -> str:
    """The pid the lock file names, for the waiting message."""
    try:
        return path.read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"


# ---------------------------------------------------------------- the swap

def swap_in(staging: Path, site: Path) -> None:
    """Replace ``site`` by ``staging``: two renames, then the old tree is deleted.

    Killed between the renames, ``site`` is missing and the old tree waits in
    ``.site.old-*/site``; :func:`recover` puts it back.
    """
    if not site.exists():
        os.replace(staging, site)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{site.name}.old-", dir=site.parent))
    os.replace(site, retired / site.name)
    os.replace(staging, site)
    shutil.rmtree(retired, ignore_errors=True)


def recover(site: Path, echo: Callable[[str], None] = print) -> None:
    """Finish or undo what a killed build left beside ``site``; call it holding the lock.

    A missing ``site`` with a retired copy waiting means the kill came between
    the two renames: the old site, with its data, goes back. Everything else
    (half-built staging folders, retired trees already replaced) is deleted.
    """
    retired = sorted((old / site.name for old in site.parent.glob(f".{site.name}.old-*")
                      if (old / site.name).is_dir()), key=lambda p: p.stat().st_mtime_ns)
    if not site.exists() and not site.is_symlink() and retired:
        os.replace(retired[-1], site)
        echo(f"{site}: restored the previous site, which an interrupted build had moved aside")
    for pattern in (f".{site.name}.build-*", f".{site.name}.old-*"):
        for leftover in site.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def check_replaceable(site: Path, protected: tuple[Path, ...]) -> None:
    """Refuse a site folder that is not ours to replace: never swap away a user's files.

    ``protected`` are folders the build reads (the article, the templates, the
    working directory): the site may not be one of them or contain them.
    """
    if site.is_symlink():
        raise LossArticleError(f"{site}: is a symbolic link; the site is replaced whole on every build, "
                               f"so give the folder it points to ({site.resolve()}) as --site")
    resolved = site.resolve()
    for folder in protected:
        inner = folder.resolve()
        if inner == resolved or resolved in inner.parents:
            raise LossArticleError(f"{site}: contains {folder}, which the build reads; choose an empty or new "
                                   f"folder for --site")
    check_folder(site)
    if site.is_dir():
        foreign = sorted(p.name for p in site.iterdir() if p.name not in SITE_ENTRIES)
        if foreign:
            raise LossArticleError(f"{site}: holds {', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''}, "
                                   f"which lossarticle did not make; refusing to replace it (choose an empty or "
                                   f"new folder for --site)")


def check_folder(site: Path) -> None:
    """``site`` must be a folder, or not exist yet: a file, /dev/null or a FIFO cannot hold a site."""
    try:
        mode = site.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise LossArticleError(f"{site}: cannot be the site folder ({error.strerror})") from error
    if not stat.S_ISDIR(mode):
        raise LossArticleError(f"{site}: is {file_kind(mode)}, not a folder; give --site a folder (new, empty, or "
                               f"one lossarticle built)")


def check_outside(site: Path, sources: tuple[Path, ...]) -> None:
    """Refuse a site inside a folder the build reads: ``serve`` watches those, and would see its own output
    change and rebuild forever; and a site inside ``templates/`` would be copied into itself."""
    resolved = site.resolve()
    for folder in sources:
        if folder.resolve() in resolved.parents:
            raise LossArticleError(f"{site}: is inside {folder}, which the build reads and serve watches; choose "
                                   f"a folder outside it for --site")
