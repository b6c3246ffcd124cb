"""Writing a file whole: the one writer training (``build``) and ``render`` share.

Torch-free and format-free on purpose: ``render`` writes through it without
importing the compute half, and ``export`` stays the records of computed results.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lossarticle.errors import cannot_write


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write text (UTF-8) or bytes through a temporary file beside ``path`` and ``os.replace`` it in: never half
    a file.

    A full disk or a read-only file system is one line naming the file; the
    file that was there before stays as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        content = text.encode("utf-8") if isinstance(text, str) else text
        handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                             delete=False)
    except OSError as error:
        raise cannot_write(error, path) from error
    try:
        with handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # NamedTemporaryFile makes 0600; the site is public
        os.replace(handle.name, path)
    except BaseException as error:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise cannot_write(error, path) from error
        raise


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``path`` only when its bytes would change: a cached tree is never rewritten (or must be writable)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True
