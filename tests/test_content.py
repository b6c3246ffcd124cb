from __future__ import annotations

import codecs
import datetime
import re
import time

import pytest

from lossarticle.content import PAGE_IDS, FigureRef, footnote_letter, number_figures, parse_article, read_sources
from lossarticle.errors import ContentError
from lossarticle.numbers import num, pct, thousands
from tests.tiny import TEMPLATES, TINY_ARTICLE, TINY_REGISTRY, write_article

KNOWN = tuple(e.slug for e in TINY_REGISTRY)


def fake_figure(ref: FigureRef, caption_html: str) -> str:
    return f"<figure data-slug='{ref.slug}' data-number='{ref.number}'>{caption_html}</figure>"


def parse(folder, summaries):
    sources = read_sources(folder, "article")
    return parse_article(sources, summaries, number_figures(sources, KNOWN), fake_figure)


def test_article_renders_sections_figures_variables_and_footnotes(tmp_path, tiny_summaries) -> None:
    article = parse(write_article(tmp_path / "article", TINY_ARTICLE), tiny_summaries)
    assert article.meta["title"] == "Tiny <article>" and "Lead paragraph." in article.lead_html
    assert [(s.id, s.title) for s in article.sections] == [("intro", "Intro & more"), ("explorer", "More")]
    intro, more = (s.html for s in article.sections)
    tiny = tiny_summaries["tiny"]
    assert f"Loss {num(tiny.final_loss)} and {pct(tiny.final_train_acc)}" in intro
    assert '<a href="#fig-tiny">Figure 1</a>' in intro
    assert "<figure data-slug='tiny' data-number='1'><p>Drag <em>the slider</em>.</p>\n</figure>" in intro
    assert "data-slug='explorer' data-number='2'" in more and "data-slug='tiny-opt' data-number='3'" in more
    assert [f.slug for f in article.figures] == ["tiny", "explorer", "tiny-opt"]
    assert '<h3 id="a-sub-heading">' in more

    # Footnotes are numbered once across files and collected at the end.
    assert 'href="#fn1"' in intro and 'href="#fn2"' in more
    assert "First note." in article.footnotes_html and "Second note." in article.footnotes_html
    assert "First note." not in intro


def test_external_links_get_noopener(tmp_path, tiny_summaries) -> None:
    files = {**TINY_ARTICLE, "03-links.md": "---\ntitle: L\n---\n\n[out](https://arxiv.org/abs/1712.09913) "
                                             "and [in](#intro)\n"}
    html = parse(write_article(tmp_path / "article", files), tiny_summaries).sections[-1].html
    assert '<a href="https://arxiv.org/abs/1712.09913" rel="noopener noreferrer">out</a>' in html
    assert '<a href="#intro">in</a>' in html


def broken(tmp_path, name: str, text: str):
    files = dict(TINY_ARTICLE)
    files[name] = text
    return write_article(tmp_path / "article", files)


@pytest.mark.parametrize("text, message", [
    ("---\ntitle: X\n---\n\nText\n\n::: figure mlp-d7-w5\nc\n:::\n",
     "article/01-intro.md:7: unknown figure 'mlp-d7-w5' (known: tiny, tiny-opt, tiny-dirs, tiny-skip; "
     "without an experiment: spiral, overview, seeds, sharpness)"),
    ("---\ntitle: X\n---\n\nok\n\n{{ exp[\"tiny\"].no_such_field }}\n",
     "article/01-intro.md:7: unknown variable: "),
    ("---\ntitle: X\n---\n\n{{ undefined_name }}\n", "article/01-intro.md:5: unknown variable: 'undefined_name'"),
    ("---\ntitle: X\n---\n\nline\n\n\n{{ exp[\"nope\"].final_loss }}\n",
     "article/01-intro.md:8: unknown experiment 'nope' (known: tiny, tiny-opt, tiny-dirs, tiny-skip)"),
    ("---\ntitle: X\n---\n\n{{ exp[\"tiny\"].final_loss | num \n", "article/01-intro.md:5: template syntax: "),
    ("---\ntitle: [unclosed\nmore: x\n---\n\nText\n", "article/01-intro.md:3: malformed front matter: "),
    ("---\njust text\n---\n\nText\n", "article/01-intro.md:2: malformed front matter: expected 'key: value'"),
    ("---\nsubtitle: no title\n---\n", "article/01-intro.md:2: front matter needs a 'title'"),
    ("No front matter here.\n", "article/01-intro.md:1: missing front matter"),
    ("---\ntitle: X\n---\n\n::: figure tiny\na\n:::\n\n::: figure tiny\nb\n:::\n",
     "article/01-intro.md:9: duplicated figure 'tiny' (first placed at article/01-intro.md:5)"),
    ("---\ntitle: X\n---\n\n{{ figref(\"tiny-dirs\") }}\n", "article/01-intro.md:5: figref: no figure 'tiny-dirs'"),
    ("---\ntitle: X\n---\n\n::: figure\nc\n:::\n", "article/01-intro.md:5: '::: figure' needs an experiment slug"),
])
def test_editor_mistakes_name_file_and_line(tmp_path, tiny_summaries, text: str, message: str) -> None:
    with pytest.raises(ContentError) as caught:
        parse(broken(tmp_path, "01-intro.md", text), tiny_summaries)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message


