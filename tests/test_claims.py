"""Every qualitative sentence of the article, checked against the data of the full registry.

The prose quotes numbers through template variables, so they cannot drift; what can
drift is what the words around them say ("stays", "straight", "most", "never"). Each
claim below ties a phrase of article/*.md to a check on the data the build produced
(trained once per test run, in a temporary folder). A change to the code, the
registry or the prose that makes a phrase false fails here with the file and line of
the phrase. Any line that uses a watched word must be covered by a claim or by an
exemption that says why it states nothing about the data.
"""
from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from lossarticle import scales
from lossarticle.configs import EXPERIMENTS
from lossarticle.dynamics import sharpness_ratio, spike_mask
from lossarticle.measures import late, ranking
from lossarticle.schema import DATASET_FILE, DatasetFile, ExperimentFile, experiment_path, read_dataset, read_experiment
from lossarticle.summaries import ExperimentSummary, chord_bend, distance_to_final, stuck_at_ln3, summarize
from tests.claims import Claim, Data, Exempt, article_text, covering, line_of, watched_uses

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "article"
LN3 = math.log(3)


@pytest.fixture(scope="session")
def full_data(full_data_dir: Path) -> tuple[Data, DatasetFile]:
    documents = {e.slug: read_experiment(experiment_path(full_data_dir, e.slug), e) for e in EXPERIMENTS}
    return documents, read_dataset(full_data_dir / DATASET_FILE, EXPERIMENTS[0].data)


# ---------------------------------------------------------------- helpers the checks share

def s(data: Data, slug: str) -> ExperimentSummary:
    return summarize(data[slug])


def seeds(data: "Facts", slug: str):  # noqa: ANN201 (a SeedSummary)
    return s(data.docs, slug).seeds


def unless(condition: bool, why: str) -> str | None:
    """None when ``condition`` holds, else the reason the phrase is false."""
    return None if condition else why


def seed_index_stuck(document: ExperimentFile) -> np.ndarray:
    return stuck_at_ln3(document.seeds.final_train_loss)


def spikes(loss: np.ndarray, height: float = 0.05) -> int:
    """How many separate times the loss climbs more than ``height`` above its lowest value so far."""
    above = (loss - np.minimum.accumulate(loss)) > height
    return int(np.sum(above[1:] & ~above[:-1]))


def stretched_bend(document: ExperimentFile, method: str) -> float:
    """The bend of the path as the stretched view draws it (b scaled by the view's stretch)."""
    plane = document.plane(method)
    coords = document.reference.path(method).coords.astype(np.float64) * [1.0, plane.views[-1].stretch]
    return chord_bend(coords)


def single_layer(data: Data) -> list[str]:
    return [slug for slug, d in data.items() if d.config.depth == 1]


def deep(data: Data) -> list[str]:
    return [slug for slug, d in data.items() if d.config.depth >= 5 and d.config.width > 5 and d.config.explorer]


def pc1(data: Data, slug: str) -> float:
    return data[slug].plane("pca").explained_variance[0]


def shared_scale(data: Data) -> scales.Scale:
    return scales.shared_scale(v.surface.loss for d in data.values() for p in d.planes for v in p.views)


def longest_episode(run) -> int:  # noqa: ANN001 (a RunRecord)
    """The most consecutive spike epochs (dynamics.spike_mask) of one run."""
    mask, longest, current = spike_mask(run.train_loss, run.train_acc), 0, 0
    for spiking in mask:
        current = current + 1 if spiking else 0
        longest = max(longest, current)
    return longest


def late_ratio(run) -> float:  # noqa: ANN001 (a RunRecord)
    """The median sharpness over its edge across the second half of the measured epochs."""
    epochs, ratio = sharpness_ratio(run)
    return float(np.nanmedian(ratio[epochs >= epochs.max() / 2]))


def travelled(document: ExperimentFile) -> float:
    """|θ₀ − θ_final| of the drawn run, measured on its PCA plane (summaries.distance_to_final)."""
    return float(distance_to_final(document.reference, document.plane("pca"))[0])


def most_below_the_drawn_miss_the_fit(document: ExperimentFile) -> bool:
    """Whether most initializations ranked below the drawn one (higher late loss) hold less than 90 % at the end."""
    order = list(ranking(document.seeds.train_loss))
    below = order[order.index(document.seeds.drawn) + 1:]
    return bool(below) and int(np.sum(late(document.seeds.train_acc[below]) < 0.9)) > len(below) / 2


def fits_lost_in_a_glitch(document: ExperimentFile) -> bool:
    """Some initialization reached 90 % and does not hold it at the end, and each such one's loss later rose
    above twice its lowest value so far: it lost the fit in a jump, not by drifting."""
    acc, loss = document.seeds.train_acc, document.seeds.train_loss.astype(np.float64)
    lost = np.flatnonzero((acc >= 0.9).any(axis=1) & (late(acc) < 0.9))
    return lost.size > 0 and all(np.any(loss[g] > 2 * np.minimum.accumulate(loss[g])) for g in lost)


def convex_bowl(loss: np.ndarray) -> bool:
    """A map with no dent along its rows, columns or diagonals, and one lowest point: what a convex slice gives.

    Second differences of a convex function are >= 0; float32 storage allows a few ulps of the largest value.
    """
    z = loss.astype(np.float64)
    ulps = 8 * np.finfo(np.float32).eps * np.abs(z).max()
    steps = (z[:, 2:] - 2 * z[:, 1:-1] + z[:, :-2], z[2:] - 2 * z[1:-1] + z[:-2],
             z[2:, 2:] - 2 * z[1:-1, 1:-1] + z[:-2, :-2], z[2:, :-2] - 2 * z[1:-1, 1:-1] + z[:-2, 2:])
    return bool(np.isfinite(z).all() and all(step.min() >= -ulps for step in steps)) and local_minima(z) == 1


