"""The article's front end: Markdown sources -> numbered figures, sections and footnotes.

An ordered pipeline of named steps (distill's template does the same), each
testable alone:

1. ``read_sources``     article/NN-slug.md, regular files only, decoded strictly as UTF-8 (a byte-order mark is
                        dropped); editors' files beside them (dotfiles, ``x~``, ``#x#``) are skipped;
2. ``number_figures``   parse each file and number its ``::: figure SLUG`` / ``::: explorer``
                        containers, so a typo is reported before any data is read;
3. ``fill_variables``   sandboxed Jinja2 with StrictUndefined fills ``{{ exp[...] }}`` and ``figref``;
4. ``split_front_matter`` YAML front matter of each file (mdit-py-plugins front_matter), checked;
5. ``parse_article``    one markdown-it parse of all bodies, so footnotes number once; the
                        figures are numbered again from these tokens, the ones rendered;
6. ``render_parts``     HTML per section, with each figure left for the page's callback to draw.

Steps 2 to 6 run in a child process with a time and a memory limit (``bounded``): an
expression or a paragraph that would run for minutes or take gigabytes is stopped
and named. Every editor's mistake becomes a ContentError ``file:line: what is wrong``.
"""
from __future__ import annotations

import codecs
import datetime
import difflib
import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Union

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markdown_it.rules_core import inline, replace, smartquotes, text_join
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from lossarticle.bounded import Limits, at, run_bounded, step, template_line
from lossarticle.errors import ContentError
from lossarticle.files import NotReadable, read_regular
from lossarticle.numbers import NOT_REACHED, num, ordinal, pct, thousands
from lossarticle.summaries import ExperimentSummary

SOURCE_NAME = re.compile(r"^\d\d-[a-z0-9-]+\.md$")
EXPLORER = "explorer"
# Figures drawn from the data set or from many experiments at once: a picture and a caption, no script.
SPIRAL, OVERVIEW, SEEDS, SHARPNESS = "spiral", "overview", "seeds", "sharpness"
STATIC_FIGURES = (SPIRAL, OVERVIEW, SEEDS, SHARPNESS)
CONTAINER_OPENS = ("container_figure_open", "container_explorer_open")
NEWLINE = re.compile(r"\r\n?|\n")  # markdown-it's line breaks (str.splitlines also splits at U+2028 & co.)
# Ids the page gives elements of its own: base.html's, the figure templates' (fig-<slug>, explorer-…)
# and the footnote plugin's (fn1, fnref1, fnref1:2). A section or heading with one breaks its links.
PAGE_IDS = re.compile(r"^(article|toc-title|footnotes|citation|explorer-epoch|explorer-plots|fig-.+|fn\d+"
                      r"|fnref\d+(:\d+)?)$")
# figref's output until the figures are numbered from the parsed page: private-use characters,
# which no editor types and markdown-it passes through untouched.
FIGREF = re.compile("\ue000([a-z0-9-]+)\ue001")
MAX_SOURCE_BYTES = 2 ** 20  # a source may hold 1 MiB: the longest section is 7.5 KB, and it is read whole
MAX_FRONT_MATTER_DEPTH = 20  # front matter nests two levels (authors: - name:); PyYAML recurses once a level
# The line of a paragraph that starts like a ':::' fence but is not one: two colons or more, then its words.
LOOKALIKE = re.compile(r"^ {0,3}(:{2,})[ \t]*(\S*)[ \t]*(.*?)\s*$")
FENCE_KINDS = ("figure", EXPLORER)
LOCATE = "lossarticle.locate"  # markdown-it env key: maps a line of the parsed text to "file:line" (for bounded.at)


@dataclass(frozen=True)
class Source:
    """One Markdown file, as read."""

    path: Path
    name: str  # shown in errors, e.g. "article/03-depth.md"
    text: str


@dataclass(frozen=True)
class FigureRef:
    """A figure placed in the prose; ``slug`` is EXPLORER for the explorer, or one of STATIC_FIGURES."""

    slug: str
    number: int
    where: str  # "file:line" of its opening ``:::``
    earlier: tuple[str, ...] = field(default=(), compare=False)  # the figures placed before it (the explorer
    #                                                             opens on a network not among them)


@dataclass(frozen=True)
class Section:
    """One source file after rendering."""

    id: str  # anchor, from the file name: 03-depth.md -> "depth"
    title: str
    meta: dict[str, Any]
    html: str


