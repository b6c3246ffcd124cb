"""The page script: its parts joined in their declared order, and no Bokeh model name spelled in it."""
from __future__ import annotations

import re
import shutil

import pytest

from lossarticle import panels
from lossarticle.errors import ContentError
from lossarticle.render import PAGE_SCRIPT_PARTS, page_script
from tests.tiny import TEMPLATES

PARTS = TEMPLATES / "assets" / "js"


def test_the_page_script_is_every_part_once_in_the_declared_order() -> None:
    script = page_script(TEMPLATES)
    starts = [script.index((PARTS / name).read_text(encoding="utf-8")) for name in PAGE_SCRIPT_PARTS]
    assert starts == sorted(starts)
    assert sorted(PAGE_SCRIPT_PARTS) == sorted(path.name for path in PARTS.glob("*.js"))
    assert script.count('"use strict";') == 1 and script.rstrip().endswith("})();")


@pytest.mark.parametrize("change", ["stray", "missing"])
def test_a_part_outside_the_order_is_refused_by_name(tmp_path, change) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    if change == "stray":
        (templates / "assets" / "js" / "stray.js").write_text("const stray = 1;\n")
        expected = "templates/assets/js/stray.js: not in the page script's order"
    else:
        (templates / "assets" / "js" / "hover.js").unlink()
        expected = "templates/assets/js/hover.js: missing"
    with pytest.raises(ContentError, match=re.escape(expected)):
        page_script(templates)


def name_pieces() -> set[str]:
    """The literal pieces of every model name panels.py spells ("image-source-", "-", ...), minus the separators."""
    names = [panels.landscape_names("PLANE", ["VIEW"], ["SCALE"]), panels.loss_names(["RUN"]),
             panels.accuracy_names(["RUN"]), panels.gap_names("PLANE"), panels.distance_names("PLANE")]

    def leaves(node: object) -> list[str]:
        return [node] if isinstance(node, str) else [leaf for value in node.values() for leaf in leaves(value)]

    pieces = {piece for tree in names for name in leaves(tree) for piece in re.split("PLANE|VIEW|SCALE|RUN", name)}
    return {piece for piece in pieces if len(piece) > 1}


def test_no_part_of_the_page_script_spells_a_bokeh_model_name() -> None:
    # The names come from the figure's spec (panels.py's *_names): a string literal holding a piece of one,
    # or a key split at its dashes, would be a second spelling of the contract.
    pieces = name_pieces()
    assert {"image-source-", "contours-", "loss-", "gap-title-", "distance-"} <= pieces
    for path in sorted(PARTS.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        literals = re.findall(r'"([^"\n]*)"|\'([^\'\n]*)\'|`([^`]*)`', text)
        spelled = sorted({piece for literal in literals for piece in pieces if piece in "".join(literal)})
        assert not spelled, f"{path.name} spells pieces of Bokeh model names: {spelled}"
        assert not re.search(r"\.split\(\s*[\"']-", text), f"{path.name} splits a key at its dashes"
    script = page_script(TEMPLATES)
    assert script.count("get_model_by_name(") == 1  # embed.js's findModels, given the spec's names
