"""What watching costs: samples/s of a headless `gantui train` against the same run with the dashboard
following it from a pseudo-terminal (the app as a person would run it, 120×40, half-cell pictures).

    python -m bench.monitor_cost [--steps N] [--repeats K]

Pairs of runs (ABBA order, so drift on a shared machine hits both kinds); each run's figure is the
trainer's own samples_per_s (median over its log intervals after the first few), the result the median
of the pairs' ratios, with the dashboard's CPU use while it watched. Goal: ratio ≥ 0.95.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

GOAL = 0.95
WARMUP_ROWS = 3  # the first log intervals include start-up (data loading, allocator warm-up)
TERMINAL = (40, 120)  # rows, columns


def train_command(run_path: Path, steps: int, device: str = "cpu") -> list[str]:
    return [sys.executable, "-m", "gantui", "train", "--dataset", "mnist", "--arch", "mlp", "--device", device,
            "--steps", str(steps), "--log-every", "10", "--sample-every", "100", "--seed", "0",
            "--run-path", str(run_path), "--plain"]


def samples_per_second(run_path: Path) -> float:
    from gantui.engine.run.layout import RunLayout
    from gantui.engine.run.tails import load_metrics

    frame = load_metrics(RunLayout(run_path).metrics)
    rates = frame["samples_per_s"].dropna().to_numpy()[WARMUP_ROWS:]
    if rates.size == 0:
        raise RuntimeError(f"{run_path} logged no metrics; see {run_path.parent / 'train.log'}")
    return float(statistics.median(rates))


def start_dashboard(runs_dir: Path, run_path: Path) -> tuple[subprocess.Popen, int, threading.Thread]:
    """The app watching `run_path` in a pseudo-terminal whose output is read (and dropped) as a terminal would."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", TERMINAL[0], TERMINAL[1], 0, 0))
    code = ("import sys; from pathlib import Path; from gantui.app.app import run_app; "
            "run_app([Path(sys.argv[1])], watch=Path(sys.argv[2]), graphics='halfcell')")
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(TERMINAL[1]), "LINES": str(TERMINAL[0])}
    app = subprocess.Popen([sys.executable, "-c", code, str(runs_dir), str(run_path)], stdin=slave, stdout=slave,
                           stderr=slave, env=env, start_new_session=True, close_fds=True)
    os.close(slave)

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return app, master, reader


def one_run(root: Path, index: int, steps: int, watched: bool, device: str = "cpu") -> tuple[float, float | None]:
    """samples/s of one run, and the dashboard's CPU use meanwhile (percent of one core) when watched."""
    runs_dir = root / f"runs-{index}"
    runs_dir.mkdir()
    run_path = runs_dir / ("watched" if watched else "headless")
    dashboard = None
    if watched:
        dashboard = start_dashboard(runs_dir, run_path)
        time.sleep(3.0)  # the app is up and polling before training starts, as when launched from it
    app_cpu = _cpu_seconds(dashboard[0].pid) if dashboard else 0.0
    started = time.perf_counter()
    with open(runs_dir / "train.log", "wb") as log:
        subprocess.run(train_command(run_path, steps, device), stdout=log, stderr=subprocess.STDOUT, check=True)
    wall = time.perf_counter() - started
    app_share = None
    if dashboard is not None:
        app_share = 100 * (_cpu_seconds(dashboard[0].pid) - app_cpu) / wall
        app, master, reader = dashboard
        alive = app.poll() is None
        os.write(master, b"\x11")  # ctrl+q: the run has finished, so the app quits without asking
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()
        os.close(master)
        reader.join(2)
        if not alive:
            raise RuntimeError("the dashboard exited before the run finished")
    return samples_per_second(run_path), app_share


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps per run (default 1000)")
    parser.add_argument("--repeats", type=int, default=4, help="pairs of runs (default 4)")
    args = parser.parse_args(argv)
    headless, watched, app_cpu, ratios = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="gantui-monitor-cost-") as folder:
        root = Path(folder)
        for repeat in range(args.repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)  # ABBA: drift hits both kinds
            results = {}
            for offset, kind in enumerate(order):
                results[kind] = one_run(root, 2 * repeat + offset, args.steps, watched=kind)
            headless.append(results[False][0])
            watched.append(results[True][0])
            app_cpu.append(results[True][1] or 0.0)
            ratios.append(watched[-1] / headless[-1])
            print(f"  pair {repeat + 1}: headless {headless[-1]:,.0f} samples/s, watched {watched[-1]:,.0f} "
                  f"(ratio {ratios[-1]:.3f}; the dashboard used {app_cpu[-1]:.1f}% of a core)", flush=True)
    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= GOAL else "misses"
    print(f"monitor_cost: mnist+mlp on {os.cpu_count()} CPU cores, {args.steps} steps, {args.repeats} pairs: "
          f"headless {statistics.median(headless):,.0f} samples/s, watched {statistics.median(watched):,.0f}; "
          f"median ratio {ratio:.3f} ({verdict} the goal ≥ {GOAL}); the dashboard used "
          f"{statistics.median(app_cpu):.1f}% of one core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