def test_invalid_utf8_names_the_line(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", TINY_ARTICLE)
    (folder / "01-intro.md").write_bytes(b"---\ntitle: X\n---\n\ncaf\xe9\n")
    with pytest.raises(ContentError, match=r"^article/01-intro\.md:5: invalid UTF-8 \(byte 0xe9\)$"):
        parse(folder, tiny_summaries)


def test_empty_folder_and_unreadable_file(tmp_path, tiny_summaries) -> None:
    (tmp_path / "article").mkdir()
    with pytest.raises(ContentError, match=r"^article/: no Markdown files"):
        parse(tmp_path / "article", tiny_summaries)
    folder = write_article(tmp_path / "other", TINY_ARTICLE)
    (folder / "05-dir.md").mkdir()  # a directory where a file should be: unreadable even as root
    with pytest.raises(ContentError, match=r"^article/05-dir\.md:1: cannot read file"):
        parse(folder, tiny_summaries)


def test_bad_file_name_is_refused(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "notes.md": "---\ntitle: x\n---\n"})
    with pytest.raises(ContentError, match=r"^article/notes\.md:1: file name must look like NN-slug\.md"):
        parse(folder, tiny_summaries)


def test_number_filters() -> None:
    assert thousands(91503) == "91,503" and thousands(9) == "9"
    assert num(0.0042407) == "0.00424" and num(1.0986123, 5) == "1.0986" and num(25.3, 2) == "25"
    assert pct(0.9532) == "95.3\u202f%" and pct(1.0, 0) == "100\u202f%"