@dataclass(frozen=True)
class Article:
    """Everything the page template needs from the prose."""

    meta: dict[str, Any]  # front matter of the first file: title, subtitle, authors, date, ...
    lead_html: str  # body of the first file
    sections: list[Section]
    footnotes_html: str
    figures: list[FigureRef] = field(default_factory=list)


def is_editor_file(name: str) -> bool:
    """Files editors keep beside a source, skipped as MkDocs and Hugo skip them: dotfiles (vim's swap
    ``.x.swp``, Emacs's lock link ``.#x``), backups ``x~``, Emacs's autosave ``#x#`` and vim's probe ``4913``."""
    return name.startswith((".", "#")) or name.endswith("~") or name == "4913"


def read_sources(folder: Path, label: str = "article") -> list[Source]:
    """The ``NN-slug.md`` files of ``folder`` in name order, decoded as UTF-8; editors' files are skipped."""
    if not folder.is_dir():
        raise ContentError(f"{label}/: no such folder")
    # .MD too, so a source saved with the wrong case is refused by name rather than left out without a word.
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".md" and not is_editor_file(p.name))
    if not paths:
        raise ContentError(f"{label}/: no Markdown files (expected NN-slug.md)")
    return [read_source(path, f"{label}/{path.name}") for path in paths]


def read_source(path: Path, name: str) -> Source:
    """Read one file; an unreadable file or a byte that is not UTF-8 is a ContentError at its line."""
    if not SOURCE_NAME.match(path.name):
        raise ContentError(f"{name}:1: file name must look like NN-slug.md (two digits, a dash, lowercase)")
    try:
        raw = read_regular(path, MAX_SOURCE_BYTES)
    except NotReadable as error:
        raise ContentError(f"{name}:1: cannot read file ({error})") from error
    except OSError as error:
        raise ContentError(f"{name}:1: cannot read file ({error.strerror})") from error
    raw = raw.removeprefix(codecs.BOM_UTF8)  # some editors (Notepad) start UTF-8 files with a byte-order mark
    try:
        return Source(path, name, raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ContentError(f"{name}:{line}: invalid UTF-8 (byte 0x{raw[error.start]:02x})") from error


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as markdown-it counts them."""
    return NEWLINE.split(text)


def number_figures(sources: list[Source], known: tuple[str, ...], limits: Limits = Limits()) -> list[FigureRef]:
    """Figures in reading order, numbered from 1; unknown, repeated or nested ones stop the build.

    Each file is parsed as Markdown, so a ``::: figure`` line inside a code block or
    the front matter is text, not a figure. Runs before any data is read, in a
    bounded child (``limits``): Markdown can parse in quadratic time.
    """
    return run_bounded(partial(find_figures, sources, known), limits, sources[0].name if sources else "article")


def find_figures(sources: list[Source], known: tuple[str, ...]) -> list[FigureRef]:
    """The work of :func:`number_figures`."""
    md = markdown()
    found: list[tuple[Token, str]] = []
    for source in sources:
        step(source.name)
        tokens = md.parse(source.text, {LOCATE: partial(line_of, source.name)})
        found += containers(tokens, partial(line_of, source.name))
    return number_containers(found, known)


def line_of(name: str, line: int) -> str:
    """ "file:line" of a 0-based line of one file."""
    return f"{name}:{line + 1}"


def containers(tokens: list[Token], locate: Callable[[int], str]) -> list[tuple[Token, str]]:
    """The opening tokens of ``:::`` containers with their "file:line"; each must stand at the top level.

    A figure inside a block quote, list or another figure would be rendered as a plain
    ``<div>`` (or not at all) while still numbered, so figref would point at nothing.
    """
    found = []
    for token in tokens:
        if token.type in CONTAINER_OPENS:
            assert token.map is not None
            where = locate(token.map[0])
            if token.level != 0:
                raise ContentError(f"{where}: a figure must stand on its own at the top level, "
                                   "not inside a block quote, list, footnote or another figure")
            found.append((token, where))
    return found


def number_containers(found: list[tuple[Token, str]], known: tuple[str, ...]) -> list[FigureRef]:
    """Number containers in order, checking each slug; each token keeps its ref in ``token.meta``."""
    figures: list[FigureRef] = []
    seen: dict[str, str] = {}
    for token, where in found:
        kind = token.type.removeprefix("container_").removesuffix("_open")
        slug = figure_slug(kind, token.info.strip().partition(" ")[2].strip(), known, where)
        if slug in seen:
            raise ContentError(f"{where}: duplicated figure '{slug}' (first placed at {seen[slug]})")
        seen[slug] = where
        figures.append(FigureRef(slug, len(figures) + 1, where, tuple(seen)[:-1]))
        token.meta["figure"] = figures[-1]
    return figures


def figure_slug(kind: str, argument: str, known: tuple[str, ...], where: str) -> str:
    """Validate one ``:::`` line's argument against the registry."""
    if kind == EXPLORER:
        if argument:
            raise ContentError(f"{where}: '::: explorer' takes no argument (got {argument!r})")
        return EXPLORER
    elif kind == "figure":
        choices = f"known: {', '.join(known)}; without an experiment: {', '.join(STATIC_FIGURES)}"
        if not argument:
            raise ContentError(f"{where}: '::: figure' needs an experiment slug ({choices})")
        if argument not in known and argument not in STATIC_FIGURES:
            raise ContentError(f"{where}: unknown figure '{argument}' ({choices})")
        return argument
    else:
        raise ContentError(f"{where}: unknown container '{kind}'")


class Experiments(Mapping[str, ExperimentSummary]):
    """``exp`` in templates: a lookup whose misses name the known slugs instead of going quiet."""

    def __init__(self, summaries: dict[str, ExperimentSummary]) -> None:
        self._summaries = summaries

    def __getitem__(self, slug: str) -> ExperimentSummary:
        if slug not in self._summaries:
            # Not a KeyError: Jinja would swallow that into an Undefined with a vaguer message.
            raise ContentError(f"unknown experiment '{slug}' (known: {', '.join(self._summaries)})")
        return self._summaries[slug]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._summaries)

    def __len__(self) -> int:
        return len(self._summaries)