def local_minima(z: np.ndarray) -> int:
    """Grid points no higher than any of their eight neighbours."""
    padded = np.pad(z, 1, constant_values=np.inf)
    h, w = z.shape
    neighbours = [padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                  if (dy, dx) != (0, 0)]
    return int(np.sum(z <= np.min(neighbours, axis=0)))


HALF = 0.6  # "about half as many": at most 60 % of the lines


def wider_borders(data: Data) -> int:
    """The fewest lines the final borders of one layer of 20 or 100, or five layers of 20, need (18-20 here)."""
    return min(straight_borders(data[slug], -1) for slug in ("mlp-d1-w20", "mlp-d1-w100", "mlp-d5-w20"))


def border_points(label: np.ndarray) -> np.ndarray:
    """(x, y) in pixels of the midpoints between side-by-side pixels of different classes."""
    iy, ix = np.nonzero(label[:, 1:] != label[:, :-1])
    jy, jx = np.nonzero(label[1:, :] != label[:-1, :])
    return np.concatenate([np.stack([ix + 0.5, iy], 1), np.stack([jx, jy + 0.5], 1)]).astype(np.float64)


def lines_to_cover(points: np.ndarray, share: float = 0.95, width: float = 1.0) -> int:
    """How many straight bands ``width`` pixels wide cover ``share`` of ``points``, taking the fullest first."""
    angles = np.deg2rad(np.arange(0.0, 180.0, 0.5))
    normals = np.stack([np.cos(angles), np.sin(angles)], 1)
    left, lines = points, 0
    while len(left) > (1 - share) * len(points):
        rho = np.sort(left @ normals.T, axis=0)  # each point's offset along each normal
        best = (0, 0, 0.0)  # (points in the band, angle, band start)
        for a in range(len(angles)):
            inside = np.searchsorted(rho[:, a], rho[:, a] + width, side="right") - np.arange(len(rho))
            k = int(np.argmax(inside))
            best = max(best, (int(inside[k]), a, float(rho[k, a])))
        _, a, start = best
        offsets = left @ normals[a]
        left, lines = left[(offsets < start) | (offsets > start + width)], lines + 1
    return lines


def straight_borders(document: ExperimentFile, frame: int) -> int:
    """Straight lines that draw the borders of the decision regions at ``frame``."""
    return lines_to_cover(border_points(document.reference.regions.label[frame]))


def arm_split(document: ExperimentFile, dataset: DatasetFile) -> float:
    """The largest share of one arm's training points that the final regions give to another class."""
    axes, label = document.region_axes, document.reference.regions.label[-1]
    ix = np.abs(dataset.train_x[:, :1] - axes.x[None]).argmin(1)
    iy = np.abs(dataset.train_x[:, 1:] - axes.y[None]).argmin(1)
    shown = label[iy, ix]
    return max(float(np.mean(shown[dataset.train_y == c] != c)) for c in np.unique(dataset.train_y))


def scales_as_described(docs: Data) -> bool:
    """Each figure's colour scale starts at its lowest loss and spans at most three decades, or, where its maps
    span less than a factor 1.56, spans exactly that factor centred on them; the article's spans at most five."""
    def lowest_and_top(losses: list[np.ndarray], decades: float) -> tuple[float, float]:
        finite = np.concatenate([np.log10(z[np.isfinite(z) & (z > 0)].astype(np.float64)) for z in losses])
        low, high = float(finite.min()), float(min(finite.max(), finite.min() + decades))
        if decades == 3 and high - low < math.log10(1.5625):
            middle = (low + high) / 2
            low, high = middle - math.log10(1.5625) / 2, middle + math.log10(1.5625) / 2
        return low, high

    every = [v.surface.loss for d in docs.values() for p in d.planes for v in p.views]
    pairs = [(scales.figure_scale(m), lowest_and_top(m, 3)) for m in
             ([v.surface.loss for p in d.planes for v in p.views] for d in docs.values())]
    pairs.append((scales.shared_scale(every), lowest_and_top(every, 5)))
    return all(abs(scale.low - low) < 1e-9 and abs(scale.high - high) < 1e-9 for scale, (low, high) in pairs)


def small_changes_fill_half_a_ramp_at_most(docs: Data) -> str | None:
    """Every map whose loss varies by less than 25 %, on its figure's default scale (the live figure's and the
    poster's), spans at most half the grey ramp; a figure so widened lets the reader stretch it over its own."""
    for slug, document in docs.items():
        scale, local = scales.figure_scale_of(document), scales.local_scale_of(document)
        for loss in scales.figure_losses(document):
            if scales.relative_range(loss) < 0.25 and scales.ramp_share(loss, scale) > 0.5 + 1e-9:
                return f"{slug}: a {100 * scales.relative_range(loss):.1f} % change fills " \
                       f"{100 * scales.ramp_share(loss, scale):.0f} % of the ramp"
        if scale != scales.local_scale(scales.figure_losses(document)) and local is None:
            return f"{slug}: a widened figure offers no scale stretched over its own maps"
    return None


# ---------------------------------------------------------------- the claims

