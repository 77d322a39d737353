"""Remote places over the loopback sshd: what a live remote dashboard moves, how soon 50 remote runs are
listed, and how long a row written on the host takes to reach the local plot.

    python -m bench.remote_ssh [--seconds S] [--runs N] [--lags K]

Prints one JSON object (the last line). Everything goes through real ssh to 127.0.0.1 (bench/loopback_ssh.py),
so the figures are gantui's own costs (protocol, agent, mirror, app) without a network's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.loopback_ssh import start_box


def _live_run(remote: Path, seconds: float):
    """A real `gantui train` on the host (mnist mlp on the CPU, a row every 10 steps, a grid every 100)."""
    from gantui.engine.config import resolve_config
    from gantui.engine.spawn import spawn_train

    config = resolve_config("mnist", "mlp", steps=1_000_000, log_every=10, sample_every=100, eval_every=0,
                            device="cpu", runs_dir=str(remote))
    return spawn_train(config, remote)


def bytes_per_minute(remote: Path, seconds: float) -> dict[str, float]:
    """Protocol bytes (both ways) while following the live run as the dashboard does, for `seconds` each:
    metrics, evaluations and events only, then with the sample pictures too."""
    from gantui.engine.places import close_all, open_place
    from gantui.engine.run.history import LatestRows, MetricsHistory

    spawned = _live_run(remote, seconds)
    figures = {}
    try:
        place = open_place(f"box:{remote}")
        deadline = time.monotonic() + 120
        while not place.run_folders() or not (remote / spawned.path.name / "metrics.csv").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the live run did not start")
            time.sleep(0.5)
        path = place.run_folders()[0]
        for name, samples in (("metrics_only", False), ("with_pictures", True)):
            follower = place.follow(path, metrics=MetricsHistory(), evals=LatestRows(500), events=200, samples=samples)
            follower.poll()  # the catch-up is not the steady state
            link = place.link
            before, rows = link.bytes_in + link.bytes_out, follower.poll().metrics.count
            tails = _tail_bytes(path)
            started = time.monotonic()
            polls = 0
            while time.monotonic() - started < seconds:
                read = follower.poll()
                polls += 1
                if samples:
                    place.picture(path)  # the dashboard shows the latest snapshot
                time.sleep(0.5)  # the dashboard's POLL_S
            elapsed = time.monotonic() - started
            moved = link.bytes_in + link.bytes_out - before
            figures[name] = moved / elapsed * 60
            figures[f"{name}_not_rows"] = (moved - (_tail_bytes(path) - tails)) / elapsed * 60  # status, requests…
            figures[f"{name}_polls_per_minute"] = polls / elapsed * 60
            figures[f"{name}_rows_per_minute"] = (read.metrics.count - rows) / elapsed * 60
        close_all()
    finally:
        os.killpg(spawned.process.pid, signal.SIGKILL)
    return figures


def _tail_bytes(mirror: Path) -> int:
    """The bytes of the mirror's append-only files: what the rows (metrics, evaluations, events) brought."""
    from gantui.engine.remote.agent import TAIL_FILES

    return sum((mirror / name).stat().st_size for name in TAIL_FILES if (mirror / name).exists())


def _write_runs(folder: Path, count: int) -> None:
    """`count` finished runs: config, status, a short metrics.csv and eval.csv each."""
    now = time.time()
    for index in range(count):
        run = folder / f"20260101-{index:06d}-mnist-mlp"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "mlp", "loss": "bce",
                                                     "device": "cpu"}))
        (run / "status.json").write_text(json.dumps({"state": "finished", "step": 1000, "total_steps": 1000,
                                                     "started": now - index, "loss_d": 0.7, "loss_g": 0.8}))
        (run / "metrics.csv").write_text("step,loss_d,loss_g\n" + "".join(f"{s},0.7,0.8\n" for s in range(0, 1000, 10)))
        (run / "eval.csv").write_text("step,fid\n" + "".join(f"{s},{100 - s / 20}\n" for s in range(100, 1001, 100)))


async def _time_to_listed(remote: Path, count: int) -> float:
    from gantui.app.app import GanApp
    from gantui.engine.places import close_all

    started = time.perf_counter()
    app = GanApp([f"box:{remote}"], graphics="ascii", probe_host=False)
    async with app.run_test(size=(160, 60)) as pilot:
        while len(getattr(app.screen, "shown", ())) < count:
            await pilot.pause(0.01)
        await pilot.pause(0)  # the table filled: drawn on the next refresh
        elapsed = time.perf_counter() - started
    close_all()
    return elapsed


async def _lags(remote: Path, count: int) -> list[float]:
    """Seconds from a row appended to a live run's metrics.csv on the host to its point on the dashboard's plot."""
    from gantui.app.app import GanApp
    from gantui.app.widgets.metric_plot import MetricPlot
    from gantui.engine.places import close_all, open_place

    run = remote / "20260101-999999-mnist-mlp-live"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "mlp", "loss": "bce"}))
    status = {"state": "running", "step": 0, "total_steps": 10_000, "heartbeat": time.time(), "started": time.time()}
    (run / "status.json").write_text(json.dumps(status))
    (run / "metrics.csv").write_text("step,loss_d,loss_g,d_real,d_fake\n10,0.7,0.8,0.5,0.5\n")
    mirror = next(path for path in open_place(f"box:{remote}").run_folders() if path.name == run.name)
    app = GanApp([remote], watch=mirror, graphics="ascii", probe_host=False)  # the app's default poll (0.5 s)
    lags = []
    async with app.run_test(size=(120, 40)) as pilot:
        plot = app.screen.query_one("#losses", MetricPlot)
        while plot.frame.count < 1:
            await pilot.pause(0.01)
        for index in range(count):
            shown = plot.frame.count
            with open(run / "metrics.csv", "a") as handle:
                handle.write(f"{20 + 10 * index},0.7,0.8,0.5,0.5\n")
            written = time.perf_counter()
            while plot.frame.count <= shown:
                await pilot.pause(0.005)
            lags.append(time.perf_counter() - written)
            await pilot.pause(0.37)  # rows at odd moments against the poll and the plot's timer
    close_all()
    return lags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.remote_ssh", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per bytes-per-minute measurement")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lags", type=int, default=10)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="gantui-bench-remote-"))
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    box = start_box(folder / "sshd")
    places = folder / "config" / "gantui" / "places.json"
    places.parent.mkdir(parents=True)
    places.write_text(json.dumps(box.places_file()))
    try:
        result = bytes_per_minute(folder / "live", args.seconds)
        _write_runs(folder / "fifty", args.runs)
        result["list_s"] = [asyncio.run(_time_to_listed(folder / "fifty", args.runs)) for _ in range(3)]
        result["runs"] = args.runs
        result["lag_s"] = asyncio.run(_lags(folder / "lag", args.lags))
    finally:
        box.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
