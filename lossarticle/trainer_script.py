"""The in-browser trainer: its parts in ``templates/assets/trainer/`` joined into one script.

The script hands the page one function, ``trainer(scope)``, through ``window.lossarticle.registerTrainer``. The page
runs it in a Web Worker started from a Blob of its source, ``"(" + trainer + ")(self)"`` (allowed from file:// by
the CSP's ``worker-src blob:``), where it installs ``scope.onmessage``; ``trainer(null)`` returns the same pure
functions on the main thread, as the tests call them. So the whole trainer lives inside that one function's body:
a Blob worker sees only its source text, and can import nothing.
"""
from __future__ import annotations

from pathlib import Path

from lossarticle.files import script_parts

# Joined in this order into one function scope; each part may use the ones before it at call time.
TRAINER_PARTS: tuple[str, ...] = ("random.js", "net.js", "optimizers.js", "geometry.js", "worker.js")

HEADER = ("/* lossarticle's in-browser trainer, joined from templates/assets/trainer/ by "
          "lossarticle/trainer_script.py: edit those. */\n"
          "window.lossarticle.registerTrainer(function trainer(scope) {\n"
          "  \"use strict\";\n\n")
FOOTER = "\n  return api;  // the object of pure functions worker.js lists\n});\n"


def trainer_script(templates_dir: Path) -> str:
    """The trainer's parts joined in ``TRAINER_PARTS`` order inside ``function trainer(scope)``."""
    parts = [f"/* ---- trainer/{name} */\n\n{text}" for name, text in script_parts(
        templates_dir, "trainer", TRAINER_PARTS, "the trainer's order", "lossarticle/trainer_script.py, TRAINER_PARTS")]
    return HEADER + "\n".join(parts) + FOOTER
