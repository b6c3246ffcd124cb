from __future__ import annotations

from lossarticle.scales import colour_ticks, decade_ticks


def test_the_decade_ladder_takes_the_sparsest_rung_with_enough_ticks() -> None:
    assert decade_ticks(0.01, 10) == [0.01, 0.1, 1.0, 10.0]  # powers of ten suffice
    assert decade_ticks(0.05, 2) == [0.1, 0.3, 1.0]  # 1-3
    assert decade_ticks(0.5, 4) == [0.5, 1.0, 2.0]  # 1-2-5
    assert decade_ticks(0.01, 10, wanted=5) == [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
    assert decade_ticks(1.1, 1.2) == []  # nothing round inside: the densest rung, empty


def test_colour_bars_label_wide_ranges_by_the_ladder_and_narrow_ones_evenly() -> None:
    assert colour_ticks(0.05, 2) == [(0.1, "0.1"), (0.3, "0.3"), (1.0, "1")]
    assert [label for _, label in colour_ticks(1.1, 1.2)] == ["1.10", "1.15", "1.20"]