def test_a_byte_order_mark_is_accepted(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", TINY_ARTICLE)
    (folder / "03-bom.md").write_bytes(codecs.BOM_UTF8 + "---\ntitle: Ünïcode\n---\n\nText\n".encode())
    article = parse(folder, tiny_summaries)
    assert article.sections[-1].title == "Ünïcode" and "<p>Text</p>" in article.sections[-1].html


FIGURE_AS_TEXT = ("---\ntitle: Code\ndescription: |\n  ::: figure tiny-dirs\n---\n\n"
                  "```\n::: figure tiny-dirs\n:::\n```\n\n    ::: figure tiny-dirs\n    :::\n")


def test_figure_lines_in_code_or_front_matter_are_text(tmp_path, tiny_summaries) -> None:
    article = parse(write_article(tmp_path / "article", {**TINY_ARTICLE, "03-code.md": FIGURE_AS_TEXT}),
                    tiny_summaries)
    assert [(f.slug, f.number) for f in article.figures] == [("tiny", 1), ("explorer", 2), ("tiny-opt", 3)]
    assert article.sections[-1].html.count("::: figure tiny-dirs") == 2 and "<figure" not in article.sections[-1].html
    with pytest.raises(ContentError, match=r"^article/03-code\.md:15: figref: no figure 'tiny-dirs'"):
        parse(write_article(tmp_path / "other", {**TINY_ARTICLE, "03-code.md": FIGURE_AS_TEXT
                                                  + "\n{{ figref('tiny-dirs') }}\n"}), tiny_summaries)


def test_a_longer_fence_makes_a_figure_too(tmp_path, tiny_summaries) -> None:
    files = {**TINY_ARTICLE, "03-wide.md": "---\ntitle: W\n---\n\n{{ figref('tiny-dirs') }}\n\n"
                                          ":::: figure tiny-dirs\nThree *planes*.\n::::\n"}
    article = parse(write_article(tmp_path / "article", files), tiny_summaries)
    assert article.figures[-1] == FigureRef("tiny-dirs", 4, "article/03-wide.md:7")
    assert '<a href="#fig-tiny-dirs">Figure 4</a>' in article.sections[-1].html
    assert "<figure data-slug='tiny-dirs' data-number='4'><p>Three <em>planes</em>.</p>" in article.sections[-1].html


def test_figures_are_numbered_as_the_page_renders_them(tmp_path, tiny_summaries) -> None:
    # A Jinja comment or a false condition drops a figure: it is neither rendered nor counted.
    intro = TINY_ARTICLE["01-intro.md"].replace(
        "Loss", "{#\n::: figure tiny-dirs\nc\n:::\n#}{% if false %}\n::: figure tiny-opt\nx\n:::\n{% endif %}Loss")
    files = {**TINY_ARTICLE, "01-intro.md": intro, "02-explorer.md": "---\ntitle: More\n---\n\nMore.\n"}
    article = parse(write_article(tmp_path / "article", files), tiny_summaries)
    assert [(f.slug, f.number) for f in article.figures] == [("tiny", 1)]
    assert '<a href="#fig-tiny">Figure 1</a>' in article.sections[0].html
    assert "data-slug='tiny-dirs'" not in article.sections[0].html
    files["01-intro.md"] = intro.replace("Loss", "{{ figref('tiny-dirs') }} Loss")
    with pytest.raises(ContentError, match=r"^article/01-intro\.md:\d+: figref: no figure 'tiny-dirs' in the "
                                           r"article \(placed: tiny\)$"):
        parse(write_article(tmp_path / "other", files), tiny_summaries)


@pytest.mark.parametrize("text, message", [
    ("> ::: figure tiny-dirs\n> c\n> :::\n", "article/03-x.md:5: a figure must stand on its own at the top level"),
    ("- ::: figure tiny-dirs\n  c\n  :::\n", "article/03-x.md:5: a figure must stand on its own at the top level"),
    ("::: figure tiny-dirs\n:::: figure tiny\nc\n::::\n:::\n",
     "article/03-x.md:6: a figure must stand on its own at the top level"),
    ("::: figure tiny-dirs\nc\n\nmore\n",
     "article/03-x.md:5: this figure is never closed and would swallow the rest of the article "
     "(end it with a ':::' line)"),
    ("```python\nx = 1\n", "article/03-x.md:5: this code block is never closed and would swallow the rest of "
                           "the article (end it with a '```' line)"),
])
def test_misplaced_or_unclosed_figures_are_one_line(tmp_path, tiny_summaries, text: str, message: str) -> None:
    # 03-x comes before 04-after: an unclosed block would take 04-after's heading into itself.
    files = {**TINY_ARTICLE, "03-x.md": "---\ntitle: X\n---\n\n" + text, "04-after.md": "---\ntitle: After\n---\n"}
    with pytest.raises(ContentError) as caught:
        parse(write_article(tmp_path / "article", files), tiny_summaries)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("files, message", [
    ({"03-intro.md": "---\ntitle: Again\n---\n"},
     "article/03-intro.md:1: section id 'intro' is already used by article/01-intro.md:1 (a section's id is its "
     "file name without the number: rename the file)"),
    ({"03-footnotes.md": "---\ntitle: Notes\n---\n"},
     "article/03-footnotes.md:1: section id 'footnotes' is an id the page itself uses (a section's id is its file "
     "name without the number: rename the file)"),
    ({"03-article.md": "---\ntitle: A\n---\n"}, "article/03-article.md:1: section id 'article' is an id the page"),
    ({"03-fig-tiny.md": "---\ntitle: A\n---\n"}, "article/03-fig-tiny.md:1: section id 'fig-tiny' is an id the page"),
    ({"03-x.md": "---\ntitle: X\n---\n\n### Intro\n"},
     "article/03-x.md:5: heading id 'intro' is already used by article/01-intro.md:1 (reword the heading)"),
    ({"03-x.md": "---\ntitle: X\n---\n\ntext\n\n### Footnotes\n"},
     "article/03-x.md:7: heading id 'footnotes' is an id the page itself uses (reword the heading)"),
    ({"03-x.md": "---\ntitle: X\n---\n\n### 🎉\n\ntext\n\n### 🎈 🎈\n"},  # ids "" and "-1"
     "article/03-x.md:5: heading '🎉' has no letter or digit to make its id from (reword the heading)"),
])
def test_ids_are_unique_on_the_page(tmp_path, tiny_summaries, files: dict[str, str], message: str) -> None:
    with pytest.raises(ContentError) as caught:
        parse(write_article(tmp_path / "article", {**TINY_ARTICLE, **files}), tiny_summaries)
    assert caught.value.message.startswith(message), caught.value.message


def test_page_ids_cover_every_id_the_templates_write() -> None:
    # The oracle is the templates themselves: a new id there must be reserved for the page.
    ids = {i for page in TEMPLATES.glob("*.html") for i in re.findall(r'\bid="([^"]+)"', page.read_text())}
    fixed = {re.sub(r"\{\{ *(figure\.)?slug *\}\}", "tiny", i) for i in ids if i != "{{ section.id }}"}
    # controls.html's macros prefix their ids with the figure's id or "explorer", as the callers pass.
    fixed = {i.replace("{{ id_prefix }}", prefix) for i in fixed for prefix in ("fig-tiny", "explorer")}
    assert {"article", "footnotes", "toc-title", "fig-tiny", "fig-tiny-plots", "fig-tiny-epoch",
            "explorer-epoch"} <= fixed
    assert [i for i in sorted(fixed) if not PAGE_IDS.match(i)] == []
    assert [i for i in ("fn1", "fnref1", "fnref1:2") if not PAGE_IDS.match(i)] == []  # the footnote plugin's


TITLE = "---\ntitle: T\n{}\n---\n\nLead.\n"


@pytest.mark.parametrize("front, message", [
    ("authors: 5", "article/00-title.md:3: front matter 'authors' must be a list of names or {name, affiliation} "
                   "entries (got 5)"),
    ("authors:\n  - affiliation: Lab", "article/00-title.md:3: front matter 'authors' must be a list of names"),
    ("authors:\n  - name: A\n    affiliation: [1]", "article/00-title.md:3: front matter 'authors' must be"),
    ("subtitle: [a, b]", "article/00-title.md:3: front matter 'subtitle' must be text (got ['a', 'b'])"),
    ("description: 5", "article/00-title.md:3: front matter 'description' must be text (got 5)"),
    ("date: 2026-13-45", "article/00-title.md:3: malformed front matter: '2026-13-45': month must be in 1..12"),
    ("date: [2026]", "article/00-title.md:3: front matter 'date' must be a date like 2026-11-27 (got [2026])"),
    ("x: !!int abc", "article/00-title.md:3: malformed front matter: 'abc': invalid literal for int()"),
    ("x: &a 1\ny: *a", "article/00-title.md:3: malformed front matter: anchors and aliases (&name, *name) are not "
                       "allowed in front matter"),
    ("title2: 1\nsubtitle: *undefined", "article/00-title.md:4: malformed front matter: anchors and aliases"),
    ("x: " + "[" * 400 + "]" * 400, "article/00-title.md:3: malformed front matter: values nested more than 20 deep"),
    ("authors:\n" + "".join(f"{' ' * 2 * i}- \n" for i in range(30)),
     "article/00-title.md:23: malformed front matter: values nested more than 20 deep"),
    ("subtitle: a\nsubtitle: b", "article/00-title.md:4: malformed front matter: key 'subtitle' is given twice"),
    ("title: Again", "article/00-title.md:3: malformed front matter: key 'title' is given twice"),
])
def test_front_matter_of_the_wrong_type_is_one_line(tmp_path, tiny_summaries, front: str, message: str) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "00-title.md": TITLE.format(front)})
    with pytest.raises(ContentError) as caught:
        parse(folder, tiny_summaries)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message