CLAIMS: list[Claim] = [
    # 02-spiral
    Claim("02-spiral.md", "1,083 training, 192 validation and 225 test points",
          lambda data: unless((len(data.dataset.train_y), len(data.dataset.val_y), len(data.dataset.test_y))
                              == (1083, 192, 225), "the split sizes differ")),
    # 03-directions
    Claim("03-directions.md", "A path that looks straight is straight in that plane.",
          lambda data: unless(all(p.axis_lengths[0] == pytest.approx(p.axis_lengths[1], rel=1e-4)
                                  for d in data.docs.values() for p in d.planes),
                              "some plane's two axes have different lengths, so equal units are not true proportions")),
    Claim("03-directions.md", "far enough out to show the walls of the basin",
          lambda data: unless(scales.relative_range(data.docs["directions"].plane("random").views[0].surface.loss) > 1,
                              "the loss barely changes across the random map: no walls to see")),
    Claim("03-directions.md", "the whole path is a short stroke near the centre: its projection never gets",
          lambda data: unless(max(s(data.docs, "directions").planes["random"].reach) < 0.15,
                              "the path reaches beyond 0.15 of the random map's ±1")),
    Claim("03-directions.md", "the loss read off the map under it stays near the final value",
          lambda data: unless(np.nanmax(data.docs["directions"].reference.path("random").surface_loss)
                              < 3 * data.docs["directions"].reference.train_loss[-1],
                              "the surface under the path rises well above the final loss")),
    Claim("03-directions.md", "about as far as it lies from θ_final",
          lambda data: unless(abs(s(data.docs, "directions").planes["random"].max_distance
                                  / s(data.docs, "directions").planes["init-final"].axis_lengths[0] - 1) < 0.1,
                              "θ₀'s distance from the random plane is not within 10 % of |θ_final − θ₀|")),
    Claim("03-directions.md", "and never rises on the way",
          lambda data: unless(s(data.docs, "directions").planes["init-final"].segment_rise
                              < 1e-4 * s(data.docs, "directions").initial_loss,
                              "the loss rises somewhere along θ₀ → θ_final: a barrier")),
    Claim("03-directions.md", "a straight line to the eye",
          lambda data: unless(s(data.docs, "directions").planes["init-final"].bend < 0.03,
                              "the drawn init→final path bends by 3 % of its length or more")),
    Claim("03-directions.md", "They span the plane through θ_final that stays closest to the snapshots.",
          lambda data: unless(all(abs(sum(p.explained_variance) - (1 - sum_squared_distance(d, p.method)
                                                                  / sum_squared_offset(d, p.method))) < 1e-3
                                  for d in data.docs.values() for p in d.planes if p.method == "pca"
                                  and len(d.runs) == 1),
                              "the shares on the axes do not account for the snapshots' distances from the plane")),
    # 04-logistic
    Claim("04-logistic.md", "so on any plane the surface is one bowl, with nothing to get stuck on.",
          lambda data: unless(all(convex_bowl(v.surface.loss) for p in data.docs["logistic"].planes for v in p.views),
                              "a map of the baseline dips along a line or has two lowest points")),
    Claim("04-logistic.md", "into the bowl along a gently curved line, never farther from the straight segment",
          lambda data: unless(s(data.docs, "logistic").planes["pca"].bend < 0.25,
                              "the path bends by a quarter of its length or more")),
    Claim("04-logistic.md", "It stops a little short of the bottom, because the loss is still creeping down",
          lambda data: unless(still_falling(data.docs["logistic"])
                              and np.nanmin(data.docs["logistic"].plane("pca").views[0].surface.loss)
                              < data.docs["logistic"].reference.train_loss[-1],
                              "the loss has stopped falling, or the map has no lower point than the path's end")),
    Claim("04-logistic.md", "the path curves gently into the bowl, and the accuracy curve flattens far below 100 %",
          lambda data: unless(s(data.docs, "logistic").planes["pca"].bend < 0.25
                              and data.docs["logistic"].reference.train_acc[-1] < 0.7
                              and abs(data.docs["logistic"].reference.train_acc[-1]
                                      - data.docs["logistic"].reference.train_acc[-51]) < 0.02,
                              "the path is not gently curved, or the accuracy is not level far below 100 %")),
    # 05-width
    Claim("05-width.md", "it just makes it",
          lambda data: unless(0.9 <= s(data.docs, "mlp-d1-w5").late_train_acc < 0.97,
                              "the drawn 1 × 5 run does not hold 90 % at the end, or holds far more")),
    Claim("05-width.md", "with borders of straight pieces laid along the arms, about half as many",
          lambda data: unless(straight_borders(data.docs["mlp-d1-w5"], -1) <= HALF * wider_borders(data.docs)
                              and arm_split(data.docs["mlp-d1-w5"], data.dataset) < 0.25,
                              "the final 1 × 5 borders need more than 60 % of the lines the wider nets need, or a "
                              "region takes a quarter of another class's arm")),
    Claim("05-width.md", "The initializations below it in the ranking settle higher, most of them short of 90 %",
          lambda data: unless(most_below_the_drawn_miss_the_fit(data.docs["mlp-d1-w5"]),
                              "half or more of the 1 × 5 initializations ranked below the drawn one hold 90 %")),
    Claim("05-width.md", "A dead unit is a fold the layer no longer makes.",
          lambda data: unless(seeds(data, "mlp-d1-w5").missed_dead_unit / max(1, seeds(data, "mlp-d1-w5").missed)
                              > seeds(data, "mlp-d1-w5").fit_dead_unit / max(1, seeds(data, "mlp-d1-w5").fit),
                              "1 × 5 runs that miss the fit have dead units no more often than those that fit")),
    Claim("05-width.md", "The rest of the run adds little accuracy but lengthens the weight vector",
          lambda data: unless(s(data.docs, "mlp-d1-w100").final_train_acc - 0.9 < 0.1
                              and s(data.docs, "mlp-d1-w100").final_norm > 1.5 * s(data.docs, "mlp-d1-w100").norm_at_90,
                              "1 × 100 gains 10 points after reaching 90 %, or |θ| grows by less than half")),
    Claim("05-width.md", "the map's loss keeps falling beyond them",
          lambda data: unless(not s(data.docs, "mlp-d1-w100").planes["pca"].centre_is_lowest,
                              "1 × 100's final weights are the lowest point of its map: a minimum after all")),
    Claim("05-width.md", "on data it can separate, cross-entropy has no finite minimum",
          lambda data: unless(not s(data.docs, "mlp-d1-w100").planes["pca"].centre_is_lowest
                              and s(data.docs, "mlp-d1-w100").final_train_acc > 0.99,
                              "1 × 100 does not nearly separate its training data, or its map has its lowest point "
                              "at the final weights")),
    Claim("05-width.md", "the borders stay made of straight segments, at every epoch about half as many",
          lambda data: unless(max(straight_borders(data.docs["mlp-d1-w5"], f)
                                  for f in range(len(data.docs["mlp-d1-w5"].reference.regions.frames)))
                              <= HALF * wider_borders(data.docs),
                              "at some frame the 1 × 5 borders need more than 60 % of the lines the wider nets end with")),
    Claim("05-width.md", "Drag the slider slowly through the early epochs",
          lambda data: unless(frames_until_fit(data.docs["mlp-d1-w100"]) >= 20,
                              "the regions of 1 × 100 have fewer than 20 frames up to the epoch it reaches 90 % "
                              "training accuracy: dragging through the early epochs shows few of them")),
    # 06-depth
    Claim("06-depth.md", "Ten layers of 20 first sit on a plateau",
          lambda data: unless(s(data.docs, "mlp-d10-w20").drop_epoch >= 15
                              and all(s(data.docs, slug).drop_epoch < s(data.docs, "mlp-d10-w20").drop_epoch
                                      for slug in ("mlp-d5-w20", "mlp-d1-w20", "mlp-d10-w100")),
                              "ten layers of 20 do not stay near their initial loss longer than their neighbours")),
    Claim("06-depth.md", "describes these glitches",
          lambda data: unless(spikes(data.docs["mlp-d10-w20"].reference.train_loss) >= 1, "10 × 20 has no spike")),
    Claim("06-depth.md", "none of their initializations spikes",
          lambda data: unless(all(seeds(data, slug).spiky == 0 for slug in single_layer(data.docs)),
                              "a single-layer initialization spikes")),
    Claim("06-depth.md", "a spike is an oscillation over several epochs, and plain gradient descent spikes too",
          lambda data: unless(longest_episode(data.docs["mlp-d10-w20"].reference) >= 3
                              and len(s(data.docs, "optimizers").runs["sgd"].spike_epochs) > 0,
                              "10 × 20's spike lasts under three epochs, or gradient descent never spikes")),
    Claim("06-depth.md", "climbs to the edge and stays on it without a single spike",
          lambda data: unless(not s(data.docs, "mlp-d5-w20").spike_epochs
                              and 0.8 < late_ratio(data.docs["mlp-d5-w20"].reference) < 1.25,
                              "5 × 20 spikes, or its sharpness over the last half is not near its edge")),
    Claim("06-depth.md", "Crossing the line is the normal regime, not a warning",
          lambda data: unless(s(data.docs, "mlp-d5-w20").curvature.above_after_fit > 0.2
                              and not s(data.docs, "mlp-d5-w20").spike_epochs,
                              "5 × 20 rarely crosses its edge, or it spikes")),
    Claim("06-depth.md", "it leaves the weights where the loss is flatter",
          lambda data: unless(s(data.docs, "mlp-d10-w20").curvature.lowest_after[0]
                              < s(data.docs, "mlp-d10-w20").curvature.peak_before[0],
                              "10 × 20's sharpness after its spike is not below its peak before it")),
    Claim("06-depth.md", "Ten layers of 20 run away",
          lambda data: unless(len(s(data.docs, "mlp-d10-w20").spike_epochs) >= 1
                              and s(data.docs, "mlp-d10-w20").curvature.peak_before[0] > 1.5
                              and s(data.docs, "mlp-d10-w20").curvature.lowest_after[0]
                              < s(data.docs, "mlp-d10-w20").curvature.peak_before[0] / 2,
                              "10 × 20 has no spike, or its sharpness does not run away before it and fall after")),
    Claim("06-depth.md", "stays below",
          lambda data: unless(s(data.docs, "mlp-d5-w20").curvature.hessian_largest < 1
                              and s(data.docs, "mlp-d10-w20").curvature.hessian_largest > 2,
                              "5 × 20's λ_max(H) reaches 2/η, or 10 × 20's stays under twice it")),
    Claim("06-depth.md", "at this sampling the data show no runaway before them",
          lambda data: unless(any(math.isfinite(p) for p in s(data.docs, "mlp-d10-w100").curvature.peak_before)
                              and max(p for p in s(data.docs, "mlp-d10-w100").curvature.peak_before
                                      if math.isfinite(p)) < 1.5,
                              "10 × 100 has no measured epoch before a spike, or one runs away past 1.5 times")),
    Claim("06-depth.md", "the loss of the drawn ones never climbs back above the lowest value it had reached",
          lambda data: unless(all(s(data.docs, slug).jump < 1e-4 * s(data.docs, slug).initial_loss
                                  for slug in single_layer(data.docs)),
                              "a single-layer network's loss rises above its running minimum")),
    Claim("06-depth.md", "Most of the learning happens in the first few dozen epochs",
          lambda data: unless(int(np.argmax(data.docs["mlp-d10-w100"].reference.train_loss < 0.1)) <= 60,
                              "ten layers of 100 take more than 60 epochs to go below 0.1")),
    Claim("06-depth.md", "then the loss curve spikes again and again",
          lambda data: unless(spikes(data.docs["mlp-d10-w100"].reference.train_loss) >= 3
                              and data.docs["mlp-d10-w100"].reference.train_loss[-1] < 0.05,
                              "fewer than three spikes, or no recovery by the end")),
    Claim("06-depth.md", "Each of these four keeps less of its path on one direction than any single-layer network",
          lambda data: unless(max(pc1(data.docs, x) for x in deep(data.docs))
                              < min(pc1(data.docs, x) for x in single_layer(data.docs)),
                              "some deep network keeps more on PC1 than a single-layer one")),
    Claim("06-depth.md", "the others are caught in one of the glitches below",
          lambda data: unless(fits_lost_in_a_glitch(data.docs["mlp-d10-w20"]),
                              "10 × 20: no initialization lost its fit, or one lost it without its loss jumping")),
    # 07-stuck
    Claim("07-stuck.md", "That happens at every width, so it cannot be why width 5 fails where width 20 does not",
          lambda data: unless(seeds(data, "mlp-d10-w20").stuck == 0 and seeds(data, "mlp-d10-w5").stuck > 0,
                              "ten layers of 20 get stuck too, or ten layers of 5 never do")),
    Claim("07-stuck.md", "The rate climbs with depth",
          lambda data: unless(s(data.docs, "mlp-d5-w5").seeds.stuck < s(data.docs, "mlp-d10-w5").seeds.stuck
                              < s(data.docs, "mlp-d20-w5").seeds.stuck, "the stuck counts do not rise with depth")),
    Claim("07-stuck.md", "a ten-layer network of width 5 fits about as often as it stays at ln 3",
          lambda data: unless(abs(s(data.docs, "mlp-d10-w5").seeds.fit - s(data.docs, "mlp-d10-w5").seeds.stuck)
                              <= 0.15 * s(data.docs, "mlp-d10-w5").seeds.count,
                              "10 × 5 fits and stays at ln 3 at clearly different rates")),
    Claim("07-stuck.md", "and a five-layer one fails now and then",
          lambda data: unless(0 < s(data.docs, "mlp-d5-w5").seeds.stuck_rate < 0.2, "5 × 5 is not stuck now and then")),
    Claim("07-stuck.md", "while a single run of ours had the ten-layer network of width 5 stuck and the five-layer one",
          lambda data: unless(bool(seed_index_stuck(data.docs["mlp-d10-w5"])[0])
                              and data.docs["mlp-d5-w5"].seeds.final_train_acc[0] >= 0.9,
                              "the first initialization of 10 × 5 is not stuck, or that of 5 × 5 does not fit")),
    Claim("07-stuck.md", "of them stay at ln 3",
          lambda data: unless(seeds(data, "mlp-d20-w5").dead_and_stuck == seeds(data, "mlp-d20-w5").dead_at_init,
                              "some 20 × 5 initialization with a dead layer trains")),
    Claim("07-stuck.md", "are among the twenty-layer ones that stay at ln 3",
          lambda data: unless(bool(np.all(seed_index_stuck(data.docs["mlp-d20-w5"])[:data.docs["mlp-d5-w5"].seeds.count]
                                          [data.docs["mlp-d5-w5"].seeds.first_dead_layer >= 0])),
                              "a 5 × 5 initialization with a dead layer is not stuck as 20 × 5")),
    Claim("07-stuck.md", "stuck initializations begin with every layer alive",
          lambda data: unless(seeds(data, "mlp-d20-w5").dead_and_stuck == seeds(data, "mlp-d20-w5").dead_at_init
                              and seeds(data, "mlp-d20-w5").stuck > seeds(data, "mlp-d20-w5").dead_at_init,
                              "a dead 20 × 5 initialization trains, or every stuck one had a dead layer")),
    Claim("07-stuck.md", "one of the stuck ones, as most are",
          lambda data: unless(bool(seed_index_stuck(data.docs["mlp-d20-w5"])[data.docs["mlp-d20-w5"].seeds.drawn])
                              and seeds(data, "mlp-d20-w5").stuck > seeds(data, "mlp-d20-w5").count / 2,
                              "20 × 5's drawn initialization trains, or most do")),
    Claim("07-stuck.md", "The network has found the best answer that ignores its input, not a local minimum",
          lambda data: unless(bool(seed_index_stuck(data.docs["mlp-d20-w5"])[data.docs["mlp-d20-w5"].seeds.drawn])
                              and s(data.docs, "mlp-d20-w5").planes["pca"].map_range < 0.25,
                              "the drawn 20 × 5 run is not at ln 3, or its map is not flat around it")),
    Claim("07-stuck.md", "and stays there, and accuracy is",
          lambda data: unless(np.all(stuck_at_ln3(data.docs["mlp-d20-w5"].reference.train_loss[100:]))
                              and np.ptp(data.docs["mlp-d20-w5"].reference.train_acc) < 1e-6,
                              "20 × 5's loss leaves ln 3 after epoch 100, or its accuracy changes")),
    Claim("07-stuck.md", "In true proportions the path is a short stroke",
          lambda data: unless(travelled(data.docs["mlp-d20-w5"]) < 0.1 * s(data.docs, "mlp-d20-w5").initial_norm
                              and s(data.docs, "mlp-d20-w5").planes["pca"].max_distance < 0.1,
                              "20 × 5's weights move by a tenth of |θ₀| or more, or its path leaves the plane")),
    Claim("07-stuck.md", "the article-wide colour scale shows it as the flat plateau it is",
          lambda data: unless(math.log10(1 + s(data.docs, "mlp-d20-w5").planes["pca"].map_range)
                              < 0.05 * (shared_scale(data.docs).high - shared_scale(data.docs).low)
                              and scales.range_note(data.docs["mlp-d20-w5"].plane("pca").views[0].surface.loss) != "",
                              "20 × 5's map spans 5 % of the article-wide scale or more, or carries no note")),
    Claim("07-stuck.md", "never spreads a change of less than 25 % over more than half of its grey ramp",
          lambda data: small_changes_fill_half_a_ramp_at_most(data.docs)),
    Claim("07-stuck.md", "most of them lying on ln 3 too",
          lambda data: unless(s(data.docs, "mlp-d20-w5").seeds.stuck > s(data.docs, "mlp-d20-w5").seeds.count / 2,
                              "fewer than half of 20 × 5's initializations are stuck")),
    Claim("07-stuck.md", "the loss slides to ln 3 ≈ 1.0986 and stays, accuracy never leaves one third",
          lambda data: unless(np.all(np.abs(data.docs["mlp-d20-w5"].reference.train_acc - 1 / 3) < 1e-6)
                              and abs(data.docs["mlp-d20-w5"].reference.train_loss[-1] - LN3) < 1e-3,
                              "20 × 5's accuracy leaves one third, or its loss ends away from ln 3")),
    Claim("07-stuck.md", "the decision panel stays pale",
          lambda data: unless(int(data.docs["mlp-d20-w5"].reference.regions.confidence.max()) < 51,
                              "20 × 5's regions reach a fifth of full confidence")),
    Claim("07-stuck.md", "to see how flat the surface is",
          lambda data: unless(s(data.docs, "mlp-d20-w5").planes["pca"].map_range < 0.25, "20 × 5's map is not flat")),
    Claim("07-stuck.md", "initializations stays at ln 3",
          lambda data: unless(seeds(data, "mlp-d20-w5-skip").stuck == 0, "some skip-twin initialization is stuck")),
    Claim("07-stuck.md", "it starts very high and falls steeply while accuracy is still at a third",
          lambda data: unless(steep_start(data.docs["mlp-d20-w5-skip"]), "the skip twin's loss does not fall first")),
    # 08-optimizers
    Claim("08-optimizers.md", "Gradient descent is the one that spikes",
          lambda data: unless([r for r, x in s(data.docs, "optimizers").runs.items() if x.spike_epochs] == ["sgd"],
                              "another optimizer spikes, or gradient descent does not")),
    Claim("08-optimizers.md", "its λ_max(H) runs away to",
          lambda data: unless(s(data.docs, "optimizers").runs["sgd"].curvature.peak_before[0] > 1.5
                              and s(data.docs, "optimizers").runs["sgd"].curvature.lowest_after[0] < 1,
                              "gradient descent's sharpness does not run away before its spike, or stays above 2/η")),
    Claim("08-optimizers.md", "at most): at these learning rates this small network never reaches them",
          lambda data: unless(all(s(data.docs, "optimizers").runs[r].curvature.largest < 1
                                  for r in ("adam", "momentum")), "Adam or momentum reaches its edge")),
    Claim("08-optimizers.md", "Adam and momentum stay well below their edges",
          lambda data: unless(all(s(data.docs, "optimizers").runs[r].curvature.largest < 0.5
                                  for r in ("adam", "momentum")),
                              "Adam or momentum comes within half of its edge")),
    Claim("08-optimizers.md", "Only Adam ends at the centre, by construction. The other three end off the plane",
          lambda data: unless(all(s(data.docs, "optimizers").runs[r].end_distance["pca"] > 0.5
                                  for r in ("sgd", "momentum", "rmsprop")), "an optimizer ends close to the plane")),
    Claim("08-optimizers.md", "RMSprop's endpoint is drawn the closest of the three to Adam's, yet it is the farthest",
          lambda data: unless(closest_and_farthest(s(data.docs, "optimizers")), "RMSprop is not both")),
    # 09-what-the-plane-hides
    Claim("09-what-the-plane-hides.md", "*The surface can flatter the start.*",
          lambda data: unless(s(data.docs, "directions").planes["random"].max_gap
                              > 0.8 * s(data.docs, "directions").initial_loss, "the random plane's gap is small")),
    Claim("09-what-the-plane-hides.md", "almost the whole initial loss of",
          lambda data: unless(s(data.docs, "directions").planes["random"].max_gap
                              > 0.8 * s(data.docs, "directions").initial_loss,
                              "the gap is far below the initial loss")),
    Claim("09-what-the-plane-hides.md", "For the stuck twenty-layer network both numbers are tiny",
          lambda data: unless(s(data.docs, "mlp-d20-w5").planes["pca"].max_distance < 0.1
                              and s(data.docs, "mlp-d20-w5").planes["pca"].max_gap < 0.01
                              and bool(seed_index_stuck(data.docs["mlp-d20-w5"])[data.docs["mlp-d20-w5"].seeds.drawn]),
                              "the drawn 20 × 5 run is not stuck, or strays far")),
    Claim("09-what-the-plane-hides.md", "That is where its largest gap",
          lambda data: unless(s(data.docs, "mlp-d10-w20").planes["pca"].max_gap_epoch
                              == s(data.docs, "mlp-d10-w20").jump_epoch,
                              "10 × 20's largest gap is not at its largest jump")),
    # 11-conclusion
    Claim("11-conclusion.md", "a linear model sliding into a bowl whose bottom is too high",
          lambda data: unless(data.docs["logistic"].reference.val_acc[-1] < 0.6, "the baseline fits")),
    Claim("11-conclusion.md", "lying still at ln 3 from most of its starts",
          lambda data: unless(s(data.docs, "mlp-d20-w5").seeds.stuck_rate > 0.5, "most 20 × 5 starts train")),
    Claim("11-conclusion.md", "a map stretched to fit its path turns a straight walk into an arch",
          lambda data: unless(stretched_bend(data.docs["directions"], "init-final")
                              > 10 * s(data.docs, "directions").planes["init-final"].bend,
                              "stretching hardly changes the init→final path's look")),
    # 13-appendix
    Claim("13-appendix.md", "a figure's scale spans at most three decades",
          lambda data: unless(scales_as_described(data.docs),
                              "a scale does not start at its lowest loss, or spans more than three (five) decades")),
    Claim("13-appendix.md", "so that a change of less than 25 % fills at most half of it",
          lambda data: small_changes_fill_half_a_ramp_at_most(data.docs)),
    Claim("13-appendix.md", "fewer for the wide networks whose training costs the most",
          lambda data: unless(all(d.config.seeds < 100 for d in data.docs.values() if d.config.width == 100),
                              "a wide network has 100 initializations")),
]

