"""``make bench``, first half: how fast the compute pipeline runs on this machine, stage by stage.

The figures of merit are effective GFLOP/s (matmul FLOPs over wall time) of training
and of the surfaces, each divided by the fp32 GEMM throughput measured here, in this
process, just before. Training FLOPs are counted by ``train.training_flops``. The reader's
side is ``bench_reader.py``, which never imports torch (``bench --no-compute``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from lossarticle.configs import EXPERIMENTS, Experiment
from lossarticle.data import Dataset, load_spirals
from lossarticle.pipeline import ExperimentResult, compute_experiment, sync


@dataclass(frozen=True)
class Row:
    """One experiment's timings."""

    slug: str
    seeds: int  # initializations trained together per run
    train_s: float
    model_epochs_per_s: float  # networks x epochs trained per second, every run and seed
    train_gflops: float  # effective training GFLOP/s
    surface_s: float
    regions_s: float
    gflops: float  # effective surface GFLOP/s
    peak_mib: float  # peak resident memory (CPU) or allocated memory (CUDA) during the experiment


def bench_registry(only: tuple[str, ...] = (), one_seed: bool = False,
                   experiments: tuple[Experiment, ...] = EXPERIMENTS) -> tuple[Experiment, ...]:
    """The experiments to time: those ``only`` names (all when it names none), with one seed each if asked."""
    chosen = tuple(e for e in experiments if not only or e.slug in only)
    return tuple(replace(e, seeds=1) for e in chosen) if one_seed else chosen


def gemm_gflops(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Best-of fp32 ``n×n @ n×n`` throughput on ``device``."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def reset_peak(device: torch.device) -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def peak_mib(device: torch.device) -> float:
    """Peak memory since :func:`reset_peak`, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_experiment(experiment: Experiment, data: Dataset, device: torch.device) -> tuple[Row, ExperimentResult]:
    """Compute one experiment and time its stages."""
    reset_peak(device)
    result = compute_experiment(experiment, data, device)
    t = result.timings
    return Row(experiment.slug, experiment.seeds, t.train_s, t.model_epochs / t.train_s,
               t.train_flops / t.train_s / 1e9, t.surface_s, t.regions_s, t.surface_flops / t.surface_s / 1e9,
               peak_mib(device)), result


HEADER = (f"{'experiment':18s} {'seeds':>5s} {'train s':>8s} {'ep/s':>7s} {'GFLOP/s':>8s} {'ratio':>6s} "
          f"{'surface s':>9s} {'GFLOP/s':>8s} {'ratio':>6s} {'regions s':>9s} {'peak MiB':>9s}")


def row_line(slug: str, seeds: str, train_s: float, epochs_per_s: float, train_gflops: float, surface_s: float,
             surface_gflops: float, regions_s: float, peak: float, gemm: float) -> str:
    """One line of the table; ``ep/s`` is model-epochs (networks x epochs) trained per second."""
    return (f"{slug:18s} {seeds:>5s} {train_s:8.2f} {epochs_per_s:7.0f} {train_gflops:8.1f} "
            f"{train_gflops / gemm:6.2f} {surface_s:9.2f} {surface_gflops:8.1f} {surface_gflops / gemm:6.2f} "
            f"{regions_s:9.2f} {peak:9.0f}")


def run_bench(device: torch.device, experiments: tuple[Experiment, ...] = EXPERIMENTS,
              echo: Callable[[str], None] = print) -> list[Row]:
    """Print the table; the total includes data loading and device start-up."""
    start = time.perf_counter()
    if device.type == "cuda":
        torch.zeros(1, device=device)  # CUDA context creation counts against the goal
    data = load_spirals(experiments[0].data)
    peak = gemm_gflops(device)
    echo(f"device {device.type} ({_device_name(device)}), torch {torch.__version__}, "
         f"{torch.get_num_threads()} threads; fp32 GEMM 2048³: {peak:.1f} GFLOP/s")
    echo(HEADER)
    rows, results = [], []
    for experiment in experiments:
        row, result = bench_experiment(experiment, data, device)
        rows.append(row)
        results.append(result.timings)
        echo(row_line(row.slug, str(row.seeds), row.train_s, row.model_epochs_per_s, row.train_gflops,
                      row.surface_s, row.gflops, row.regions_s, row.peak_mib, peak))
    train_s, surface_s = sum(r.train_s for r in rows), sum(r.surface_s for r in rows)
    echo(row_line("total", "", train_s, sum(t.model_epochs for t in results) / train_s,
                  sum(t.train_flops for t in results) / train_s / 1e9, surface_s,
                  sum(t.surface_flops for t in results) / surface_s / 1e9, sum(r.regions_s for r in rows),
                  max(r.peak_mib for r in rows), peak))
    curvature_s = sum(t.curvature_s for t in results)
    if curvature_s > 0:
        curvature_gflops = sum(t.curvature_flops for t in results) / curvature_s / 1e9
        echo(f"curvature (one thread; {', '.join(e.slug for e in experiments if e.curvature)}): {curvature_s:.1f} s, "
             f"{curvature_gflops:.1f} GFLOP/s estimated, ratio {curvature_gflops / peak:.2f}")
    echo(f"training + surfaces: {train_s + surface_s:.1f} s; whole compute run, start-up and regions "
         f"included: {time.perf_counter() - start:.1f} s")
    return rows


def _device_name(device: torch.device) -> str:
    """The GPU's or the CPU's model name, for the table's first line: a timing means little without it."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return Path("/proc/cpuinfo").read_text().split("model name")[1].split(":")[1].split("\n")[0].strip() \
        if Path("/proc/cpuinfo").exists() else "cpu"