def test_an_alias_bomb_is_refused_at_once(tmp_path, tiny_summaries) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "00-title.md": TITLE.format(bomb + "subtitle: *i")})
    start = time.perf_counter()
    with pytest.raises(ContentError, match=r"^article/00-title\.md:3: malformed front matter: anchors and aliases"):
        parse(folder, tiny_summaries)
    assert time.perf_counter() - start < 5


def test_bare_author_names_and_dates_reach_the_byline(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "00-title.md": TITLE.format(
        "date: 2026-11-27\nauthors:\n  - Ada\n  - name: Grace\n    affiliation: Navy")})
    meta = parse(folder, tiny_summaries).meta
    assert meta["authors"] == [{"name": "Ada"}, {"name": "Grace", "affiliation": "Navy"}]
    assert meta["date"] == datetime.date(2026, 11, 27)


@pytest.mark.parametrize("expression", [
    "self.__init__.__globals__.__builtins__.__import__('os').getcwd()",
    "exp.__class__.__mro__",
    "figref.__globals__",
])
def test_prose_cannot_reach_python(tmp_path, tiny_summaries, expression: str) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE,
                                                  "01-intro.md": f"---\ntitle: X\n---\n\nok\n{{{{ {expression} }}}}\n"})
    with pytest.raises(ContentError, match=r"^article/01-intro\.md:6: unsafe expression: access to attribute "
                                           r"'__\w+__' of '\w+' object is unsafe\.$"):
        parse(folder, tiny_summaries)


