from __future__ import annotations

import math

import numpy as np
import pytest

from lossarticle.scales import colour_ticks, decade_ticks, figure_scale, local_scale, ramp_share


def test_the_decade_ladder_takes_the_sparsest_rung_with_enough_ticks() -> None:
    assert decade_ticks(0.01, 10) == [0.01, 0.1, 1.0, 10.0]  # powers of ten suffice
    assert decade_ticks(0.05, 2) == [0.1, 0.3, 1.0]  # 1-3
    assert decade_ticks(0.5, 4) == [0.5, 1.0, 2.0]  # 1-2-5
    assert decade_ticks(0.01, 10, wanted=5) == [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    assert decade_ticks(1.1, 1.2) == []  # nothing round inside: the densest rung, empty


def test_colour_bars_label_wide_ranges_by_the_ladder_and_narrow_ones_evenly() -> None:
    assert colour_ticks(0.05, 2) == [(0.1, "0.1"), (0.3, "0.3"), (1.0, "1")]
    assert [label for _, label in colour_ticks(1.1, 1.2)] == ["1.10", "1.15", "1.20"]


def test_a_figure_scale_never_spreads_a_change_under_a_quarter_over_the_whole_ramp() -> None:
    """Issue 16, finding 8: fitted to its own range, a map varying by 9.2 % filled the grey ramp end to end."""
    for spread in (0.047, 0.092, 0.2499):
        loss = np.linspace(1.0986, 1.0986 * (1 + spread), 12).reshape(3, 4)
        scale = figure_scale([loss])
        assert ramp_share(loss, scale) <= 0.5 + 1e-9, spread
        assert ramp_share(loss, local_scale([loss])) == pytest.approx(1.0)  # what the reader can still ask for
        assert scale.low < math.log10(loss.min()) and scale.high > math.log10(loss.max())  # centred on the map
        assert len(scale.ticks) >= 3


def test_a_figure_that_varies_a_lot_keeps_its_own_range() -> None:
    loss = np.array([[0.01, 0.5], [2.0, 1e6]])
    assert figure_scale([loss]) == local_scale([loss])
    assert figure_scale([loss]).high == pytest.approx(math.log10(0.01) + 3.0)  # clipped three decades up
