"""What every figure shares: the machine's description, medians, child processes and gantui's own throughput."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# gantui's CLI sets this for itself (gantui/cli/__init__.py); baselines get the same so that the comparison
# is about the training loops. Figure 2 also shows a bare loop under torch's defaults.
GANTUI_OPENMP = {"GOMP_SPINCOUNT": "1000"}
OPENMP_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


@dataclass
class Figure:
    """One figure of BENCHMARKS.md: a headline, the goal, whether it is met, a table and notes."""

    number: int
    title: str
    headline: str = ""
    goal: str = ""
    met: bool | None = None  # None: no goal on this machine (a stated figure, or not measured)
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    method: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "—"}[self.met]


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: list[float], style: str = "{:,.0f}") -> str:
    """`median (min–max, n runs)`, each number in `style` (default: whole, with thousands separators)."""
    if not values:
        return "—"
    low, mid, high = (style.format(v) for v in (min(values), median(values), max(values)))
    return f"{mid} ({low}–{high}, {len(values)} runs)"


def child_env(openmp: dict[str, str] | None = GANTUI_OPENMP) -> dict[str, str]:
    """This environment without OpenMP tuning, plus `openmp` (None: torch's defaults)."""
    env = {k: v for k, v in os.environ.items() if k not in OPENMP_VARIABLES}
    env.update(openmp or {})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_json(module: str, args: list[str], openmp: dict[str, str] | None = GANTUI_OPENMP,
             timeout: float = 600) -> dict:
    """Run `python -m module args` in a fresh interpreter; its last stdout line is a JSON object."""
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT,
                            env=child_env(openmp), timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def gantui_train(runs_dir: Path, name: str, dataset: str, arch: str, steps: int, device: str,
                 extra: list[str] | None = None, timeout: float = 600) -> Path:
    """`gantui train` headless in its own process (as a user runs it, environment untouched); its run folder."""
    run_path = runs_dir / name
    command = [sys.executable, "-m", "gantui", "train", "--dataset", dataset, "--arch", arch, "--device", device,
               "--steps", str(steps), "--eval-every", "0", "--seed", "0", "--plain", "--run-path", str(run_path),
               *(extra or [])]
    env = child_env(None)  # gantui picks its own OpenMP settings
    with open(runs_dir / f"{name}.log", "wb") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"gantui train failed: {(runs_dir / f'{name}.log').read_text()[-2000:]}")
    return run_path


def gantui_rate(run_path: Path, warmup_steps: int) -> float:
    """Samples/s from the run's own metrics.csv: samples trained after `warmup_steps` over the training time
    that passed meanwhile (the `time` column: wall time of the loop, logging and sample grids included)."""
    from gantui.engine.run.layout import RunLayout
    from gantui.engine.run.reader import read_json
    from gantui.engine.run.tails import load_metrics

    frame = load_metrics(RunLayout(run_path).metrics)
    batch = int(read_json(RunLayout(run_path).config)["batch_size"])
    after = frame[frame["step"] >= warmup_steps]
    if len(after) < 2:
        raise RuntimeError(f"{run_path}: too few metrics rows after step {warmup_steps}")
    first, last = after.iloc[0], after.iloc[-1]
    return float((last["step"] - first["step"]) * batch / (last["time"] - first["time"]))


def machine() -> dict[str, str]:
    """CPU model and cores, memory, GPU, torch and Python versions, the load on the machine now."""
    import psutil
    import torch

    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "none (not measured: no GPU available to this run)"
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        gpu = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    return {
        "CPU": f"{model}, {psutil.cpu_count(logical=False)} cores / {psutil.cpu_count()} threads",
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "GPU": gpu,
        "torch": f"{torch.__version__} ({torch.get_num_threads()} intra-op threads)",
        "Python": platform.python_version(),
        "OS": f"{platform.system()} {platform.release()}",
    }


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