def test_footnote_markers_are_letters_and_citations_keep_numbers(tmp_path, tiny_summaries) -> None:
    files = {**TINY_ARTICLE, "03-cite.md": "---\ntitle: C\n---\n\nAs shown [[1]](#references).[^c]\n\n[^c]: Third.\n"}
    article = parse(write_article(tmp_path / "article", files), tiny_summaries)
    intro, _, cite = (s.html for s in article.sections)
    assert '<a href="#fn1" id="fnref1">a</a>' in intro and '<a href="#fn3" id="fnref3">c</a>' in cite
    assert '<a href="#references">[1]</a>' in cite
    assert [footnote_letter(i) for i in (0, 1, 25, 26, 27)] == ["a", "b", "z", "aa", "ab"]


@pytest.mark.parametrize("line, message", [
    ("::: Figure tiny-dirs", "'::: Figure tiny-dirs' is not a figure line; write '::: figure tiny-dirs'"),
    ("::: figur tiny-dirs", "'::: figur tiny-dirs' is not a figure line; write '::: figure tiny-dirs'"),
    (":: figure tiny-dirs", "':: figure tiny-dirs' is not a figure line; write '::: figure tiny-dirs'"),
    ("::: Explorer", "'::: Explorer' is not a figure line; write '::: explorer'"),
    ("::: note", "'::: note' is not a figure line; a figure opens with '::: figure SLUG' or '::: explorer'"),
    (":::", "':::' is not a figure line; a ':::' line closes a figure, and none is open here"),
])
def test_a_line_that_looks_like_a_fence_is_an_error_naming_the_fence(tmp_path, tiny_summaries, line: str,
                                                                     message: str) -> None:
    files = {**TINY_ARTICLE, "03-x.md": f"---\ntitle: X\n---\n\nText.\n\n{line}\nA caption.\n:::\n"}
    with pytest.raises(ContentError) as caught:
        parse(write_article(tmp_path / "article", files), tiny_summaries)
    assert caught.value.message.startswith(f"article/03-x.md:7: {message}"), caught.value.message


def test_a_lookalike_inside_a_caption_is_named_too(tmp_path, tiny_summaries) -> None:
    files = {**TINY_ARTICLE, "03-x.md": "---\ntitle: X\n---\n\n::: figure tiny-dirs\nA caption.\n\n::\n:::\n"}
    with pytest.raises(ContentError, match=r"^article/03-x\.md:8: '::' is not a figure line; a ':::' line closes"):
        parse(write_article(tmp_path / "article", files), tiny_summaries)


NOT_REACHED = r"the data never reached this value; print it inside \{% if … is not none %\}"