EXEMPT: list[Exempt] = [
    Exempt("06-depth.md", "a spike is an epoch, after the run first reached 90 % training accuracy",
           "the definition of the one spike rule (dynamics.spike_mask)"),
    Exempt("06-depth.md", "| of those, spike at least once |", "a column heading; its numbers are the data's own"),
    Exempt("06-depth.md", "with the spikes dotted", "what the figure draws"),
    Exempt("12-references.md", "Minimal Neural Network Case Study", "a title"),
    Exempt("05-width.md", "even a random walk puts most of its variance on the first component",
           "a result of the cited paper (Antognini & Sohl-Dickstein 2018) about random walks, not about our data"),
    Exempt("07-stuck.md", "so that a glitch in the last few epochs does not decide a count",
           "why the late measure is defined as it is (measures.py)"),
    Exempt("13-appendix.md", "which a glitch of a few epochs cannot move", "the definition of the late measure"),
    Exempt("01-why-picture.md", "Such a map shows whether the solution sits in a ravine or a broad basin, whether "
           "the optimizer went straight there or waited on a plateau", "what a map can show in general"),
    Exempt("01-why-picture.md", "a valley on the map may be a ridge in one of them", "a general caution"),
    Exempt("01-why-picture.md", "a network the optimizer never visited", "a definition of the projection"),
    Exempt("03-directions.md", "Both ends of the drawn path lie on the horizontal axis by construction",
           "the construction of the plane"),
    Exempt("03-directions.md", "the loss along the straight line falls from", "the segment θ₀ → θ_final is a "
           "straight line by definition; its loss is checked by 'never rises on the way'"),
    Exempt("03-directions.md", "the drawn path stays within", "the distance it stays within is the data's own"),
    Exempt("06-depth.md", "borders that leave the spiral as long straight edges", "a ReLU network is piecewise "
           "linear, so its region borders are made of straight pieces by construction"),
    Exempt("09-what-the-plane-hides.md", "PCA keeps the directions the weights moved along most",
           "what the method does, by construction"),
    Exempt("09-what-the-plane-hides.md", "yet the loss under it is never off by more than",
           "the bound quoted is the data's own maximum"),
]