def prose_environment() -> SandboxedEnvironment:
    """Jinja2 for prose, sandboxed: an expression may read the data, never reach Python's internals.

    Strict about unknown names; no HTML escaping (markdown-it escapes). Nothing is
    evaluated while compiling (no optimizer, and a ``finalize`` that takes the context):
    Jinja would otherwise fold ``{{ 7**(7**9) }}`` or ``{{ "%0999999999d" % 1 }}`` at
    compile time, outside any template line, so its cost and its error had no line.
    """
    environment = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                       keep_trailing_newline=True, optimized=False, finalize=printed)
    environment.filters.update(thousands=thousands, num=num, pct=pct, ordinal=ordinal)
    return environment


@jinja2.pass_context
def printed(context: Any, value: Any) -> Any:
    """What ``{{ … }}`` prints: anything but None, which the summaries give for a value never reached
    (``epochs_to_90`` of a run that never reaches 90 %), and which would print "None"."""
    if value is None:
        raise ContentError(f"the expression {NOT_REACHED}")
    return value


def fill_variables(source: Source, summaries: dict[str, ExperimentSummary]) -> str:
    """Render the file's ``{{ … }}`` expressions; any failure names the file and line.

    ``figref`` writes a placeholder where the number goes: numbers come from the
    parsed page (``resolve_figrefs``), where a ``{# … #}`` or ``{% if %}`` may have removed a
    figure, or an expression printed one; ``check_figrefs`` checks each names a placed figure.
    """
    known = (*summaries, EXPLORER, *STATIC_FIGURES)

    def figref(slug: str) -> str:
        if slug not in known:
            raise ContentError(f"figref: no figure {slug!r} (known: {', '.join(known)})")
        return f"[Figure \ue000{slug}\ue001](#fig-{slug})"

    environment = prose_environment()
    step(source.name)
    try:
        template = environment.from_string(source.text)
        step(source.name, template.debug_info)
        return template.render(exp=Experiments(summaries), figref=figref)
    except MemoryError:
        raise  # the bounded child's to report, with the line
    except jinja2.TemplateSyntaxError as error:
        raise ContentError(f"{source.name}:{error.lineno}: template syntax: {error.message}") from error
    except jinja2.exceptions.SecurityError as error:
        raise ContentError(f"{source.name}:{template_line(error) or 1}: unsafe expression: {error}") from error
    except Exception as error:  # whatever an editor's expression raises becomes one line at its place
        message = error.message if isinstance(error, ContentError) else f"{type(error).__name__}: {error}"
        if isinstance(error, jinja2.UndefinedError):
            message = f"unknown variable: {error.message}"
        raise ContentError(f"{source.name}:{template_line(error) or 1}: {message}") from error


