"""Reading files an editor or a person may have replaced by something else: regular files only, of bounded size.

``Path.read_bytes`` on a FIFO waits for a writer forever, and on ``/dev/zero``
(a symbolic link to it will do) reads until memory runs out. Sources and cached
data are opened without blocking and checked before a byte is read.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from lossarticle.errors import ContentError

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file"))


class NotReadable(Exception):
    """Why a path is not a file to read: its kind, or its size; the caller words the error."""


def file_kind(mode: int) -> str:
    """``st_mode`` in words: "a named pipe (FIFO)", "a character device", …"""
    return next((name for test, name in KINDS if test(mode)), "not a file")


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file (or a link to one) of at most ``limit`` bytes.

    Raises :class:`NotReadable` for anything else, OSError when it cannot be opened.
    ``O_NONBLOCK`` lets a FIFO open without a writer; it is refused right after.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotReadable(f"{file_kind(mode)}, not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                raise NotReadable(f"more than the {mebibytes(limit)} a file here may hold")
        return b"".join(chunks)
    finally:
        os.close(fd)


def mebibytes(size: int) -> str:
    return f"{size / 2 ** 20:g} MiB"


def script_parts(templates_dir: Path, folder: str, order: tuple[str, ...], order_name: str,
                 listed_in: str) -> list[tuple[str, str]]:
    """The ``.js`` files of ``templates_dir/assets/<folder>`` in ``order``, each as (name, text).

    A file the folder holds that the order does not list, or the other way round, is a ContentError naming it
    (``order_name``: whose order, ``listed_in``: where it is written): a part left out would fail only in a
    reader's browser.
    """
    path = templates_dir / "assets" / folder
    found = {part.name for part in path.glob("*.js")}
    for name in sorted(found ^ set(order)):
        what = "missing" if name in order else f"not in {order_name}"
        raise ContentError(f"{templates_dir.name}/assets/{folder}/{name}: {what} ({listed_in})")
    return [(name, (path / name).read_text(encoding="utf-8")) for name in order]

