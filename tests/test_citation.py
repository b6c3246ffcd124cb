from __future__ import annotations

import datetime

from lossarticle.citation import cite


def test_the_article_cites_itself_from_its_front_matter() -> None:
    meta = {"title": "Shadows of a Descent: 100% {true}", "date": datetime.date(2026, 11, 27),
            "authors": [{"name": "Ada Lovelace"}, {"name": "The lossarticle team"}], "license": "CC BY 4.0"}
    citation = cite(meta, url="https://example.org/a/")
    assert citation.text == ("Ada Lovelace and The lossarticle team (2026). Shadows of a Descent: 100% {true}. "
                             "https://example.org/a/")
    assert citation.bibtex.splitlines() == [
        "@misc{shadows2026,",
        "  author = {{Ada Lovelace} and {The lossarticle team}},",
        "  title = {{Shadows of a Descent: 100\\% \\{true\\}}},",
        "  year = {2026},",
        "  url = {https://example.org/a/},",
        "  note = {Interactive article}",
        "}"]
    assert citation.license == "CC BY 4.0"


def test_unknown_url_and_date_are_left_out() -> None:
    citation = cite({"title": "T", "authors": []}, url=None)
    assert citation.text == "Anonymous (n.d.). T." and "url" not in citation.bibtex and "year" not in citation.bibtex