def markdown() -> MarkdownIt:
    """CommonMark plus tables, front matter, footnotes, heading anchors and our two containers.

    Raw HTML is off: editors write Markdown, and the page's CSP would block
    most of what raw HTML could add anyway. The rules that work through the
    paragraphs tell ``bounded.at`` which one they are in (``paragraph_by_paragraph``).
    """
    md = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(["table", "replacements",
                                                                             "smartquotes"])
    md.use(front_matter_plugin).use(footnote_plugin).use(anchors_plugin, min_level=3, max_level=3)
    md.use(container_plugin, "figure").use(container_plugin, EXPLORER)
    for name, rule in (("inline", inline), ("replacements", replace), ("smartquotes", smartquotes),
                       ("text_join", text_join)):
        md.core.ruler.at(name, paragraph_by_paragraph(rule))
    md.add_render_rule("link_open", render_link_open)
    md.add_render_rule("footnote_caption", render_footnote_caption)
    return md


def paragraph_by_paragraph(rule: Callable[[StateCore], None]) -> Callable[[StateCore], None]:
    """``rule`` run on one inline token (a paragraph, a heading, a cell) at a time, saying where with ``bounded.at``.

    markdown-it-py's smart quotes take quadratic time in unmatched quotes (the
    port of markdown-it#1208, fixed there by markdown-it#1209): a runaway paragraph
    is then stopped and named at its line. Each of these core rules treats the
    inline tokens independently, so running them one token at a time changes nothing.
    """
    def run(state: StateCore) -> None:
        locate = state.env.get(LOCATE)
        if locate is None:
            return rule(state)
        tokens = state.tokens
        try:
            for token in tokens:
                if token.type == "inline":
                    if token.map is not None:
                        at(locate(token.map[0]))
                    state.tokens = [token]
                    rule(state)
        finally:
            state.tokens = tokens
        return None

    return run


