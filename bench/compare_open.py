"""Opening compare on 8 runs of 100,000 logged steps each: time to the first full render (goal < 1 s).

    python -m bench.compare_open [--runs 8] [--rows 100000] [--repeats 3] [--keep DIR]

The last line printed is a JSON object of the times (bench/figures.py's figure 8 reads it).

Writes the runs once (metrics.csv with every column, a few sample grids, config and status), then for each
repeat starts the app on `gantui compare` of them in a headless terminal (160×48) and times from the start
of the app to the first frame that shows every curve, every sample grid and the table. Also times the
reading alone (CompareReader's first poll: every metrics.csv parsed in bulk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gantui.engine.run.layout import RunLayout
from gantui.engine.run.state import RunState

COLUMNS = ("step", "epoch", "time", "loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g",
           "samples_per_s", "mem_allocated", "mem_reserved", "mem_peak", "rss")
GOAL_S = 1.0


def write_run(path: Path, rows: int, seed: int) -> Path:
    """A finished run of `rows` metrics rows (one per 10 steps) with realistic-looking numbers."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    steps = np.arange(1, rows + 1) * 10
    decay = np.exp(-steps / steps[-1] * 5)
    table = {
        "step": steps, "epoch": steps // 938, "time": np.round(steps * 0.004, 3),
        "loss_d": np.round(0.69 + 0.5 * decay * rng.standard_normal(rows), 6),
        "loss_g": np.round(0.9 + decay + 0.1 * rng.standard_normal(rows), 6),
        "d_real": np.round(0.5 + 0.3 * decay, 6), "d_fake": np.round(0.5 - 0.3 * decay, 6),
        "grad_norm_d": np.round(rng.random(rows), 6), "grad_norm_g": np.round(rng.random(rows) * 2, 6),
        "samples_per_s": np.round(16000 + 500 * rng.standard_normal(rows), 1),
        "mem_allocated": np.full(rows, 2_400_000_000), "mem_reserved": np.full(rows, 3_200_000_000),
        "mem_peak": np.full(rows, 2_900_000_000), "rss": np.full(rows, 536_870_912),
    }
    lines = [",".join(COLUMNS)]
    columns = [table[name].astype(str) for name in COLUMNS]
    lines.extend(",".join(cells) for cells in zip(*columns, strict=True))
    layout = RunLayout(path)
    layout.metrics.write_text("\n".join(lines) + "\n")
    config = {"dataset": "mnist", "arch": "dcgan28", "loss": "bce", "optimizer": "adam", "lr": 2e-4 * (1 + seed % 3),
              "betas": [0.5, 0.999], "batch_size": 64 * (1 + seed % 2), "latent_dim": 100, "seed": seed,
              "device": "cuda:0", "log_every": 10}
    layout.config.write_text(json.dumps(config))
    status = {"state": RunState.FINISHED, "step": int(steps[-1]), "total_steps": int(steps[-1]), "device": "cuda:0",
              "params_g": 856_963, "params_d": 393_409, "started": 1_767_225_600.0 + seed, "heartbeat": 0}
    layout.status.write_text(json.dumps(status))
    layout.samples.mkdir()
    for index, step in enumerate((0, steps[-1] // 2, steps[-1])):
        grid = (rng.random((242, 242)) * 255 * (index + 1) / 3).astype(np.uint8)
        Image.fromarray(grid).save(layout.sample_png(step))
    shutil.copy(layout.sample_png(steps[-1]), layout.latest_png)
    return path


def time_read(paths: list[Path]) -> float:
    from gantui.app.runview.compare_data import CompareReader

    start = time.perf_counter()
    runs = CompareReader(paths).poll()
    elapsed = time.perf_counter() - start
    assert runs is not None and all(run.metrics["step"].size for run in runs)
    return elapsed


async def time_open(paths: list[Path], runs_dir: Path) -> float:
    from gantui.app.app import GanApp
    from gantui.app.screens.compare import CompareScreen
    from gantui.app.widgets.compare_plot import ComparePlot
    from gantui.app.widgets.sample_view import SampleView

    start = time.perf_counter()
    app = GanApp([runs_dir], graphics="ascii", probe_host=False, compare=paths)
    async with app.run_test(size=(160, 48)):
        while True:
            screen = app.screen
            if isinstance(screen, CompareScreen) and screen.loads_seen:
                plot = screen.query_one(ComparePlot)
                views = list(screen.query(SampleView))
                if plot.cells_drawn and all(view.picture is not None for view in views):
                    break
            await asyncio.sleep(0.002)
        painted = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: painted.done() or painted.set_result(time.perf_counter()))
        return await painted - start  # the first frame painted with all of it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_open", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", help="write the runs here and keep them (default: a temporary folder)")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gantui-compare-bench-"))
    runs_dir = root / "runs"
    try:
        paths = sorted(runs_dir.glob("*")) if runs_dir.is_dir() else []
        if len(paths) != args.runs:
            shutil.rmtree(runs_dir, ignore_errors=True)
            start = time.perf_counter()
            paths = [write_run(runs_dir / f"20260101-0000{i:02d}-mnist-dcgan28-bench{i}", args.rows, i)
                     for i in range(args.runs)]
            print(f"wrote {args.runs} runs of {args.rows:,} rows in {time.perf_counter() - start:.1f} s "
                  f"({sum((p / 'metrics.csv').stat().st_size for p in paths) / 2**20:.0f} MiB of metrics.csv)")
        reads = [time_read(paths) for _ in range(args.repeats)]
        opens = [asyncio.run(time_open(paths, runs_dir)) for _ in range(args.repeats)]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    read, opened = statistics.median(reads), statistics.median(opens)
    print(f"read {args.runs} × {args.rows:,} rows: median {read:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in reads)})")
    print(f"compare open → first full render: median {opened:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in opens)})"
          f"  goal < {GOAL_S:g} s: {'met' if opened < GOAL_S else 'MISSED'}")
    print(json.dumps({"runs": args.runs, "rows": args.rows, "read_s": reads, "open_s": opens}))  # for make bench
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
