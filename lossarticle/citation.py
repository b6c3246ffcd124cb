"""How the article asks to be cited: one plain-text line and a BibTeX entry, from the front matter."""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

BIBTEX_SPECIAL = re.compile(r"([&%$#_{}~^\\])")


@dataclass(frozen=True)
class Citation:
    """What the appendix prints under "Citation"."""

    text: str  # "The lossarticle team (2026). Shadows of a Descent. https://…"
    bibtex: str
    license: str  # the licence line, from front matter ``license``; empty when none is given


def cite(meta: dict[str, Any], url: str | None) -> Citation:
    """The citation of an article whose first file has front matter ``meta`` (checked by ``content``)."""
    names = [str(author["name"]) for author in meta.get("authors") or []] or ["Anonymous"]
    year = publication_year(meta.get("date"))
    title = str(meta["title"])
    text = f"{' and '.join(names)} ({year or 'n.d.'}). {title}." + (f" {url}" if url else "")
    fields = [("author", " and ".join("{" + bibtex_escape(n) + "}" for n in names)),
              ("title", "{" + bibtex_escape(title) + "}"), ("year", str(year) if year else None),
              ("url", url), ("note", "Interactive article")]
    body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields if value)
    return Citation(text=text, bibtex=f"@misc{{{citation_key(title, year)},\n{body}\n}}",
                    license=str(meta.get("license") or ""))


def publication_year(date: Any) -> int | None:
    if isinstance(date, datetime.date):
        return date.year
    match = re.match(r"^(\d{4})", str(date or ""))
    return int(match.group(1)) if match else None


def citation_key(title: str, year: int | None) -> str:
    """``shadows2026``: the title's first long word and the year."""
    words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) > 3] or ["article"]
    return f"{words[0]}{year or ''}"


def bibtex_escape(text: str) -> str:
    return BIBTEX_SPECIAL.sub(r"\\\1", text)