def render_footnote_caption(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Footnotes are lettered (a, b, …): numbers in brackets are the citations'."""
    return footnote_letter(int(tokens[idx].meta["id"]))


def footnote_letter(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: the marker of the ``index``-th footnote, as the list below numbers it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def render_link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Links leaving the site get ``rel="noopener noreferrer"``: the new page cannot reach ours."""
    token = tokens[idx]
    if str(token.attrGet("href") or "").startswith(("http://", "https://", "//")):
        token.attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


class FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without anchors and aliases, nesting or repeated keys, and with a line for every bad value.

    A few lines of nested aliases expand to gigabytes once the template prints them
    (48 s and 3.1 GB for one ``subtitle:``); front matter never needs them, so they
    are refused before anything is composed. PyYAML composes nested values by
    recursion: 400 ``[`` end in a 3,000-line RecursionError, so nesting stops at
    MAX_FRONT_MATTER_DEPTH. A key given twice would silently keep the last value.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (&name, *name) are not allowed "
                                              "in front matter", event.start_mark)
        if self.depth >= MAX_FRONT_MATTER_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"values nested more than {MAX_FRONT_MATTER_DEPTH} "
                                              "deep", event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key, _ in node.value if isinstance(node, yaml.MappingNode) else ():
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"key '{key.value}' is given twice (YAML "
                                                            "would keep the last)", key.start_mark)
                seen.add(key.value)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # A value its type cannot hold (date: 2026-13-45, !!int x) raises a bare ValueError: give it a line.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError) as error:
            shown = f"{node.value!r}: " if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(None, None, f"{shown}{error}", node.start_mark) from error


def load_yaml(text: str) -> tuple[Any, dict[Any, int]]:
    """The front matter's value, and the line (0-based, in ``text``) of each top-level key."""
    loader = FrontMatterLoader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode):
        return value, {}
    return value, {key.value: key.start_mark.line for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def split_front_matter(source: Source, tokens: list[Token], first: bool,
                       placed: tuple[str, ...] = ()) -> tuple[dict[str, Any], int]:
    """The file's checked front matter and the number of lines it spans; ``first`` is the title file,
    ``placed`` the figures of the article (``preview_figure`` must name one)."""
    if not tokens or tokens[0].type != "front_matter":
        raise ContentError(f"{source.name}:1: missing front matter (a '---' block with at least 'title:')")
    token = tokens[0]
    try:
        meta, key_lines = load_yaml(token.content) if token.content.strip() else (None, {})
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the opening ---, +1 for 1-based
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ContentError(f"{source.name}:{line}: malformed front matter: {problem}") from error
    if not isinstance(meta, dict):
        raise ContentError(f"{source.name}:2: malformed front matter: expected 'key: value' lines")
    assert token.map is not None
    def where(key: str) -> str:
        return f"{source.name}:{key_lines.get(key, 0) + 2}"

    return check_front_matter(meta, where, first, placed), token.map[1]


def check_front_matter(meta: dict[str, Any], where: Callable[[str], str], first: bool,
                       placed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keys the page template reads, checked; ``authors`` as a list of {name, affiliation} dicts."""
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ContentError(f"{where('title')}: front matter needs a 'title' (text)")
    if not first:
        return meta
    for key in ("subtitle", "description", "license"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise ContentError(f"{where(key)}: front matter '{key}' must be text (got {reprlib.repr(meta[key])})")
    if meta.get("date") is not None and not isinstance(meta["date"], (datetime.date, str)):
        raise ContentError(f"{where('date')}: front matter 'date' must be a date like 2026-11-27 "
                           f"(got {reprlib.repr(meta['date'])})")
    preview = meta.get("preview_figure")  # whose poster a shared link shows (default: the first figure's)
    if preview is not None and (not isinstance(preview, str) or preview not in placed):
        raise ContentError(f"{where('preview_figure')}: front matter 'preview_figure' must name a figure of the "
                           f"article (placed: {', '.join(placed)}; got {reprlib.repr(preview)})")
    return {**meta, "authors": check_authors(meta.get("authors"), where("authors"))}


def check_authors(value: Any, where: str) -> list[dict[str, Any]]:
    """``authors`` as the byline loops over it; a bare name stands for ``{name: …}``."""
    if value is None:
        return []
    entries = [{"name": a} if isinstance(a, str) else a for a in value] if isinstance(value, list) else None
    if entries is None or not all(isinstance(a, dict) and isinstance(a.get("name"), str)
                                  and isinstance(a.get("affiliation") or "", str) for a in entries):
        raise ContentError(f"{where}: front matter 'authors' must be a list of names or "
                           f"{{name, affiliation}} entries (got {reprlib.repr(value)})")
    return entries


def check_closed(tokens: list[Token], source: Source, lines: list[str]) -> None:
    """A code fence or figure left open at the end of a file would swallow every file after it."""
    line_count = len(lines) - (lines[-1] == "")
    for token in tokens:
        if token.level != 0 or token.map is None or token.map[1] < line_count:
            continue
        if token.type in CONTAINER_OPENS:
            what = "figure"
        elif token.type == "fence" and not (token.map[1] - 1 > token.map[0]
                                            and is_closing_fence(lines[token.map[1] - 1], token.markup)):
            what = "code block"
        else:
            continue
        raise ContentError(f"{source.name}:{token.map[0] + 1}: this {what} is never closed and would swallow "
                           f"the rest of the article (end it with a '{token.markup}' line)")


def is_closing_fence(line: str, markup: str) -> bool:
    """Whether ``line`` closes a fence opened with ``markup`` (the same character, at least as many)."""
    marker = line.strip()
    return len(marker) >= len(markup) and set(marker) == {markup[0]}


def section_id(source: Source) -> str:
    """Anchor of a section: the file name without its number and suffix."""
    return source.path.stem.split("-", 1)[1]


# A run of a section's HTML, or a figure with its caption's HTML, for the page's callback to draw.
Part = Union[str, tuple[FigureRef, str]]


@dataclass(frozen=True)
class Prose:
    """The article rendered but for its figures: what the bounded child hands back (picklable)."""

    metas: list[dict[str, Any]]  # front matter per file, checked, figrefs resolved
    parts: list[list[Part]]  # per file
    footnotes_html: str
    figures: list[FigureRef]  # as the parsed page places them


def parse_article(sources: list[Source], summaries: dict[str, ExperimentSummary], figures: list[FigureRef],
                  render_figure: Callable[[FigureRef, str], str], limits: Limits = Limits()) -> Article:
    """Run the front end on sources whose figures ``number_figures`` already found and checked.

    ``render_figure(ref, caption_html)`` returns a figure's HTML. ``summaries`` holds every
    registry experiment, so its keys are the slugs a figure may name. The figures are
    numbered again from the parsed page, the one rendered: that list is ``Article.figures``.
    The prose is rendered in a bounded child (``limits``); the figures here, by the caller.
    """
    prose = run_bounded(partial(read_prose, sources, summaries, figures), limits, sources[0].name)
    html = ["".join(part if isinstance(part, str) else render_figure(*part) for part in parts)
            for parts in prose.parts]
    sections = [Section(section_id(s), str(m["title"]), m, h)
                for s, m, h in zip(sources[1:], prose.metas[1:], html[1:])]
    return Article(prose.metas[0], html[0], sections, prose.footnotes_html, prose.figures)


def read_prose(sources: list[Source], summaries: dict[str, ExperimentSummary], figures: list[FigureRef]) -> Prose:
    """The work of :func:`parse_article`: expressions, front matter and Markdown, each step told to ``bounded``."""
    md = markdown()
    texts = [fill_variables(source, summaries) for source in sources]
    metas, bodies, ranges, offset = [], [], [], 0
    for index, (source, text) in enumerate(zip(sources, texts)):
        step(source.name)
        locate = partial(line_of, source.name)
        lines, tokens = split_lines(text), md.parse(text, {LOCATE: locate})
        meta, front_lines = split_front_matter(source, tokens, index == 0, tuple(f.slug for f in figures))
        check_closed(tokens, source, lines)
        check_lookalikes(tokens, locate)
        # Blank out the front matter, keeping line numbers, and glue the bodies into one document.
        body = "\n" * front_lines + "\n".join(lines[front_lines:]) + "\n\n"
        metas.append(meta)
        bodies.append(body)
        ranges.append((offset, offset + body.count("\n")))
        offset += body.count("\n")
    step(sources[0].name)
    locate = locator(sources, ranges)
    env: dict[str, Any] = {LOCATE: locate}
    tokens = md.parse("".join(bodies), env)
    placed = number_containers(containers(tokens, locate), tuple(summaries))
    check_figrefs(sources, texts, placed)
    check_ids(sources, tokens, locate)
    numbers = {f.slug: str(f.number) for f in placed}
    by_file, footnotes = split_tokens(tokens, ranges)
    parts = [render_parts(md, part, env, numbers) for part in by_file]
    footnotes_html = resolve_figrefs(md.renderer.render(footnotes, md.options, env), numbers) if footnotes else ""
    return Prose([resolve_in_meta(meta, numbers) for meta in metas], parts, footnotes_html, placed)


def check_lookalikes(tokens: list[Token], locate: Callable[[int], str]) -> None:
    """A paragraph line that starts like a ``:::`` fence but is not one would be published as text: name the fence
    it should be (``::: Figure x``, ``::: figur x``, ``:: figure x``, a ``:::`` that closes nothing)."""
    for index, token in enumerate(tokens):
        if token.type != "inline" or token.map is None or tokens[index - 1].type != "paragraph_open":
            continue
        for offset, line in enumerate(split_lines(token.content)):
            match = LOOKALIKE.match(line)
            if match:
                raise ContentError(f"{locate(token.map[0] + offset)}: '{line.strip()}' is not a figure line; "
                                   f"{nearest_fence(match[2], match[3])}")


def nearest_fence(word: str, argument: str) -> str:
    """What a fence-like line should have been, from its first word and the rest."""
    if not word:
        return "a ':::' line closes a figure, and none is open here: remove it, or open one above with " \
               "'::: figure SLUG'"
    kind = difflib.get_close_matches(word.lower(), FENCE_KINDS, n=1, cutoff=0.6)
    if not kind:
        return "a figure opens with '::: figure SLUG' or '::: explorer'"
    return f"write '{f'::: {kind[0]} {argument}'.rstrip()}'"


def locator(sources: list[Source], ranges: list[tuple[int, int]]) -> Callable[[int], str]:
    """Maps a line of the glued document (0-based) to "file:line" in its source."""
    def locate(line: int) -> str:
        index = next(i for i, (start, end) in enumerate(ranges) if start <= line < end)
        return f"{sources[index].name}:{line - ranges[index][0] + 1}"

    return locate


def check_figrefs(sources: list[Source], texts: list[str], figures: list[FigureRef]) -> None:
    """Every figref names a figure the parsed page places, so no link points at a missing anchor."""
    placed = [f.slug for f in figures]
    for source, text in zip(sources, texts):
        for match in FIGREF.finditer(text):
            if match[1] not in placed:
                line = text.count("\n", 0, match.start()) + 1
                raise ContentError(f"{source.name}:{line}: figref: no figure '{match[1]}' in the article "
                                   f"(placed: {', '.join(placed)})")


def resolve_figrefs(text: str, numbers: dict[str, str]) -> str:
    """figref's placeholders replaced by the figures' numbers."""
    return FIGREF.sub(lambda match: numbers[match[1]], text)


def resolve_in_meta(value: Any, numbers: dict[str, str]) -> Any:
    """``resolve_figrefs`` over the strings of a front matter value."""
    if isinstance(value, str):
        return resolve_figrefs(value, numbers)
    if isinstance(value, list):
        return [resolve_in_meta(v, numbers) for v in value]
    if isinstance(value, dict):
        return {k: resolve_in_meta(v, numbers) for k, v in value.items()}
    return value


def check_ids(sources: list[Source], tokens: list[Token], locate: Callable[[int], str]) -> None:
    """Section and heading ids are unique on the page, none is an id the page itself uses, and none is empty."""
    fix_file = "a section's id is its file name without the number: rename the file"
    claims = [(section_id(s), f"{s.name}:1", "section id", fix_file) for s in sources[1:]]
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.attrGet("id") is None or token.map is None:
            continue
        title = tokens[index + 1].content
        if not re.search(r"\w", title):  # the anchor keeps letters and digits only: "" (then "-1", "-2")
            raise ContentError(f"{locate(token.map[0])}: heading '{title}' has no letter or digit to make its id "
                               "from (reword the heading)")
        claims.append((str(token.attrGet("id")), locate(token.map[0]), "heading id", "reword the heading"))
    owners: dict[str, str] = {}
    for anchor, where, what, fix in claims:
        if PAGE_IDS.match(anchor):
            raise ContentError(f"{where}: {what} '{anchor}' is an id the page itself uses ({fix})")
        if anchor in owners:
            raise ContentError(f"{where}: {what} '{anchor}' is already used by {owners[anchor]} ({fix})")
        owners[anchor] = where


def split_tokens(tokens: list[Token], ranges: list[tuple[int, int]]) -> tuple[list[list[Token]], list[Token]]:
    """Top-level token runs per source file (by line range), and the footnote block at the end."""
    parts: list[list[Token]] = [[] for _ in ranges]
    footnotes: list[Token] = []
    current = 0
    for token in tokens:
        if token.type.startswith("footnote_block") or footnotes and footnotes[-1].type != "footnote_block_close":
            footnotes.append(token)
            continue
        if token.level == 0 and token.map is not None:
            current = next(i for i, (start, end) in enumerate(ranges) if start <= token.map[0] < end)
        parts[current].append(token)
    return parts, footnotes


def render_parts(md: MarkdownIt, tokens: list[Token], env: dict[str, Any], numbers: dict[str, str]) -> list[Part]:
    """A token run as HTML, each container left as (its figure, its caption's HTML); figrefs resolved."""
    out: list[Part] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type in CONTAINER_OPENS:
            close = matching_close(tokens, index)
            caption = md.renderer.render(tokens[index + 1:close], md.options, env)
            out.append((token.meta["figure"], resolve_figrefs(caption, numbers)))
            index = close + 1
            continue
        end = next((i for i in range(index, len(tokens)) if tokens[i].type in CONTAINER_OPENS), len(tokens))
        out.append(resolve_figrefs(md.renderer.render(tokens[index:end], md.options, env), numbers))
        index = end
    return out


def matching_close(tokens: list[Token], index: int) -> int:
    """Index of the token closing the container opened at ``index``."""
    closing = tokens[index].type.replace("_open", "_close")
    depth = 0
    for position in range(index, len(tokens)):
        if tokens[position].type == tokens[index].type:
            depth += 1
        elif tokens[position].type == closing:
            depth -= 1
            if depth == 0:
                return position
    raise ContentError("unclosed ':::' container")  # markdown-it closes containers at end of input
