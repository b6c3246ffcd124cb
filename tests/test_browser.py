"""The built page in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

Runs against a site rendered from the tiny registry and served on 127.0.0.1.
Screenshots of the whole page at desktop and phone width are kept in
test-artifacts/ for a person to look at.
"""
from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

from lossarticle.browser import launch_chromium
from lossarticle.render import RenderOptions
from lossarticle.serve import ServeOptions, start_server
from tests.tiny import (TEMPLATES, TINY_ARTICLE, TINY_ARTICLE_WITH_STATIC, TINY_REGISTRY, copy_data, render_tiny,
                        serving, wait_for, write_article)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FIGURES = ["tiny", "explorer", "tiny-opt"]  # in page order, as TINY_ARTICLE places them
PICTURES = [*FIGURES, "spiral", "overview", "seeds"]  # every figure of the page: the live ones, then the static ones
POSTER = "#fig-{} > img"  # a figure's poster (lossarticle/posters.py)
# Each poster's load state, by figure id; evaluate() runs in Playwright's own world, so it works without JS too.
POSTER_STATES = ("() => Object.fromEntries([...document.querySelectorAll('figure > img')].map(i => "
                 "[i.closest('figure').id.slice(4), {loaded: i.complete && i.naturalWidth > 0, src: i.src}]))")
# Listen for CSP violations before any page script runs.
WATCH_CSP = "window.__csp = []; document.addEventListener('securitypolicyviolation', " \
            "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_site) -> Path:
    root = tmp_path_factory.mktemp("browser")
    return render_tiny(copy_data(tiny_site, root / "site"), write_article(root / "article", TINY_ARTICLE_WITH_STATIC))


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    server = start_server(site, 0)
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


class Visit:
    """One page with everything a test may want to assert on recorded."""

    def __init__(self, browser: Any, url: str, width: int = 1280, reduced_motion: bool = False,
                 init_script: str = "", height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           reduced_motion="reduce" if reduced_motion else "no-preference")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.add_init_script(WATCH_CSP + init_script)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.goto(url)

    def ready(self, slug: str) -> None:
        """Scroll a figure into view and wait until its data is embedded."""
        selector = f"#fig-{slug}"
        self.page.locator(selector).scroll_into_view_if_needed()
        self.page.wait_for_selector(f"{selector}[data-ready='true']", timeout=20_000)

    def wait_until(self, expression: str, timeout_s: float = 10.0) -> None:
        """Poll ``expression`` with evaluate(): wait_for_function would eval() and trip our CSP."""
        deadline = time.monotonic() + timeout_s
        while not self.page.evaluate(expression):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            self.page.wait_for_timeout(50)

    def state(self, slug: str) -> dict[str, Any]:
        return self.page.evaluate("slug => window.lossarticle.state(slug)", slug)

    def plots_png(self, slug: str) -> bytes:
        selector = "#explorer-plots" if slug == "explorer" else f"#fig-{slug}-plots"
        self.page.wait_for_timeout(150)  # Bokeh paints on the next animation frame
        return self.page.locator(selector).screenshot()

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def visit(browser, base_url) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_page(**options: Any) -> Visit:
        opened.append(Visit(browser, base_url, **options))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def distinct_colours(png: bytes) -> int:
    return len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_every_figure_renders_without_errors_or_foreign_requests(visit, base_url) -> None:
    page = visit()
    for slug in FIGURES:
        page.ready(slug)
        assert distinct_colours(page.plots_png(slug)) > 50, f"{slug}: plots look blank"
    assert page.errors == []
    assert page.page.evaluate("window.__csp") == []
    assert page.requests and all(url.startswith(base_url) for url in page.requests), page.requests
    assert not any(url.endswith("favicon.ico") for url in page.requests)


