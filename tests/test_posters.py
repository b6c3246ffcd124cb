"""The static posters: byte-stable, true to the live figures' colours, and placed in every figure of the page."""
from __future__ import annotations

import math
import dataclasses
import io
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from lossarticle import packing, posters, style
from lossarticle.configs import Experiment, Run, mlp
from lossarticle.errors import ConfigError, ContentError
from lossarticle.figure_context import explorer_grid
from lossarticle.render import RenderCache, RenderOptions, render_site
from tests.records import synthetic_dataset, synthetic_document, synthetic_experiment
from tests.tiny import TEMPLATES, TINY_ARTICLE, TINY_REGISTRY, copy_data, write_article

ROOT = Path(__file__).resolve().parents[1]
TWO_RUNS = synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))
# Draws the synthetic two-run poster in a fresh interpreter and writes its two files' bytes.
FRESH_PROCESS = """
import sys
from lossarticle import posters
from lossarticle.configs import Run
from tests.records import synthetic_dataset, synthetic_document, synthetic_experiment
poster = posters.experiment_poster(synthetic_document(synthetic_experiment(runs=(Run("adam"), Run("sgd", "sgd", 0.1)))),
                                   synthetic_dataset(30))
sys.stdout.buffer.write(len(poster.svg).to_bytes(8, "big") + poster.svg + poster.png)
"""


def rgb_of(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int32)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32)