@pytest.mark.parametrize("expression, message", [
    ('exp["tiny"].planes["pca"].segment_rise', r"the expression is None: " + NOT_REACHED),
    ('exp["tiny"].planes["pca"].segment_rise | num', r"num: the value is None: " + NOT_REACHED),
    ('exp["tiny"].planes["pca"].segment_rise | pct', r"pct: the value is None: " + NOT_REACHED),
    ("none", r"the expression is None"),
])
def test_a_value_never_reached_is_an_error_unless_the_prose_handles_it(tmp_path, tiny_summaries, expression: str,
                                                                       message: str) -> None:
    text = f"---\ntitle: X\n---\n\nok\n\n{{{{ {expression} }}}}\n"
    with pytest.raises(ContentError, match=rf"^article/01-intro\.md:7: {message}"):
        parse(write_article(tmp_path / "article", {**TINY_ARTICLE, "01-intro.md": text}), tiny_summaries)
    handled = (f"---\ntitle: X\n---\n\n{{% set v = exp['tiny'].planes['pca'].segment_rise %}}"
               "{% if v is none %}No barrier{% else %}{{ v | num }}{% endif %}; {{ v or 'none either' }}.\n")
    article = parse(write_article(tmp_path / "handled", {**TINY_ARTICLE, "01-intro.md": handled}), tiny_summaries)
    assert "<p>No barrier; none either.</p>" in article.sections[0].html


def test_editors_files_beside_the_sources_are_skipped(tmp_path, tiny_summaries) -> None:
    folder = write_article(tmp_path / "article", TINY_ARTICLE)
    (folder / ".#01-intro.md").symlink_to("user@host.4242:1733300000")  # Emacs's lock: a dangling link
    for name in (".01-intro.md.swp", "01-intro.md~", "#01-intro.md#", ".notes.md"):
        (folder / name).write_text("not a source")
    assert [s.name for s in read_sources(folder)] == [f"article/{name}" for name in sorted(TINY_ARTICLE)]
    assert [s.id for s in parse(folder, tiny_summaries).sections] == ["intro", "explorer"]


def test_a_source_must_be_a_regular_file_of_bounded_size(tmp_path) -> None:
    import os
    import threading
    folder = write_article(tmp_path / "article", TINY_ARTICLE)
    os.mkfifo(folder / "03-pipe.md")
    outcome: list[object] = []

    def read() -> None:  # in a thread: reading a FIFO used to wait for a writer forever
        try:
            read_sources(folder)
        except ContentError as error:
            outcome.append(error.message)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)  # a failure guard only: the answer comes at once
    assert outcome == ["article/03-pipe.md:1: cannot read file (a named pipe (FIFO), not a regular file)"]
    (folder / "03-pipe.md").unlink()
    (folder / "03-device.md").symlink_to("/dev/null")  # /dev/zero, the same kind, would read until memory ran out
    with pytest.raises(ContentError, match=r"^article/03-device\.md:1: cannot read file \(a character device, "
                                           r"not a regular file\)$"):
        read_sources(folder)
    (folder / "03-device.md").unlink()
    (folder / "03-big.md").write_text("---\ntitle: Big\n---\n" + "words " * 200_000)
    with pytest.raises(ContentError, match=r"^article/03-big\.md:1: cannot read file \(more than the 1 MiB a file "
                                           r"here may hold\)$"):
        read_sources(folder)


def test_a_source_with_an_upper_case_suffix_is_refused_not_skipped(tmp_path) -> None:
    folder = write_article(tmp_path / "article", {**TINY_ARTICLE, "03-more.MD": "---\ntitle: M\n---\n"})
    with pytest.raises(ContentError, match=r"^article/03-more\.MD:1: file name must look like NN-slug\.md"):
        read_sources(folder)


def test_a_figure_printed_by_an_expression_can_be_referred_to(tmp_path, tiny_summaries) -> None:
    text = "---\ntitle: P\n---\n\nSee {{ figref('tiny-dirs') }}.\n\n{{ '::: figure tiny-dirs' }}\nPrinted.\n:::\n"
    article = parse(write_article(tmp_path / "article", {**TINY_ARTICLE, "03-p.md": text}), tiny_summaries)
    assert [f.slug for f in article.figures] == ["tiny", "explorer", "tiny-opt", "tiny-dirs"]
    assert '<a href="#fig-tiny-dirs">Figure 4</a>' in article.sections[-1].html
    with pytest.raises(ContentError, match=r"^article/03-p\.md:5: figref: no figure 'tiny-dir' \(known: tiny, "):
        parse(write_article(tmp_path / "other", {**TINY_ARTICLE, "03-p.md": text.replace("s')", "')")}),
              tiny_summaries)
