from __future__ import annotations

import urllib.request

from lossarticle.render import RenderCache, RenderOptions
from lossarticle.serve import rebuild, snapshot, start_server
from tests.tiny import TEMPLATES, TINY_ARTICLE, TINY_REGISTRY, copy_data, write_article


def options(site, article) -> RenderOptions:
    return RenderOptions(site_dir=site, article_dir=article, templates_dir=TEMPLATES, registry=TINY_REGISTRY)


def test_prose_edit_rebuilds_and_a_broken_edit_keeps_the_served_site(tmp_path, tiny_site) -> None:
    site = copy_data(tiny_site, tmp_path / "site")
    article = write_article(tmp_path / "article", TINY_ARTICLE)
    said: list[str] = []
    cache = RenderCache()
    assert rebuild(options(site, article), cache, said.append) > 0
    server = start_server(site, 0)
    url = f"http://127.0.0.1:{server.server_port}/index.html"
    try:
        seen = snapshot([article, TEMPLATES])
        (article / "01-intro.md").write_text(TINY_ARTICLE["01-intro.md"].replace("Drag", "Please drag"))
        assert snapshot([article, TEMPLATES]) != seen
        rebuild(options(site, article), cache, said.append)
        assert said[-1].startswith("rebuilt in ")
        assert "Please drag" in urllib.request.urlopen(url).read().decode()  # served after the swap

        (article / "01-intro.md").write_text("---\ntitle: X\n---\n\n{{ nope }}\n")
        rebuild(options(site, article), cache, said.append)
        assert said[-1] == "Error: article/01-intro.md:5: unknown variable: 'nope' is undefined " \
                           "(the previous site is still served)"
        assert "Please drag" in urllib.request.urlopen(url).read().decode()
    finally:
        server.shutdown()
        server.server_close()