def test_slider_changes_the_canvas_and_the_readout(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")
    slider = page.page.locator("#fig-tiny-epoch")
    readout = page.page.locator("#fig-tiny .la-readout")
    slider.fill("8")
    before_png, before_text = page.plots_png("tiny"), readout.inner_text()
    slider.fill("0")
    after_png, after_text = page.plots_png("tiny"), readout.inner_text()
    assert before_png != after_png
    assert before_text.startswith("epoch 8 / 8") and after_text.startswith("epoch 0 / 8"), (before_text, after_text)
    assert "loss" in after_text and "train" in after_text and "val" in after_text
    assert page.state("tiny")["epoch"] == 0


def test_keyboard_and_step_buttons_move_the_epoch(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")
    page.page.locator("#fig-tiny-epoch").fill("4")
    page.page.locator("#fig-tiny-epoch").focus()
    page.page.keyboard.press("ArrowLeft")
    assert page.state("tiny")["epoch"] == 3
    page.page.get_by_role("button", name="Next epoch").first.click()
    assert page.state("tiny")["epoch"] == 4


def test_play_advances_the_epoch(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")
    page.page.locator("#fig-tiny-epoch").fill("0")
    page.page.locator("#fig-tiny .la-play").click()
    page.wait_until("window.lossarticle.state('tiny').epoch > 0")
    assert page.state("tiny")["epoch"] > 0


def test_reduced_motion_never_autoplays(visit) -> None:
    page = visit(reduced_motion=True)
    for slug in FIGURES:
        page.ready(slug)
    page.page.wait_for_timeout(1_000)
    for slug in FIGURES:
        state = page.state(slug)
        assert not state["playing"] and state["epoch"] == state["max"], (slug, state)


def test_figures_autoplay_once_visible_without_reduced_motion(visit) -> None:
    # Record every readout from the moment the DOM exists: the tiny run plays through in a blink.
    page = visit(init_script="""window.__readouts = [];
        document.addEventListener('DOMContentLoaded', () => {
            const out = document.querySelector('#fig-tiny .la-readout');
            new MutationObserver(() => window.__readouts.push(out.textContent))
                .observe(out, {childList: true, characterData: true, subtree: true}); });""")
    page.ready("tiny")
    page.wait_until("window.__readouts.some(t => t.startsWith('epoch 0 /'))")
    page.wait_until("window.__readouts.some(t => t.startsWith('epoch 8 /'))")


def test_sliders_have_accessible_names(visit) -> None:
    page = visit(reduced_motion=True)
    for slug in FIGURES:
        page.ready(slug)
    assert page.page.get_by_role("slider", name="Epoch").count() == len(FIGURES)
    assert page.page.get_by_role("button", name="Play").count() == len(FIGURES)


def test_explorer_switches_experiment_client_side(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("explorer")
    first = page.state("explorer")["slug"]
    slug = page.page.locator("#fig-explorer .la-choice[aria-pressed='false']").first.get_attribute("data-slug")
    other = page.page.locator(f"#fig-explorer .la-choice[data-slug='{slug}']")
    before = page.plots_png("explorer")
    other.click()
    page.wait_until(f"window.lossarticle.state('explorer').slug === '{slug}'")
    page.wait_until("window.lossarticle.state('explorer').ready")
    assert slug != first and page.plots_png("explorer") != before
    assert other.get_attribute("aria-pressed") == "true"
    assert page.errors == []


def test_no_horizontal_overflow_at_375px_and_screenshots(visit) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, name in ((1280, "desktop"), (375, "phone")):
        page = visit(width=width, reduced_motion=True)
        for slug in FIGURES:
            page.ready(slug)
        page.page.wait_for_timeout(300)
        scroll_width = page.page.evaluate("document.documentElement.scrollWidth")
        page.page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)
        assert scroll_width <= width, f"{name}: page is {scroll_width}px wide"
        assert page.errors == []


def test_the_page_works_opened_as_a_file(browser, site) -> None:
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / "index.html").as_uri())
    page.locator("#fig-tiny").scroll_into_view_if_needed()
    page.wait_for_selector("#fig-tiny[data-ready='true']", timeout=20_000)
    assert errors == []
    context.close()


def test_epoch_markers_follow_the_slider_inside_their_plots(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")
    slider = page.page.locator("#fig-tiny-epoch")

    def marker_boxes() -> list[dict[str, float]]:
        return page.page.evaluate("""() => [...document.querySelectorAll('#fig-tiny .la-marker')].map(m => {
            const line = m.getBoundingClientRect(), panel = m.parentElement.getBoundingClientRect();
            return {x: line.left - panel.left, width: panel.width, height: line.height}; })""")

    slider.fill("0")
    start = marker_boxes()
    slider.fill("8")
    end = marker_boxes()
    assert len(start) == 4  # loss, accuracy, recorded-vs-plane and distance panels
    for a, b in zip(start, end):
        assert 0 < a["x"] < b["x"] < b["width"] and b["height"] > 20
    dot = page.page.locator("#fig-tiny .la-dot").first
    assert dot.is_visible()


def test_a_figure_that_fails_says_so_inside_the_figure(browser, tmp_path, site) -> None:
    import shutil
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    # A spec the page cannot build a scene from: the error surfaces in attach, after embedding.
    script = (broken / "figures" / "tiny.js").read_text()
    (broken / "figures" / "tiny.js").write_text(script.replace('"planes":["pca"]', '"planes":["nowhere"]', 1))
    server = start_server(broken, 0)
    try:
        page = Visit(browser, f"http://127.0.0.1:{server.server_port}/", reduced_motion=True)
        page.page.locator("#fig-tiny").scroll_into_view_if_needed()
        alert = page.page.locator("#fig-tiny .la-error[role='alert']")
        alert.wait_for(timeout=20_000)
        assert alert.inner_text().startswith("This figure could not be loaded (")
        assert page.page.locator("#fig-tiny-epoch").is_disabled()
        assert page.page.locator("#fig-tiny .la-panel").count() == 0  # no half-built plots left behind
        page.ready("tiny-opt")  # the other figures are unaffected
        assert [e for e in page.errors if "pageerror" in e] == []  # no unhandled rejection
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_serve_shows_the_build_error_in_the_page_and_reloads_once_fixed(browser, tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_ARTICLE)
    options = ServeOptions(RenderOptions(site, article, TEMPLATES, TINY_REGISTRY), 0,
                           registry_file=tmp_path / "no-registry.py", poll_s=0.1)
    with serving(options) as (url, said):
        wait_for(lambda: any(line.startswith("rebuilt in ") for line in said))
        context = browser.new_context(reduced_motion="reduce")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(WATCH_CSP)
        page.goto(url)
        page.evaluate("window.__first_load = true")  # gone after a reload

        (article / "01-intro.md").write_text("---\ntitle: X\n---\n\nok\n{{ nope }}\n")
        banner = page.locator("#lossarticle-serve-status[data-kind='error']")
        banner.wait_for(timeout=20_000)
        assert banner.locator(".la-serve-where").inner_text() == "article/01-intro.md:6: "
        assert banner.locator(".la-serve-message").inner_text() == "unknown variable: 'nope' is undefined"
        assert page.evaluate("window.__first_load") is True and page.locator("#fig-tiny").count() == 1

        (article / "01-intro.md").write_text(TINY_ARTICLE["01-intro.md"].replace("Drag", "Now drag"))

        def reloaded() -> bool:
            try:
                return page.evaluate("!window.__first_load && document.body.innerText.includes('Now drag')")
            except PlaywrightError:  # the old document went away mid-call
                return False

        wait_for(reloaded, timeout_s=20)
        assert page.locator("#lossarticle-serve-status").count() == 0
        assert page.evaluate("window.__csp") == [] and errors == []
        context.close()


def test_proportions_and_colour_scale_toggle_per_figure(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")
    landscape = page.page.locator("#fig-tiny-plots-landscape-pca")

    def picture() -> bytes:
        page.page.wait_for_timeout(200)
        return landscape.screenshot()

    true_view = picture()
    assert page.state("tiny")["view"] == "true" and page.state("tiny")["scale"] == "figure"
    page.page.locator("#fig-tiny .la-stretch").click()
    assert page.state("tiny")["view"] == "stretched" and page.page.locator("#fig-tiny .la-stretch").get_attribute(
        "aria-pressed") == "true"
    assert picture() != true_view
    page.page.locator("#fig-tiny .la-stretch").click()
    page.page.locator("#fig-tiny .la-shared").click()
    assert page.state("tiny")["scale"] == "shared" and picture() != true_view
    page.page.locator("#fig-tiny .la-shared").click()
    assert picture() == true_view  # back to where it started, pixel for pixel
    assert page.errors == []


def test_hovering_reads_values_off_the_plots(visit) -> None:
    page = visit(reduced_motion=True)
    page.ready("tiny")

    def hover(panel: str, x: float, y: float) -> str:
        page.page.locator(f"#fig-tiny-plots-{panel}").scroll_into_view_if_needed()
        box = page.page.locator(f"#fig-tiny-plots-{panel}").bounding_box()
        for nudge in (0.0, 0.01):  # Bokeh shows a tooltip on a move within the plot, not on entering it
            page.page.wait_for_timeout(400)
            page.page.mouse.move(box["x"] + box["width"] * (x + nudge), box["y"] + box["height"] * y)
        tooltip = page.page.locator(".bk-tooltip-content:visible").first  # BokehJS puts tooltips outside the plot
        tooltip.wait_for(timeout=5_000)
        return tooltip.inner_text()

    text = hover("landscape-pca", 0.45, 0.5)
    assert re.search(r"a:\s*-?\d", text) and re.search(r"loss:\s*\d", text) and re.search(r"accuracy:\s*\d+ %", text)
    text = hover("loss", 0.5, 0.5)
    assert re.search(r"epoch:\s*\d", text) and re.search(r"loss:\s*\d", text), text


# ---------------------------------------------------------------- posters: without JavaScript, and on paper

def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF that Chromium wrote (one ``/Type /Page`` object each)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def wait_for_posters(page: Page, timeout_s: float = 20) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        states = page.evaluate(POSTER_STATES)
        if all(state["loaded"] for state in states.values()):
            return states
        assert time.monotonic() < deadline, f"posters still loading: {states}"
        page.wait_for_timeout(50)


def test_without_javascript_every_figure_shows_its_poster(browser, base_url) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base_url)
    # No scrolling: with scripting off Chromium does not defer loading="lazy" images (tracking-free by design).
    states = wait_for_posters(page)
    assert list(states) == PICTURES
    for slug in PICTURES:
        poster = page.locator(POSTER.format(slug))
        assert poster.is_visible(), slug
        assert distinct_colours(poster.screenshot()) > 30, f"{slug}: the poster looks blank"
        assert poster.get_attribute("loading") == "lazy" and poster.get_attribute("alt")
    for slug in FIGURES:  # no empty "Loading the figure…" box under the picture, no controls that cannot work
        assert not page.locator(f"#fig-{slug} .la-loading").is_visible(), slug
        assert not page.locator(f"#fig-{slug} .la-controls").is_visible(), slug
    page.screenshot(path=str(ARTIFACTS / "page-no-javascript.png"), full_page=True)
    context.close()


def test_the_live_figure_replaces_its_poster_once_ready(visit) -> None:
    page = visit(reduced_motion=True)
    for slug in FIGURES:
        page.ready(slug)
        assert not page.page.locator(POSTER.format(slug)).is_visible(), slug
        assert page.page.locator(f"#fig-{slug} .la-panel").first.is_visible(), slug
    for slug in ("spiral", "overview"):  # pictures only: they stay
        page.page.locator(POSTER.format(slug)).scroll_into_view_if_needed()
        assert page.page.locator(POSTER.format(slug)).is_visible(), slug
    page.page.locator("#fig-explorer .la-choice[aria-pressed='false']").first.click()
    assert not page.page.locator(POSTER.format("explorer")).is_visible()  # never the first network's picture
    assert page.page.locator("#explorer-plots").is_visible()  # the plots stay while the next one loads
    assert page.errors == []


def test_printing_shows_every_poster_and_no_controls(visit) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = visit(width=1280, height=400, reduced_motion=True)  # short: the last posters lie beyond lazy reach
    page.page.wait_for_selector("#fig-tiny[data-ready='true']", timeout=20_000)  # live: its poster is hidden
    before = page.page.evaluate(POSTER_STATES)
    assert not page.page.locator(POSTER.format("tiny")).is_visible()
    page.page.emulate_media(media="print")
    states = wait_for_posters(page.page)  # assets/posters.js asks for the lazy ones far below
    for slug in PICTURES:
        poster = page.page.locator(POSTER.format(slug))
        assert poster.is_visible(), slug
        assert poster.evaluate("i => getComputedStyle(i.closest('figure')).breakInside") == "avoid", slug
    for hidden in (".la-controls", ".la-plots", ".la-picker", ".la-poster-links"):
        for element in page.page.locator(hidden).all():
            assert not element.is_visible(), hidden
    page.page.screenshot(path=str(ARTIFACTS / "page-print.png"), full_page=True)
    pdf = page.page.pdf(path=str(ARTIFACTS / "page.pdf"), format="A4", print_background=False)
    # Title and lead, three live figures, two pictures: five A4 pages here; 17 sheets of blank boxes before.
    assert 3 <= pdf_pages(pdf) <= 8, pdf_pages(pdf)
    assert page.errors == []
    assert states.keys() == before.keys() and not all(state["loaded"] for state in before.values()), \
        "every poster had loaded before printing: this test no longer checks the lazy ones"


def test_printing_without_javascript_shows_every_poster(browser, base_url) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url)
    page.emulate_media(media="print")
    wait_for_posters(page)
    assert all(page.locator(POSTER.format(slug)).is_visible() for slug in PICTURES)
    assert 3 <= pdf_pages(page.pdf(format="A4")) <= 8
    context.close()
