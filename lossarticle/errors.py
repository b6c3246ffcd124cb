"""Errors a user can meet: each prints one line and exits 1, never a traceback."""
from __future__ import annotations

import click


class LossArticleError(click.ClickException):
    """Base of every error we raise on purpose; click prints ``Error: <message>``."""


class ConfigError(LossArticleError):
    """An invalid configuration value; the message names the key and the value."""


class CacheError(LossArticleError):
    """An exported file that cannot be reused; the caller recomputes it."""


class ContentError(LossArticleError):
    """A mistake in the article sources; the message starts with ``file:line:``."""