def near(image: np.ndarray, hex_colour: str, tolerance: int = 24) -> np.ndarray:
    """Where ``image`` has (about) the colour ``hex_colour``."""
    return np.abs(image - rgb_of(hex_colour)).max(axis=-1) <= tolerance


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk of a PNG file."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at:at + 4], "big")
        chunks.append((png[at + 4:at + 8], png[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


# ---------------------------------------------------------------- byte-stable

def test_two_renders_in_one_process_and_in_a_fresh_one_give_the_same_bytes() -> None:
    document, dataset = synthetic_document(TWO_RUNS), synthetic_dataset(30)
    first = posters.experiment_poster(document, dataset)
    second = posters.experiment_poster(document, dataset)
    assert first.svg == second.svg and first.png == second.png
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS], cwd=ROOT, capture_output=True, check=True)
    size = int.from_bytes(result.stdout[:8], "big")
    assert result.stdout[8:8 + size] == first.svg
    assert result.stdout[8 + size:] == first.png


def test_the_files_say_nothing_about_the_build_time_or_the_library_version() -> None:
    poster = posters.experiment_poster(synthetic_document(), synthetic_dataset(30))
    svg = poster.svg.decode()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg and matplotlib.__version__ not in svg
    text_chunks = [data for kind, data in png_chunks(poster.png) if kind in (b"tEXt", b"iTXt", b"zTXt", b"tIME")]
    assert text_chunks == [], text_chunks
    assert matplotlib.__version__.encode() not in poster.png


def test_the_style_leaves_matplotlibs_settings_as_they_were() -> None:
    before = dict(matplotlib.rcParams)
    posters.experiment_poster(synthetic_document(), synthetic_dataset(30))
    assert dict(matplotlib.rcParams) == before


def test_compact_svg_rounds_coordinates_and_nothing_else() -> None:
    svg = (b'<path d="M 12.345678 -0.001 L 3.14159 10.000001 z" style="stroke-width: 0.123456"/>'
           b'<use x="1.23456" y="7.0001"/><image transform="matrix(0.003333 0 0 1 2 3)"/>')
    assert posters.compact_svg(svg) == (b'<path d="M 12.35 -0 L 3.14 10 z" style="stroke-width: 0.123456"/>'
                                        b'<use x="1.23" y="7"/><image transform="matrix(0.003333 0 0 1 2 3)"/>')


# ---------------------------------------------------------------- what a poster shows

def test_the_svg_is_laid_out_at_its_size_and_keeps_vectors_with_its_images_rasterized() -> None:
    poster = posters.experiment_poster(synthetic_document(), synthetic_dataset(30))
    svg = poster.svg.decode()
    width, height = (float(v) for v in re.search(r'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    assert (poster.width, poster.height) == (round(width * 4 / 3), round(height * 4 / 3)) == (960, 317)
    assert 2 <= svg.count("<image ") <= 4  # regions with their points, the landscape, the colour bar
    assert svg.count("<path ") > 20  # axes, curves and paths stay vectors
    assert Image.open(io.BytesIO(poster.png)).size == (poster.png_width, poster.png_height) == (1500, 495)


def test_a_poster_is_not_blank_and_shows_each_path_on_its_landscape() -> None:
    document = synthetic_document(TWO_RUNS)
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_experiment(document, synthetic_dataset(30))
        poster = posters.saved("tiny", figure, "alt")
    landscape = next(ax for ax in figure.axes if ax.get_title("left").startswith("PCA of the path"))
    box = landscape.get_position()  # in figure fractions, as laid out for the files
    image = pixels(poster.png)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200, "the poster looks blank"
    height, width = image.shape[:2]
    inside = image[int(height * (1 - box.y1)):int(height * (1 - box.y0)), int(width * box.x0):int(width * box.x1)]
    for index in range(len(document.runs)):
        colour, _ = style.run_style(index)
        assert near(inside, colour).sum() > 100, f"run {index}'s path ({colour}) is not on the landscape"
    assert near(inside, style.LANDSCAPE_PALETTE[0], 3).sum() > 100  # the lowest loss, in the live palette


def test_region_colours_are_the_pages() -> None:
    # lossarticle.js colourLut: code = label << 3 | confidence >> 5, weight 0.1 + 0.55 · c/7, fading to white.
    label = np.array([[0, 1, 2]], dtype=np.uint8)
    confidence = np.array([[255, 0, 128]], dtype=np.uint8)
    rgb = posters.region_colours(label, confidence, style.CLASS_COLOURS)
    # #E69F00 at weight 0.65: 255 − 25·0.65 = 238.75, 255 − 96·0.65 = 192.6, 255 − 255·0.65 = 89.25;
    # #56B4E9 at 0.1; #009E73 at c = 4, weight 0.1 + 0.55 · 4/7 = 0.4143: 149.4, 214.8, 197.0.
    assert packing.CONFIDENCE_BITS == 3  # the arithmetic above
    assert rgb.tolist() == [[[239, 193, 89], [238, 248, 253], [149, 215, 197]]]


def test_every_run_of_several_has_its_path_and_the_loss_plot_its_legend() -> None:
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_experiment(synthetic_document(TWO_RUNS), synthetic_dataset(30))
    landscape = next(ax for ax in figure.axes if ax.get_title("left").startswith("PCA"))
    colours = {line.get_color() for line in landscape.get_lines()}
    assert colours == {style.run_style(0)[0], style.run_style(1)[0]}
    loss = next(ax for ax in figure.axes if ax.get_title("left") == "Training loss")
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ["adam", "sgd"]
    assert next(ax for ax in figure.axes if ax.get_title("left").startswith("Decision regions")).get_title("left") == \
        "Decision regions (adam)"


def test_three_planes_give_three_landscapes_on_one_colour_scale() -> None:
    experiment = synthetic_experiment(planes=("random", "init-final", "pca"))
    document = synthetic_document(experiment)
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_experiment(document, synthetic_dataset(30))
    titles = [ax.get_title("left") for ax in figure.axes]
    assert [t for t in titles if "true proportions" in t] == [
        "Random directions · true proportions", "Initial → final · true proportions",
        "PCA of the path · true proportions"]
    images = [ax.get_images()[0] for ax in figure.axes if "true proportions" in ax.get_title("left")]
    scale = posters.figure_scale_of(document)
    assert {(im.norm.vmin, im.norm.vmax) for im in images} == {(scale.low, scale.high)}
    bar = figure.axes[-1]
    assert [t.get_text() for t in bar.get_yticklabels()] == list(scale.labels)


def test_the_spiral_shows_every_split_with_its_own_marker_and_counts() -> None:
    dataset = synthetic_dataset(30)
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_spiral(dataset)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["train · 30 points", "validation · 0 points", "test · 0 points", "class 1", "class 2",
                      "class 3"]
    poster = posters.spiral_poster(dataset)
    assert poster.alt == "The spiral data set: 3 interleaved classes, 30 train, 0 validation, 0 test points, " \
                         "standardized."


def test_the_overview_has_one_panel_per_explorer_network_titled_with_its_accuracy() -> None:
    registry = (Experiment(slug="logistic", title="logistic regression", depth=0, width=0, epochs=8, explorer=True),
                *(mlp(d, w, epochs=8, explorer=True) for d, w in ((1, 5), (1, 20), (5, 5))))
    documents = {e.slug: synthetic_document(synthetic_experiment(e.slug)) for e in registry}
    grid = explorer_grid(registry)
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_overview(grid, documents, synthetic_dataset(30))
    titles = [ax.get_title("left") for ax in figure.axes]
    # synthetic runs end at 90 % training accuracy
    assert titles == ["logistic regression · train 90\u202f%", "1\u2009×\u20095 · train 90\u202f%",
                      "1\u2009×\u200920 · train 90\u202f%", "5\u2009×\u20095 · train 90\u202f%"]
    assert [ax.get_ylabel() for ax in figure.axes] == ["", "1 hidden layer", "", "5 hidden layers"]


def test_the_seeds_figure_has_a_column_per_seeded_architecture_and_counts_the_stuck() -> None:
    experiments = [dataclasses.replace(mlp(d, 5, epochs=8), seeds=4) for d in (1, 5)]
    documents = [synthetic_document(dataclasses.replace(synthetic_experiment(e.slug), depth=e.depth, seeds=4))
                 for e in experiments]
    ln3 = np.float32(math.log(3))
    losses = np.array([ln3, ln3 + np.float32(0.005), 0.2, np.nan], np.float32)  # two at ln 3, one diverged
    documents[1] = dataclasses.replace(documents[1], seeds=dataclasses.replace(documents[1].seeds,
                                                                              final_train_loss=losses))
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_seeds(documents)
    [ax] = figure.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1×4", "5×4"]  # synthetic configs are 4 wide
    assert [t.get_text() for t in ax.texts] == ["0/4", "2/4"]
    assert "5×4: 2 of 4 at ln 3" in posters.seeds_alt(documents)
    first = posters.seeds_poster(documents)
    assert first.svg == posters.seeds_poster(documents).svg


# ---------------------------------------------------------------- on the page

# Posters are redrawn only when their data files change (copies keep their times): one drawing per module.
CACHE = RenderCache()


@pytest.fixture(scope="module")
def page(tiny_page) -> tuple[Path, str]:
    return tiny_page, (tiny_page / "index.html").read_text()  # TINY_ARTICLE_WITH_STATIC


def figures_of(html: str) -> dict[str, str]:
    """Each <figure> of the page by id, as HTML text."""
    return {m[1]: m[0] for m in re.finditer(r'<figure [^>]*id="fig-([a-z0-9-]+)".*?</figure>', html, re.DOTALL)}


def test_every_figure_holds_its_poster_in_the_html_before_any_script_runs(page) -> None:
    site, html = page
    figures = figures_of(html)
    assert list(figures) == ["tiny", "explorer", "tiny-opt", "spiral", "overview", "seeds", "sharpness", "tiny-skip"]
    # The explorer shows the network it opens on: the first that no figure before it has shown.
    expected = {"tiny": "tiny", "explorer": "tiny-dirs", "tiny-opt": "tiny-opt", "spiral": "spiral",
                "overview": "overview", "seeds": "seeds", "sharpness": "sharpness", "tiny-skip": "tiny-skip"}
    for figure_id, figure in figures.items():
        image = re.search(r'<img class="(la-poster|la-static-picture)" src="posters/([a-z0-9-]+)\.svg" '
                          r'width="(\d+)" height="(\d+)" alt="([^"]+)" loading="lazy" decoding="async">', figure)
        assert image, f"{figure_id}: no poster"
        assert image[2] == expected[figure_id] and int(image[3]) > 100 and int(image[4]) > 100
        assert (site / "posters" / f"{image[2]}.svg").read_bytes().startswith(b"<?xml")
        assert (site / "posters" / f"{image[2]}.png").read_bytes().startswith(b"\x89PNG")
        if figure_id != "explorer":
            assert f'<a href="posters/{image[2]}.svg" download>SVG</a>' in figure
            assert f'<a href="posters/{image[2]}.png" download>PNG</a>' in figure
        if "la-plots" in figure:
            assert figure.index("<img") < figure.index("la-plots")  # outside the box the script replaces
    assert "Download the data (JSON)</a> <span class=\"la-download la-poster-links\">or the picture:" in html
    narrow = [f"{slug}-narrow.svg" for slug in ("overview", "seeds", "sharpness", "spiral")]  # a phone's
    assert sorted(p.name for p in (site / "posters").iterdir()) == sorted(
        [f"{slug}.{ext}" for slug in ("overview", "seeds", "sharpness", "spiral", "tiny", "tiny-dirs", "tiny-opt", "tiny-skip")
         for ext in ("png", "svg")]
        + narrow)


def test_static_figures_are_a_picture_and_a_caption_without_script(page) -> None:
    _, html = page
    for slug in ("spiral", "overview"):
        figure = figures_of(html)[slug]
        assert 'class="la-static"' in figure and "data-src" not in figure and "la-controls" not in figure
        assert "<figcaption><span class=\"la-figure-number\">Figure" in figure
    assert "<em>points</em>" in figures_of(html)["spiral"]


def test_link_preview_tags_need_the_published_address(tmp_path, tiny_site) -> None:
    _, html = render_with(tmp_path / "a", tiny_site, TINY_ARTICLE, None)
    assert 'property="og:image"' not in html and 'property="og:url"' not in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert '<meta property="og:title" content="Tiny &lt;article&gt;">' in html
    site, html = render_with(tmp_path / "b", tiny_site, TINY_ARTICLE, "https://example.org/repo/")
    assert '<meta property="og:image" content="https://example.org/repo/posters/tiny.png">' in html
    assert '<meta property="og:url" content="https://example.org/repo/">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    width, height = Image.open(site / "posters" / "tiny.png").size
    assert f'content="{width}"' in html and f'content="{height}"' in html


def test_the_title_front_matter_picks_the_preview_figure(tmp_path, tiny_site) -> None:
    title = TINY_ARTICLE["00-title.md"].replace("subtitle:", "preview_figure: tiny-opt\nsubtitle:")
    _, html = render_with(tmp_path / "a", tiny_site, {**TINY_ARTICLE, "00-title.md": title}, "https://e.org/")
    assert '<meta property="og:image" content="https://e.org/posters/tiny-opt.png">' in html
    wrong = title.replace("preview_figure: tiny-opt", "preview_figure: tiny-dirs")
    message = (r"^article/00-title\.md:3: front matter 'preview_figure' must name a figure of the article "
               r"\(placed: tiny, explorer, tiny-opt; got 'tiny-dirs'\)")
    with pytest.raises(ContentError, match=message):
        render_with(tmp_path / "b", tiny_site, {**TINY_ARTICLE, "00-title.md": wrong}, None)


@pytest.mark.parametrize("address", ["example.org/repo/", "ftp://example.org/", "https://example.org/repo",
                                     "https:///repo/"])
def test_a_base_url_that_is_not_an_absolute_http_address_is_refused(tmp_path, address) -> None:
    with pytest.raises(ConfigError, match=r"^base_url='.*': must be an absolute http\(s\) address ending in '/'$"):
        RenderOptions(tmp_path / "site", tmp_path / "article", TEMPLATES, TINY_REGISTRY, base_url=address)


@pytest.mark.parametrize("address, problem", [
    ("https://exa mple.com/", "must not contain spaces"),
    ("https://example.com:99999/", "port 99999 is not in 0-65535"),
    ("https://exa_mple!.com/", "'exa_mple!.com' is not a host name"),
    ("https://-example.com/", "'-example.com' is not a host name"),
])
def test_a_base_url_a_browser_would_refuse_is_refused(tmp_path, address: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RenderOptions(tmp_path / "site", tmp_path / "article", TEMPLATES, TINY_REGISTRY, base_url=address)
    assert caught.value.message == f"base_url={address!r}: {problem}"
    for good in ("https://user.github.io/repo/", "http://127.0.0.1:8000/", "http://[::1]:8000/", "https://exämple.org/"):
        RenderOptions(tmp_path / "site", tmp_path / "article", TEMPLATES, TINY_REGISTRY, base_url=good)


def test_the_command_line_takes_the_base_url_from_the_pages_workflow(monkeypatch) -> None:
    from click.testing import CliRunner

    from generate import cli
    result = CliRunner().invoke(cli, ["render", "--base-url", "ftp://example.org"])
    assert result.exit_code == 1 and result.output == \
        "Error: base_url='ftp://example.org/': must be an absolute http(s) address ending in '/'\n"
    monkeypatch.setenv("LOSSARTICLE_BASE_URL", "gopher://x")
    assert "base_url='gopher://x/'" in CliRunner().invoke(cli, ["render"]).output
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    assert "id: pages\n        uses: actions/configure-pages@" in workflow
    assert workflow.index("uses: actions/configure-pages@") < workflow.index("run: make site")
    assert "LOSSARTICLE_BASE_URL: ${{ steps.pages.outputs.base_url }}" in workflow


def render_with(root: Path, tiny_site: Path, article: dict[str, str], base_url: str | None) -> tuple[Path, str]:
    site = copy_data(tiny_site, root / "site")
    options = RenderOptions(site, write_article(root / "article", article), TEMPLATES, TINY_REGISTRY,
                            base_url=base_url)
    render_site(options, CACHE, echo=lambda line: None)
    return site, (site / "index.html").read_text()


@pytest.mark.parametrize("planes", [("pca",), ("random", "init-final", "pca")])
def test_every_map_in_true_proportions_draws_a_unit_as_long_across_as_up(planes) -> None:
    # The posters' promise, measured as laid out for the files (issue 16): the landscape's axes box in inches
    # over its x and y limits.
    document = synthetic_document(synthetic_experiment(planes=planes))
    with matplotlib.rc_context(posters.STYLE):
        figure = posters.draw_experiment(document, synthetic_dataset(30))
        figure.draw_without_rendering()  # constrained layout, then each axes' box shrunk to its aspect
    maps = [ax for ax in figure.axes if ax.get_title("left").endswith("· true proportions")]
    assert len(maps) == len(planes)
    for ax in maps:
        box = ax.get_position()  # in figure fractions
        width, height = box.width * figure.get_figwidth(), box.height * figure.get_figheight()
        (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
        across, up = width / (right - left), height / (top - bottom)  # inches per unit
        # One pixel of the PNG (the coarser file) over the box: what rounding to pixels could cost.
        assert across / up == pytest.approx(1, abs=1 / (posters.PNG_DPI * min(width, height))), ax.get_title("left")


def test_static_figures_offer_a_phone_a_narrow_picture_with_type_it_can_read(page) -> None:
    """Issue 16, finding 9: scaled to a phone's column, the wide pictures set 7-pt labels at about 4 px."""
    site, html = page
    for slug in ("spiral", "overview", "seeds"):
        figure = figures_of(html)[slug]
        source = re.search(r'<picture><source media="\(max-width: (\d+)px\)" srcset="posters/([a-z-]+)\.svg" '
                           r'width="(\d+)" height="(\d+)"><img class="la-static-picture"', figure)
        assert source and source[2] == f"{slug}-narrow" and int(source[1]) >= 375, (slug, figure[:400])
        svg = (site / "posters" / f"{slug}-narrow.svg").read_text()
        view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg)[1])
        sizes = [float(size) for size in re.findall(r"font(?:-size)?:\s*([\d.]+)px", svg)]
        # Laid out at its own width, or at most 10 % narrower (a 375 px screen's column), no text under 10 px.
        assert sizes and min(sizes) * 0.9 * int(source[3]) / view_width >= 10, (slug, min(sizes))
