"""Figure 10: runs of several processes (DistributedDataParallel, gloo on the CPU): 1 against 2 processes.

    python -m bench --only 10

Samples/s of `gantui train` and `gantui train --nproc 2` with the same global batch (mlp on mnist, dcgan28),
the scaling efficiency (rate with 2 / twice the rate with 1), and what the interval's one collective costs:
`python -m torch.distributed.run ... -m bench.ddp` times RankExchange.combine (the all_gather of the
interval's figures, ranks.csv rows and control requests) in two processes, printing one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import ROOT, Figure, child_env, gantui_rate, gantui_train, median, spread

EXCHANGES = 200  # timed calls of the interval's collective


def exchange_cost(count: int = EXCHANGES) -> dict:
    """Median and 90th percentile milliseconds of one interval exchange between 2 gloo processes."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "bench.ddp", str(count)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"bench.ddp failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# (label, processes, threads per process: None = torch's default, every core)
LAUNCHES = (("1 process", 1, None), ("1 process, 1 thread", 1, 1), ("2 processes", 2, 1))


def figure_10(repeats: int, quick: bool) -> Figure:
    figure = Figure(10, "Several processes on the CPU: 1 vs 2 (DDP, gloo)", goal="stated (2 cores)")
    runs = {"mlp": (300 if quick else 1000, 50), "dcgan28": (20 if quick else 40, 10)}
    rates: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="gantui-bench-10-") as folder:
        for index in range(repeats):
            for arch, (steps, warmup) in runs.items():
                for label, processes, threads in LAUNCHES:  # alternating, so drift on a shared machine hits all
                    name = f"{arch}-{processes}-{threads}-{index}"
                    launch = ["--log-every", "10"] + (["--nproc", str(processes)] if processes > 1 else [])
                    with _threads(threads):
                        run = gantui_train(Path(folder), name, "mnist", arch, steps, "cpu", launch)
                    rates.setdefault((arch, label), []).append(gantui_rate(run, warmup_steps=warmup))
    exchange = exchange_cost(50 if quick else EXCHANGES)
    figure.header = ["arch (global batch 64)", *(f"{label}: samples/s" for label, _, _ in LAUNCHES),
                     "scaling efficiency (2 processes / 2 × 1 thread)"]
    efficiencies = []
    for arch in runs:
        efficiency = median(rates[(arch, "2 processes")]) / (2 * median(rates[(arch, "1 process, 1 thread")]))
        efficiencies.append(efficiency)
        figure.rows.append([arch, *(spread(rates[(arch, label)]) for label, _, _ in LAUNCHES), f"{efficiency:.2f}"])
    figure.rows.append(["the interval's one collective (all_gather, 2 ranks)", f"{exchange['median_ms']:.2f} ms median",
                        f"{exchange['p90_ms']:.2f} ms p90", "once per --log-every steps", ""])
    named = ", ".join(f"{arch} {value:.2f}" for arch, value in zip(runs, efficiencies, strict=True))
    figure.headline = f"scaling efficiency {named}; exchange {exchange['median_ms']:.2f} ms per log interval"
    figure.method = (
        "`gantui train -d mnist --device cpu --log-every 10` as one process with torch's threads, as one process "
        "with OMP_NUM_THREADS=1, and with `--nproc 2` (torchrun, gloo, one thread per process, as torchrun "
        "sets it), global batch 64 (32 per rank); samples/s from metrics.csv after the warm-up steps. "
        "Efficiency is the 2-process rate over twice the one-thread rate: each process has a core, as each "
        "has a GPU on a GPU node; the rest is DDP's cost (the gradient all-reduce every step, SyncBatchNorm's "
        "sums for dcgan28). The exchange (metrics, ranks.csv rows, control) is timed alone by bench/ddp.py.")
    figure.notes.append(
        "A step of mlp is a few milliseconds for 32 samples, so the gradient all-reduce of its 336k parameters "
        "(1.3 MB through gloo's loopback TCP) every step weighs heavily; dcgan28's longer step hides more of it. "
        "With other processes loading this 2-core machine the two ranks do not each get a core, and every "
        "all-reduce waits for the slower: these are lower bounds for a quiet machine.")
    figure.notes.append(
        "On a shared 2-core machine one process with two threads suffers most from other processes' load "
        "(its threads wait for each other); compare the load averages below before reading much into it.")
    return figure


@contextlib.contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """OMP_NUM_THREADS=count for the child processes started meanwhile (None: leave it unset)."""
    before = os.environ.pop("OMP_NUM_THREADS", None)
    if count is not None:
        os.environ["OMP_NUM_THREADS"] = str(count)
    try:
        yield
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)
        if before is not None:
            os.environ["OMP_NUM_THREADS"] = before


def _time_exchanges(count: int) -> None:
    """Under torchrun: time RankExchange.combine `count` times; rank 0 prints the JSON line."""
    import torch

    from gantui.engine.control import RunControl
    from gantui.engine.distributed import joined
    from gantui.engine.exchange import RankExchange, SharedControl
    from gantui.engine.interval import FIGURES, IntervalFigures

    with joined("cpu") as world:
        exchange = RankExchange(world, torch.device("cpu"), SharedControl(RunControl(None), world))
        figures = IntervalFigures(tuple(float(i) for i in range(len(FIGURES))), 10, 640, 0.5)
        seconds = []
        for _ in range(count + 10):
            start = time.perf_counter()
            exchange.combine(figures)
            seconds.append(time.perf_counter() - start)
        seconds = sorted(seconds[10:])
        if world.is_main:
            print(json.dumps({"median_ms": 1000 * seconds[len(seconds) // 2],
                              "p90_ms": 1000 * seconds[int(len(seconds) * 0.9)], "count": count}))


if __name__ == "__main__":
    _time_exchanges(int(sys.argv[1]) if len(sys.argv) > 1 else EXCHANGES)