class Facts:
    """What the checks read: the documents by slug and the data set."""

    def __init__(self, docs: Data, dataset: DatasetFile) -> None:
        self.docs, self.dataset = docs, dataset


def still_falling(document: ExperimentFile) -> bool:
    loss = document.reference.train_loss
    return bool(np.all(np.diff(loss[-20:]) < 0))


def steep_start(document: ExperimentFile) -> bool:
    """The loss falls below 2 while training accuracy is still under 40 %."""
    run = document.reference
    first = int(np.argmax(run.train_loss < 2.0))
    return bool(run.train_loss[0] > 5 and first > 0 and run.train_acc[first] < 0.4)


def closest_and_farthest(summary: ExperimentSummary) -> bool:
    others = ("sgd", "momentum", "rmsprop")
    drawn = {r: math.hypot(*summary.runs[r].end_point["pca"]) for r in others}
    off = {r: summary.runs[r].end_distance["pca"] for r in others}
    return min(drawn, key=drawn.get) == "rmsprop" and max(off, key=off.get) == "rmsprop"


def frames_until_fit(document: ExperimentFile) -> int:
    """Region frames of the drawn run up to its fit: the first epoch with 90 % training accuracy, as the prose says."""
    fit = summarize(document).epochs_to_90
    return 0 if fit is None else int(np.sum(document.reference.regions.frames <= fit))


