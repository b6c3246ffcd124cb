from __future__ import annotations

from dataclasses import replace

from lossarticle.bench import bench_registry, run_bench
from tests.conftest import CPU, TINY_REGISTRY


def test_one_seed_registry_keeps_everything_but_the_seed_count() -> None:
    registry = tuple(replace(e, seeds=3) for e in TINY_REGISTRY)
    chosen = bench_registry(("tiny-opt",), one_seed=True, experiments=registry)
    assert [(e.slug, e.seeds, e.runs) for e in chosen] == [("tiny-opt", 1, registry[1].runs)]
    assert bench_registry(experiments=registry) == registry


def test_compute_table_has_a_row_per_experiment_and_a_total() -> None:
    lines: list[str] = []
    rows = run_bench(CPU, bench_registry(("tiny", "tiny-opt"), experiments=TINY_REGISTRY), echo=lines.append)
    assert [r.slug for r in rows] == ["tiny", "tiny-opt"]
    assert lines[1].split()[:4] == ["experiment", "seeds", "train", "s"]
    assert [line.split()[0] for line in lines[2:5]] == ["tiny", "tiny-opt", "total"]
    assert all(r.train_gflops > 0 and r.model_epochs_per_s > 0 for r in rows)
    assert rows[1].seeds == 1
