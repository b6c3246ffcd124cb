from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

from lossarticle.errors import CacheError, ContentError
from lossarticle.render import BOKEH_SITE_PATH, CONTENT_SECURITY_POLICY
from tests.tiny import TINY_ARTICLE_WITH_STATIC, TINY_PROSE, copy_data, render_tiny, write_article
from tests.tiny import file_tree as tree

ROOT = Path(__file__).resolve().parents[1]



def test_render_writes_page_figures_bokeh_and_data(tiny_page) -> None:
    site = tiny_page
    html = (site / "index.html").read_text()
    assert "<title>Tiny &lt;article&gt;</title>" in html  # front matter is escaped
    assert "Intro &amp; more" in html and 'href="#intro"' in html
    assert f'content="{escape(CONTENT_SECURITY_POLICY)}"' in html
    assert html.count('<figure class="la-figure') >= 2 and 'id="fig-tiny"' in html
    for name in ("figures/tiny.js", "figures/tiny-opt.js", "figures/tiny-dirs.js", BOKEH_SITE_PATH,
                 "assets/lossarticle.js", "assets/site.css", "assets/favicon.svg", "data/tiny.json"):
        assert (site / name).is_file(), name
    assert (site / "figures/tiny.js").read_text().startswith('window.lossarticle.register("tiny",')
    # Relative URLs only: the page must work under a project path and from file://.
    for attribute in ("src=\"/", "href=\"/", "src=\"http", "url(/"):
        assert attribute not in html
    assert not list(site.parent.glob(".site.build-*")) + list(site.parent.glob(".site.old-*")), "staging left behind"
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_rendering_twice_gives_identical_trees(tmp_path, tiny_site, tiny_page) -> None:
    first = tree(tiny_page)  # an independent render of the same article over the same data, in this process
    article = write_article(tmp_path / "article", TINY_ARTICLE_WITH_STATIC)
    second = tree(render_tiny(copy_data(tiny_site, tmp_path / "b"), article))
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_a_content_error_leaves_the_previous_site_untouched(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_PROSE)
    render_tiny(site, article)
    before = tree(site)
    (article / "01-intro.md").write_text("---\ntitle: X\n---\n\n::: figure nope\nc\n:::\n")
    with pytest.raises(ContentError, match="01-intro.md:5: unknown figure 'nope'"):
        render_tiny(site, article)
    assert tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "article", "site"]


def test_missing_data_says_how_to_fix_it(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    (site / "data" / "tiny-opt.json").unlink()
    with pytest.raises(CacheError, match=r"tiny-opt\.json: missing; run `python generate\.py train` first"):
        render_tiny(site, write_article(tmp_path / "article", TINY_PROSE))


def test_render_command_never_imports_torch(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_ARTICLE_WITH_STATIC)  # every kind of figure
    code = ("import sys; sys.path[:0] = [{root!r}];"
            "from tests.tiny import render_tiny; from pathlib import Path;"
            "render_tiny(Path({site!r}), Path({article!r})); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code.format(root=str(ROOT), site=str(site), article=str(article))],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", result.stderr
    assert filecmp.cmp(site / "data" / "tiny.json", tiny_site / "data" / "tiny.json", shallow=False)


def test_the_published_index_lists_exactly_what_was_read(tmp_path, tiny_site) -> None:
    from lossarticle.schema import config_hash, read_index
    from tests.tiny import TINY_REGISTRY
    site = copy_data(tiny_site, tmp_path / "site")
    (site / "data" / "index.json").write_text('{"schema_version": 0, "experiments": "stale"}')
    (site / "data" / "retired-experiment.json").write_text("{}")  # left over from an older registry
    from lossarticle.render import RenderOptions, render_site
    from tests.tiny import TEMPLATES
    said: list[str] = []
    render_site(RenderOptions(site, write_article(tmp_path / "article", TINY_PROSE), TEMPLATES, TINY_REGISTRY),
                echo=said.append)
    assert said[0] == f"{site / 'data' / 'retired-experiment.json'}: no experiment of the registry has this file: " \
                      "it is not published, and went with the previous site"
    index = read_index(site / "data" / "index.json")
    assert [(e.slug, e.file, e.config_hash) for e in index.experiments] == [
        (e.slug, f"{e.slug}.json", config_hash(e)) for e in TINY_REGISTRY]
    assert not (site / "data" / "retired-experiment.json").exists()


def test_a_page_template_mistake_is_one_line_naming_the_template(tmp_path, tiny_site) -> None:
    import shutil

    from lossarticle.render import RenderOptions, render_site
    from tests.tiny import TEMPLATES, TINY_REGISTRY
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    base = templates / "base.html"
    lines = base.read_text().splitlines()
    base.write_text("\n".join(lines) + "\n{% if %}\n")
    site = copy_data(tiny_site, tmp_path / "site")
    options = RenderOptions(site, write_article(tmp_path / "article", TINY_PROSE), templates, TINY_REGISTRY)
    with pytest.raises(ContentError) as caught:
        render_site(options, echo=lambda line: None)
    assert caught.value.message.startswith(f"templates/base.html:{len(lines) + 1}: template syntax: ")


def test_the_explorer_opens_on_a_network_no_earlier_figure_has_shown(tiny_page) -> None:
    """The tiny article places the figure 'tiny' before its explorer: the explorer opens on the next choice."""
    html = (tiny_page / "index.html").read_text(encoding="utf-8")
    assert 'data-initial="tiny-dirs"' in html
    assert re.search(r'la-choice--initial" data-slug="tiny-dirs"', html)