def sum_squared_distance(document: ExperimentFile, method: str) -> float:
    return float((document.reference.path(method).distance.astype(np.float64) ** 2).sum())


def sum_squared_offset(document: ExperimentFile, method: str) -> float:
    """Σ|θᵢ − θ_final|², from what the file holds: in-plane part (orthonormal PCA axes) plus the distance."""
    path = document.reference.path(method)
    return float((path.coords.astype(np.float64) ** 2).sum() + (path.distance.astype(np.float64) ** 2).sum())


def test_the_shape_measures_know_straight_from_curved_and_a_bowl_from_a_dent() -> None:
    """The measures the claims use, on pictures whose answer is known."""
    iy, ix = np.mgrid[0:100, 0:100].astype(np.float64)
    three = np.where(ix + 0.3 * iy < 40, 0, np.where(iy - 0.5 * ix > 20, 1, 2))  # three straight borders
    disc = ((ix - 50) ** 2 + (iy - 50) ** 2 < 35 ** 2).astype(np.uint8)  # one round one
    assert lines_to_cover(border_points(three)) <= 3 < 8 < lines_to_cover(border_points(disc))
    a, b = np.meshgrid(np.linspace(-1, 1, 31), np.linspace(-2, 1, 21))  # non-square: rows are b
    assert convex_bowl((a - 0.2) ** 2 + 3 * (b + 0.5) ** 2 + 0.5 * a * b + 1)
    assert not convex_bowl((a ** 2 - 0.25) ** 2 + b ** 2 + 1)  # two valleys: a dent and two lowest points
    assert not convex_bowl(np.abs(a) + 0.1 * np.sin(9 * b) + 2)  # ripples along b


