"""The publish half never imports torch, by structure: a walk of every ``import`` in ``lossarticle/``.

``generate.py render``, ``serve`` (whose full builds run in a child process) and
``bench --no-compute`` must work on a machine without torch, and start without
paying for it. ``test_render.py`` checks one render at run time; these check every
import the code could make, function-level ones included, so a lazy import added to
a rarely taken branch fails here and not on a reader's machine.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lossarticle"
PUBLISH_ROOTS = ("lossarticle.render", "lossarticle.serve", "lossarticle.bench_reader")  # what the torch-free
# commands import; everything they reach is the publish half
TORCH = "torch"


def module_file(module: str) -> Path | None:
    """The source of a ``lossarticle.*`` module, or None for anything else."""
    parts = module.split(".")
    path = ROOT.joinpath(*parts).with_suffix(".py")
    return path if parts[0] == PACKAGE.name and path.is_file() else None


def under_type_checking(node: ast.If) -> bool:
    """``if TYPE_CHECKING:``: imports for annotations only, never executed."""
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` may import, at the top or inside a function: ``lossarticle.*`` by full name, any
    other package by its top-level name (``torch.nn`` is ``torch``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and under_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(named(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(named(node.module))
            # ``from lossarticle import panels`` imports the module lossarticle.panels
            found.update(f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def named(module: str) -> str:
    return module if module.startswith(f"{PACKAGE.name}.") else module.split(".")[0]


def chain_to(start: str, target: str) -> list[str] | None:
    """The import chain from ``start`` to ``target`` (breadth first: a shortest one), or None if none exists."""
    parents: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        module = queue.pop(0)
        if module == target:
            chain = [module]
            while (parent := parents[chain[-1]]) is not None:
                chain.append(parent)
            return chain[::-1]
        path = module_file(module)
        for imported in sorted(imports_of(path)) if path else ():
            if imported not in parents:
                parents[imported] = module
                queue.append(imported)
    return None


@pytest.mark.parametrize("root", PUBLISH_ROOTS)
def test_the_publish_half_never_reaches_torch(root: str) -> None:
    chain = chain_to(root, TORCH)
    assert chain is None, " -> ".join(chain)


@pytest.mark.parametrize("root", ["lossarticle.build", "lossarticle.bench_compute", "lossarticle.export"])
def test_the_walk_finds_torch_where_the_compute_half_imports_it(root: str) -> None:
    # The oracle for the test above: a walk that missed imports would pass it vacuously.
    assert chain_to(root, TORCH) is not None


def test_the_walk_sees_function_level_imports_and_skips_type_checking_ones() -> None:
    export = imports_of(PACKAGE / "export.py")
    assert TORCH in export  # provenance() imports it for its version
    assert "lossarticle.pipeline" not in export  # only under TYPE_CHECKING
    assert "lossarticle.posters" in imports_of(PACKAGE / "render.py")  # ``from lossarticle import posters``


def test_importing_the_publish_half_loads_no_torch() -> None:
    # At run time, third-party packages included (a dependency that pulled torch in would show here).
    code = (f"import sys; sys.path[:0] = [{str(ROOT)!r}]; import {', '.join(PUBLISH_ROOTS)}, lossarticle.posters;"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stderr


BOKEH_FREE = ("lossarticle.posters", "lossarticle.figure_context", "lossarticle.figure_layout", "lossarticle.packing",
              "lossarticle.style")  # drawn or read without the live figures' library


@pytest.mark.parametrize("root", BOKEH_FREE)
def test_the_posters_and_the_figure_templates_never_reach_bokeh(root: str) -> None:
    chain = chain_to(root, "bokeh")
    assert chain is None, " -> ".join(chain)


def test_the_walk_finds_bokeh_where_the_live_figures_import_it() -> None:
    # The oracle for the test above.
    assert chain_to("lossarticle.page_data", "bokeh") == ["lossarticle.page_data", "lossarticle.panels", "bokeh"]
