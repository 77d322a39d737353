"""Figure 5, the monitor's data path on a run 1,000,000 log intervals long: appending rows (RunDir, as the
trainer does), following them (MetricsTail: 100 new rows), loading everything (load_metrics), and drawing
the loss pane (the app's braille rasterising of both series, then plotext's build of a 100×30 pane).

    python -m bench.datapath [--rows 1000000] [--repeats 7]

Prints one JSON line of medians in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from gantui.engine.events import METRIC_COLUMNS
from gantui.engine.run.tails import MetricsTail, load_metrics
from gantui.engine.run.writer import RunDir

PANE = (100, 30)  # columns, rows of the loss pane


def write_metrics(path: Path, rows: int) -> None:
    """A metrics.csv of `rows` plausible rows (every tenth step), from a pool of pre-formatted value sets."""
    rng = np.random.default_rng(0)
    pool = []
    for _ in range(4096):
        loss_d, loss_g = 0.69 + 0.1 * rng.standard_normal(), 0.69 + 0.2 * rng.standard_normal()
        d_real, d_fake = 0.5 + 0.05 * rng.standard_normal(), 0.5 + 0.05 * rng.standard_normal()
        norm_d, norm_g, rate = rng.random(), rng.random(), 40000 + 1000 * rng.random()
        pool.append(f"{loss_d:.6g},{loss_g:.6g},{d_real:.6g},{d_fake:.6g},{norm_d:.6g},{norm_g:.6g},{rate:.6g}"
                    f",,,,812345678,")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(METRIC_COLUMNS) + "\n")
        for start in range(0, rows, 100_000):
            block = range(start + 1, min(start + 100_000, rows) + 1)
            handle.write("".join(f"{10 * i},{i // 60},{i * 0.1:.6g},{pool[i % 4096]}\n" for i in block))


def metric_row(step: int) -> dict:
    return {"step": step, "epoch": step // 600, "time": step * 0.01, "loss_d": 0.69, "loss_g": 0.7, "d_real": 0.5,
            "d_fake": 0.5, "grad_norm_d": 0.1, "grad_norm_g": 0.2, "samples_per_s": 40000.0, "rss": 812345678}


def render_loss_pane(steps: np.ndarray, loss_d: np.ndarray, loss_g: np.ndarray) -> tuple[float, float]:
    """What the dashboard's loss pane does for one draw: rasterise both series into braille cells
    (MetricPlot.replot), then plotext's build and textual-plotext's conversion to Rich text (its render).
    Returns the milliseconds of each half."""
    from rich.text import Text
    from textual_plotext.plot import Plot

    from gantui.app.chart import build_chart, draw_chart
    from gantui.app.widgets.metric_plot import plotted_curve
    from gantui.engine.run.history import window

    start = time.perf_counter()
    rows = window(steps, None)
    curves = [plotted_curve(steps[rows], series[rows], colour, False)
              for series, colour in ((loss_d, "red"), (loss_g, "cyan"))]
    chart = build_chart(curves, *PANE, references=((0.693, "white"),))
    rasterised = time.perf_counter()
    plot = Plot()
    draw_chart(plot, chart)
    plot.plotsize(*PANE)
    plot._set_size(*PANE)  # as textual-plotext's PlotextPlot.render does
    Text.from_ansi(plot.build())
    built = time.perf_counter()
    return (rasterised - start) * 1000, (built - rasterised) * 1000


def timed(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    result: dict[str, float] = {"rows": args.rows}
    with tempfile.TemporaryDirectory(prefix="gantui-datapath-") as folder:
        run = RunDir(Path(folder))
        path = run.layout.metrics
        start = time.perf_counter()
        write_metrics(path, args.rows)
        result["generate_s"] = time.perf_counter() - start
        result["file_mb"] = path.stat().st_size / 1e6

        tail = MetricsTail(path)
        start = time.perf_counter()
        first = tail.poll()
        result["tail_first_read_ms"] = (time.perf_counter() - start) * 1000
        assert first["step"].size == args.rows
        next_step = [args.rows * 10]

        append_times, tail_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(100):
                next_step[0] += 10
                run.append_metrics(metric_row(next_step[0]))
            append_times.append((time.perf_counter() - start) * 1000 / 100)
            start = time.perf_counter()
            new = tail.poll()
            tail_times.append((time.perf_counter() - start) * 1000)
            assert new["step"].size == 100 and new["step"][-1] == next_step[0]
        result["append_row_ms"] = statistics.median(append_times)
        result["tail_100_rows_ms"] = statistics.median(tail_times)

        load_times = timed(lambda: load_metrics(path), max(3, args.repeats // 2))
        result["full_load_ms"] = statistics.median(load_times)
        frame = load_metrics(path)
        assert len(frame) == args.rows + 100 * args.repeats

        steps = frame["step"].to_numpy(np.float64)[: args.rows]
        loss_d = frame["loss_d"].to_numpy(np.float64)[: args.rows]
        loss_g = frame["loss_g"].to_numpy(np.float64)[: args.rows]
        render_loss_pane(steps, loss_d, loss_g)  # the first build imports and caches
        halves = [render_loss_pane(steps, loss_d, loss_g) for _ in range(args.repeats)]
        result["render_ms"] = statistics.median(sum(pair) for pair in halves)
        result["rasterise_ms"] = statistics.median(pair[0] for pair in halves)
        result["plotext_ms"] = statistics.median(pair[1] for pair in halves)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
