"""Checking the article's words against data: where a phrase stands, and what a claim needs to hold.

A claim is a phrase of the prose (found in its file, which gives the line) and a
check over the full registry's data that returns ``None`` when the phrase is true
of the data, else why it is not. ``tests/test_claims.py`` lists them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lossarticle.schema import ExperimentFile

Data = dict[str, ExperimentFile]
Check = Callable[[Data], "str | None"]

# Words that say something about the data's shape or behaviour: every line that uses one must
# be covered by a claim (or an exemption that says why it is not about the data). Patterns.
WATCHED = (r"\bflat", r"\bmonoton", r"\bstay(s|ed)?\b", r"\bnever leaves\b", r"\bsteadily\b", r"\bmost\b",
           r"\bstraight", r"\bvalleys?\b", r"\barch(es)?\b", r"\bbowl", r"\bplateau", r"\bbasin", r"\bspike",
           r"\bglitch", r"\bstuck\b", r"\bnever\b", r"\bminim")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


@dataclass(frozen=True)
class Claim:
    """A phrase of the article and the check that makes it true."""

    file: str  # e.g. "07-stuck.md"
    phrase: str  # exact text of the Markdown source, Jinja expressions included
    check: Check


@dataclass(frozen=True)
class Exempt:
    """A watched word used in a way that claims nothing about the data."""

    file: str
    phrase: str
    why: str


def line_of(text: str, phrase: str) -> int | None:
    """1-based line of ``phrase`` in ``text`` (None when absent)."""
    position = text.find(phrase)
    return None if position < 0 else text.count("\n", 0, position) + 1


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines of the Markdown body that readers read as prose: no front matter, code or reference list."""
    fenced = front = False
    for number, line in enumerate(text.splitlines(), start=1):
        if number == 1 and line.strip() == "---":
            front = True
            continue
        if front:
            front = line.strip() != "---"
            continue
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            continue
        yield number, line


def watched_uses(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, pattern, the line) for every watched word of the prose; template expressions are not prose."""
    for number, line in prose_lines(text):
        words = JINJA.sub(" ", line)
        for pattern in WATCHED:
            for _ in re.finditer(pattern, words, flags=re.IGNORECASE):
                yield number, pattern, line


def covering(line: str, pattern: str, phrases: list[str]) -> bool:
    """Whether one of ``phrases`` stands on ``line`` and itself uses the watched word."""
    return any(p in line and re.search(pattern, JINJA.sub(" ", p), flags=re.IGNORECASE) for p in phrases)


def article_text(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")