@pytest.fixture(scope="session")
def facts(full_data) -> Facts:
    return Facts(*full_data)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.file}:{c.phrase[:40]}")
def test_claim_holds(facts: Facts, claim: Claim) -> None:
    text = article_text(ARTICLE, claim.file)
    line = line_of(text, claim.phrase)
    assert line is not None, f"article/{claim.file}: the phrase {claim.phrase!r} is no longer there; update " \
                             f"tests/test_claims.py with what the prose says now"
    why = claim.check(facts)
    assert why is None, f"article/{claim.file}:{line}: {claim.phrase!r} is false of the data: {why}"


def test_every_qualitative_word_is_checked_or_exempted() -> None:
    uncovered = []
    for path in sorted(ARTICLE.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        phrases = [c.phrase for c in CLAIMS if c.file == path.name] + \
                  [e.phrase for e in EXEMPT if e.file == path.name]
        for line, pattern, content in watched_uses(text):
            if not covering(content, pattern, phrases):
                uncovered.append(f"article/{path.name}:{line}: {pattern}")
    assert uncovered == [], "qualitative words no claim checks:\n" + "\n".join(uncovered)


def test_exemptions_still_stand_in_the_article() -> None:
    for exempt in EXEMPT:
        assert line_of(article_text(ARTICLE, exempt.file), exempt.phrase), (exempt.file, exempt.phrase)


def test_the_real_article_renders_from_the_full_data(full_data_dir: Path, tmp_path) -> None:
    """Every variable the prose names exists and every figure it places is known, on the real data."""
    from lossarticle.render import RenderOptions, render_site
    from lossarticle.schema import data_dir_of
    site = tmp_path / "site"
    shutil.copytree(full_data_dir, data_dir_of(site))
    render_site(RenderOptions(site_dir=site, article_dir=ARTICLE, templates_dir=ROOT / "templates"),
                echo=lambda line: None)
    html = (site / "index.html").read_text(encoding="utf-8")
    placed = len(list(re.finditer(r"^::: (figure|explorer)", "".join(p.read_text() for p in ARTICLE.glob("*.md")),
                                  flags=re.MULTILINE)))
    assert html.count('<figure class="la-figure') + html.count('<figure class="la-static') == placed


def test_every_figure_draws_its_architectures_median_initialization(full_data) -> None:
    """The drawn run is the median by late training loss (an independent count here), or its twin's choice, and
    the file's run is that initialization's: the rule the captions and the appendix state."""
    docs, _ = full_data
    for slug, document in docs.items():
        seeds = document.seeds
        if document.config.drawn_from:
            assert seeds.drawn == docs[document.config.drawn_from].seeds.drawn, slug
        else:
            tail = max(1, math.ceil((seeds.train_loss.shape[1] - 1) / 10))  # the last tenth of the epochs
            late_loss = [float(np.median(row[-tail:])) if np.isfinite(row[-tail:]).all() else math.inf
                         for row in seeds.train_loss.astype(np.float64)]
            below = sum(value < late_loss[seeds.drawn] for value in late_loss)
            assert below == (seeds.count - 1) // 2, (slug, below, seeds.count)
        assert np.array_equal(seeds.train_loss[seeds.drawn][:document.reference.epochs + 1],
                              document.reference.train_loss), slug


def test_axis_labels_print_the_shares_as_the_prose_does(full_data) -> None:
    """A PCA axis labelled 3.9 % where the text, reading the same stored share, says 4.0 % is one number twice."""
    from lossarticle.numbers import pct
    docs, _ = full_data
    for slug, document in docs.items():
        for plane in document.planes:
            if plane.explained_variance is not None:
                assert plane.axis_labels == tuple(f"PC{k + 1} · {pct(share)} of the path"
                                                  for k, share in enumerate(plane.explained_variance)), slug
