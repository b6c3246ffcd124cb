"""Errors a user can meet: each prints one line and exits 1, never a traceback."""
from __future__ import annotations

import errno
import traceback
from pathlib import Path

import click


class LossArticleError(click.ClickException):
    """Base of every error we raise on purpose; click prints ``Error: <message>``."""


class ConfigError(LossArticleError):
    """An invalid configuration value; the message names the key and the value."""


class CacheError(LossArticleError):
    """An exported file that cannot be reused; the caller recomputes it."""


class ContentError(LossArticleError):
    """A mistake in the article sources; the message starts with ``file:line:``."""


def cannot_write(error: OSError, where: Path) -> LossArticleError:
    """One line for a failed write: the disk is full, the file system read-only, or access denied."""
    reason = {errno.ENOSPC: "no space left on the device", errno.EROFS: "read-only file system",
              errno.EACCES: "permission denied", errno.EDQUOT: "disk quota exceeded"}.get(error.errno,
                                                                                          error.strerror)
    return LossArticleError(f"{error.filename or where}: cannot write ({reason}); nothing already built was lost")


def located(error: BaseException, source: Path, root: Path) -> str:
    """``file:line`` where ``source``'s own top level raised ``error`` (relative to ``root``)."""
    line = 1
    for frame in traceback.extract_tb(error.__traceback__):
        if Path(frame.filename).resolve() == source.resolve() and frame.name == "<module>" and frame.lineno:
            line = frame.lineno
    return f"{source.resolve().relative_to(root.resolve())}:{line}"
