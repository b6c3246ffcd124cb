"""What the figure templates show around the script: run menus, notes, captions' extents, the explorer's grid.

Read from the file format's records, with no Bokeh and no torch: the figure's
HTML before any script runs, and what the posters label their runs and
networks with.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lossarticle import style
from lossarticle.configs import Experiment
from lossarticle.errors import ConfigError
from lossarticle.figure_layout import layout_name
from lossarticle.numbers import num, pct
from lossarticle.scales import local_scale_of
from lossarticle.schema import ExperimentFile, RunRecord

MAX_EXPLORER_WIDTHS = 6  # columns figures.css lays out


@dataclass(frozen=True)
class RunChoice:
    """One entry of a figure's run menu."""

    index: int
    label: str  # "adam · lr 0.005"
    epochs: int
    diverged: bool


@dataclass(frozen=True)
class FigureContext:
    """What ``templates/figure.html`` shows before the script runs."""

    slug: str
    title: str
    max_epoch: int  # the slider's end
    runs: tuple[RunChoice, ...]
    notes: tuple[str, ...]  # one sentence per diverged run
    layout_class: str  # CSS modifier of the plots' grid
    stretchable: bool  # some plane has a stretched view besides its true proportions
    local_scale: bool  # its maps vary so little that its default colour scale is wider than they are (scales.py)
    description: str  # what the figure shows, in words, for screen readers (aria-describedby)
    extents: str  # which part of each plane its map shows, in the figcaption

    @property
    def multi_run(self) -> bool:
        return len(self.runs) > 1


def figure_context(document: ExperimentFile) -> FigureContext:
    """The figure template's view of one experiment file."""
    runs = tuple(RunChoice(i, run_label(r), r.epochs, r.diverged) for i, r in enumerate(document.runs))
    return FigureContext(slug=document.slug, title=document.title, max_epoch=document.max_epoch, runs=runs,
                         notes=divergence_notes(document.runs),
                         layout_class=f"la-plots--{layout_name([p.method for p in document.planes])}",
                         stretchable=any(len(p.views) > 1 for p in document.planes),
                         local_scale=local_scale_of(document) is not None,
                         description=describe(document), extents=extent_note(document))


def describe(document: ExperimentFile) -> str:
    """The figure in words, from its data: what each run's loss and accuracy did, and where its path went."""
    sentences = [f"{document.title}, trained for up to {document.config.epochs} epochs."]
    for run in document.runs:
        who = f"With {run.name} (learning rate {run.lr:g}), the" if len(document.runs) > 1 else "The"
        sentences.append(f"{who} training loss goes from {num(float(run.train_loss[0]))} to "
                         f"{num(float(run.train_loss[-1]))}, and accuracy ends at {pct(float(run.train_acc[-1]))} "
                         f"on the training set and {pct(float(run.val_acc[-1]))} on validation"
                         + (f"; training diverged at epoch {run.epochs}." if run.diverged else "."))
    for plane in document.planes:
        path = document.reference.path(plane.method)
        start = path.coords[0]
        sentences.append(f"On the map “{style.plane_title(plane.method)}” the path starts at "
                         f"({num(float(start[0]), 2)}, {num(float(start[1]), 2)}) and ends at the centre, at most "
                         f"{num(float(path.distance.max()), 2)} from the plane.")
    return " ".join(sentences)


def extent_note(document: ExperimentFile) -> str:
    """The extent of every map in true proportions, from the surfaces' own grids."""
    parts = []
    for plane in document.planes:
        surface = plane.views[0].surface
        reach = float(surface.x[-1])
        how = "the standard extent of a random plane" if plane.method == "random" else "the path's reach plus a margin"
        parts.append(f"{style.plane_title(plane.method)}: a and b within ±{num(reach, 2)} ({how})")
    return "Maps in true proportions, centred on the final weights. " + "; ".join(parts) + "."


def run_label(run: RunRecord) -> str:
    """``adam · lr 0.005``: the name readers pick in the run menu."""
    return f"{run.name} · lr {run.lr:g}"


def divergence_notes(runs: Sequence[RunRecord]) -> tuple[str, ...]:
    """One sentence per diverged run, named when there are several runs."""
    notes = []
    for run in runs:
        if run.diverged:
            who = f"{run.name}: t" if len(runs) > 1 else "T"
            notes.append(f"{who}raining diverged at epoch {run.epochs}.")
    return tuple(notes)


@dataclass(frozen=True)
class ExplorerChoice:
    """One button of the explorer."""

    slug: str
    title: str  # accessible name, e.g. "5 hidden layers × 20 neurons"
    label: str  # what the button says, e.g. "5 × 20"


@dataclass(frozen=True)
class ExplorerGrid:
    """The explorer's buttons: networks without a depth × width place first, then the grid by rows."""

    singles: tuple[ExplorerChoice, ...]  # e.g. the logistic baseline
    depths: tuple[int, ...]  # row heads
    widths: tuple[int, ...]  # column heads
    cells: tuple[tuple[ExplorerChoice | None, ...], ...]  # [row][column]; None where the registry has no net

    @property
    def rows(self) -> tuple[tuple[int, tuple[ExplorerChoice | None, ...]], ...]:
        """(depth, that row's cells) pairs, for the template's loop."""
        return tuple(zip(self.depths, self.cells))

    @property
    def choices(self) -> tuple[ExplorerChoice, ...]:
        """Every choice in reading order."""
        return self.singles + tuple(c for row in self.cells for c in row if c is not None)

    def opening(self, shown: Sequence[str] = ()) -> ExplorerChoice:
        """The network the explorer opens on: the first in reading order that no figure before it has
        shown (a reader who scrolls down should meet something new), else the first."""
        fresh = [c for c in self.choices if c.slug not in shown]
        return (fresh or list(self.choices))[0]


def explorer_grid(registry: Sequence[Experiment]) -> ExplorerGrid:
    """The explorer's layout from the registry's ``explorer``, ``depth`` and ``width`` fields."""
    offered = [e for e in registry if e.explorer]
    singles = tuple(ExplorerChoice(e.slug, e.title, e.title) for e in offered if e.depth == 0)
    networks: dict[tuple[int, int], Experiment] = {}
    for e in offered:
        if e.depth > 0 and networks.setdefault((e.depth, e.width), e) is not e:
            raise ConfigError(f"{e.slug}.explorer=True: the explorer already has a {e.depth} × {e.width} network "
                              f"({networks[e.depth, e.width].slug})")
    depths = tuple(sorted({d for d, _ in networks}))
    widths = tuple(sorted({w for _, w in networks}))
    if len(widths) > MAX_EXPLORER_WIDTHS:
        raise ConfigError(f"explorer: {len(widths)} widths, more than the {MAX_EXPLORER_WIDTHS} columns the "
                          f"page lays out (templates/assets/figures.css, .la-cols-N)")
    cells = tuple(tuple(choice(networks[d, w]) if (d, w) in networks else None for w in widths) for d in depths)
    return ExplorerGrid(singles, depths, widths, cells)


def choice(experiment: Experiment) -> ExplorerChoice:
    return ExplorerChoice(experiment.slug, experiment.title, f"{experiment.depth}\u2009×\u2009{experiment.width}")
