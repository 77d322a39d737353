"""The one prepared check for a lent GPU machine (issue 14, "On a GPU"), and its tiny CPU rehearsal.

    bash bench/gpu_check.sh [--cpu] [--out DIR] [--budget SECONDS]
    python -m bench.gpu_check [--cpu] [--out DIR] [--budget SECONDS]

Steps, most important first, each timed and written to DIR/gpu_check.json and DIR/gpu_check.md as soon as it
ends (so a run cut short still leaves what it measured); a step that fails is reported and the next runs:

1. environment   torch, CUDA, the GPU's name, nvidia-smi -L
2. cuda_tests    the tests that skip without CUDA (`-k cuda` in the files that have such skips)
3. architectures every architecture through `gantui train` (the real CLI, in this process so torch and CUDA
                 start once): bf16 on cuda for a few hundred steps; on the CPU two steps, fp32, conv left out
4. device_pane   the CUDA memory figures the run recorded and the NVML reading the device pane shows
5. ddp_1gpu      the same run plain and as `gantui train --nproc 1` (torchrun, DDP of one process): samples/s of each;
                 reported as not available while the CLI has no --nproc
6. figure_7      dcgan64: pytorch/examples' loop (bench/bare_loop.py) against `gantui train` (BENCHMARKS.md 7)
7. monitor_cost  samples/s headless against watched by the dashboard in a pseudo-terminal (BENCHMARKS.md 3)
8. compile       `gantui train --compile` (dcgan28): did it compile or fall back, samples/s against step 3's eager
                 run (skipped in --cpu: compiling takes minutes on a CPU)

--cpu runs every step on the CPU, a few steps each, so that CI proves the script itself works.
Its budget (default 285 s on a GPU, 150 s on the CPU) is checked before each step: a step that would start
past it is skipped and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CPU_BATCH = {"dcgan64": 2, "cdcgan": 2}  # the CPU rehearsal's batches (4 elsewhere)
CPU_SKIPS = {"conv": "--cpu: its 128×128 networks take ~10 s a step on two CPU cores"}


@dataclass
class Check:
    """What the check is run with: GPU or CPU rehearsal, where results go, the time it may take."""

    cpu: bool
    out: Path
    budget: float
    started: float = field(default_factory=time.perf_counter)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def device(self) -> str:
        return "cpu" if self.cpu else "cuda"

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.started)

    def train_flags(self, arch: str, steps: int) -> list[str]:
        """`gantui train` flags of one short run of `arch` (on its default dataset) on this check's device."""
        from gantui.engine.models import get_arch

        flags = ["--dataset", get_arch(arch).default_dataset, "--arch", arch, "--device", self.device,
                 "--steps", str(steps),
                 "--eval-every", "0", "--seed", "0", "--plain", "--sample-every", str(max(steps, 1)),
                 "--checkpoint-every", str(max(steps, 1))]
        if self.cpu:
            flags += ["--amp", "off", "--batch-size", str(CPU_BATCH.get(arch, 4)), "--log-every", "1"]
        else:
            flags += ["--amp", "bf16", "--log-every", str(max(steps // 10, 1))]
        return flags


# ---- helpers ----------------------------------------------------------------------------------------------
def gantui_in_process(argv: list[str], log: Path) -> int:
    """`gantui ARGV` in this process (torch and CUDA start once for all runs), its output to `log`."""
    from gantui.cli import main

    with open(log, "a", encoding="utf-8") as stream, contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        try:
            main(argv)
        except SystemExit as done:
            return int(done.code or 0) if not isinstance(done.code, str) else 1
    return 0


def run_rate(run_path: Path) -> dict[str, Any]:
    """A finished run's state, steps and samples/s (median of its logged rows after the first)."""
    from gantui.engine.run.layout import RunLayout
    from gantui.engine.run.reader import read_json
    from gantui.engine.run.tails import load_metrics

    layout = RunLayout(run_path)
    status = read_json(layout.status)
    frame = load_metrics(layout.metrics)
    rates = frame["samples_per_s"].dropna().to_numpy() if "samples_per_s" in frame else []
    rates = rates[1:] if len(rates) > 2 else rates
    return {"state": status.get("state"), "step": status.get("step"), "precision": status.get("amp")
            or read_json(layout.config).get("amp"), "samples_per_s": float(sorted(rates)[len(rates) // 2])
            if len(rates) else None, "world_size": status.get("world_size", 1)}


def _finite(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def has_nproc() -> bool:
    """Whether `gantui train` takes --nproc yet (the engine half of issue 14)."""
    result = subprocess.run([sys.executable, "-m", "gantui", "train", "--help"], capture_output=True, text=True,
                            cwd=ROOT, env=_env(), timeout=60)
    return "--nproc" in result.stdout


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _subprocess_train(check: Check, flags: list[str], run_path: Path, log: Path, timeout: float) -> int:
    command = [sys.executable, "-m", "gantui", "train", *flags, "--run-path", str(run_path)]
    with open(log, "ab") as stream:
        return subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, cwd=ROOT, env=_env(),
                              timeout=max(timeout, 5)).returncode


# ---- the steps ---------------------------------------------------------------------------------------------
def environment(check: Check) -> dict[str, Any]:
    import torch

    found: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                             "cuda_available": torch.cuda.is_available(), "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        found.update(gpu=torch.cuda.get_device_name(0), gpus=torch.cuda.device_count(),
                     cuda=torch.version.cuda, bf16=torch.cuda.is_bf16_supported())
    if shutil.which("nvidia-smi"):
        with contextlib.suppress(Exception):
            found["nvidia_smi"] = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                                 timeout=20).stdout.strip()
    with contextlib.suppress(Exception):
        found["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                         cwd=ROOT, timeout=10).stdout.strip()
    if not check.cpu and not torch.cuda.is_available():
        raise RuntimeError("no CUDA device: run with --cpu for the rehearsal")
    return found


def cuda_tests(check: Check) -> dict[str, Any]:
    files = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")
                   if "skipif(not torch.cuda.is_available()" in path.read_text(encoding="utf-8"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", *files]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_env(),
                            timeout=max(min(check.left(), 120), 10))
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    counts = {kind: int(number) for number, kind in re.findall(r"(\d+) (passed|failed|skipped|error)", summary)}
    if result.returncode not in (0, 5):  # 5: nothing collected
        raise RuntimeError(f"pytest: {summary}\n{result.stdout[-1500:]}")
    return {"files": files, "summary": summary, **counts}


def architectures(check: Check) -> dict[str, Any]:
    from gantui.engine.models import ARCHS

    steps = 2 if check.cpu else 200
    found: dict[str, Any] = {"steps": steps}
    for arch in ARCHS:
        if check.left() < 5:
            found[arch] = {"state": "skipped: out of time"}
            continue
        if check.cpu and arch in CPU_SKIPS:
            found[arch] = {"state": f"skipped: {CPU_SKIPS[arch]}"}
            continue
        run_path = check.out / "runs" / f"arch-{arch}"
        if not check.cpu:  # runs share this process: each one's peak is its own
            import torch

            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        code = gantui_in_process(["train", *check.train_flags(arch, steps), "--run-path", str(run_path)],
                                 check.out / "architectures.log")
        found[arch] = {"exit": code, "seconds": round(time.perf_counter() - started, 1),
                       **(run_rate(run_path) if run_path.is_dir() else {"state": "no run folder"})}
    bad = [arch for arch in ARCHS if found[arch].get("state") not in ("finished", None)
           and not str(found[arch].get("state")).startswith("skipped")]
    if bad:
        raise RuntimeError(f"did not finish: {', '.join(bad)} (see architectures.log)", found)
    return found


def device_pane(check: Check) -> dict[str, Any]:
    """What the device pane shows of the largest image run: its memory figures and this host's NVML reading."""
    from gantui.app.runview.hostinfo import HostProbe
    from gantui.engine.run.layout import RunLayout
    from gantui.engine.run.reader import read_json
    from gantui.engine.run.tails import load_metrics

    layout = RunLayout(check.out / "runs" / "arch-dcgan64")
    status = read_json(layout.status)
    if not status:
        raise RuntimeError("the dcgan64 run of step 3 is missing")
    frame = load_metrics(layout.metrics)
    last = frame.iloc[-1].to_dict() if len(frame) else {}
    found = {"device": status.get("device"), "device_name": status.get("device_name"),
             "memory_total": status.get("memory_total"),
             **{column: _finite(last.get(column)) for column in ("mem_allocated", "mem_reserved", "mem_peak", "rss")}}
    probe = HostProbe()
    try:
        status = {**status, "host": socket.gethostname(), "state": "running"}  # as the dashboard reads a live run
        reading = probe.read(status)
    finally:
        probe.close()
    if reading is not None:
        found["host"] = {name: getattr(reading, name) for name in reading.__dataclass_fields__}
    if not check.cpu and not found.get("mem_allocated"):
        raise RuntimeError("no CUDA memory figures in metrics.csv", found)
    return found


def ddp_1gpu(check: Check) -> dict[str, Any]:
    steps = 3 if check.cpu else 300
    flags = check.train_flags("dcgan28", steps)
    plain = check.out / "runs" / "ddp-plain"
    code = gantui_in_process(["train", *flags, "--run-path", str(plain)], check.out / "ddp.log")
    found: dict[str, Any] = {"steps": steps, "plain": {"exit": code, **run_rate(plain)}}
    if not has_nproc():
        found["nproc_1"] = "not available: `gantui train` has no --nproc yet (issue 14's engine half)"
        return found
    one = check.out / "runs" / "ddp-nproc1"
    code = _subprocess_train(check, ["--nproc", "1", *flags], one, check.out / "ddp.log", min(check.left(), 150))
    found["nproc_1"] = {"exit": code, **(run_rate(one) if one.is_dir() else {"state": "no run folder"})}
    plain_rate, ddp_rate = found["plain"].get("samples_per_s"), found["nproc_1"].get("samples_per_s")
    if plain_rate and ddp_rate:
        found["ddp_over_plain"] = round(ddp_rate / plain_rate, 3)
    if found["nproc_1"].get("state") != "finished":
        raise RuntimeError("gantui train --nproc 1 did not finish (see ddp.log)", found)
    return found


def figure_7(check: Check) -> dict[str, Any]:
    from bench.common import gantui_rate, run_json

    steps, warmup, batch = (4, 1, 2) if check.cpu else (400, 100, 128)
    bare = run_json("bench.bare_loop", ["--arch", "dcgan64", "--steps", str(steps), "--warmup", str(warmup),
                                        "--batch-size", str(batch), "--device", check.device],
                    timeout=max(min(check.left(), 120), 10))
    run_path = check.out / "runs" / "figure7-gantui"
    flags = ["--dataset", "shapes", "--arch", "dcgan64", "--device", check.device, "--steps", str(steps),
             "--eval-every", "0", "--seed", "0", "--plain", "--batch-size", str(batch),
             "--log-every", "1" if check.cpu else "20", *(["--amp", "off"] if check.cpu else [])]
    code = gantui_in_process(["train", *flags, "--run-path", str(run_path)], check.out / "figure7.log")
    if code != 0:
        raise RuntimeError(f"gantui train exited {code} (see figure7.log)")
    gantui = gantui_rate(run_path, warmup_steps=warmup)
    return {"steps": steps, "warmup": warmup, "batch": batch, "bare_samples_per_s": bare["samples_per_s"],
            "gantui_samples_per_s": gantui, "ratio": round(gantui / bare["samples_per_s"], 3), "goal": "≥ 2× on GPU"}


def monitor_cost(check: Check) -> dict[str, Any]:
    from bench import monitor_cost as cost

    steps = 40 if check.cpu else 1500
    root = check.out / "monitor"
    root.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {"steps": steps}
    if not check.cpu:
        found["headless_samples_per_s"] = cost.one_run(root, 0, steps, watched=False, device=check.device)[0]
    rate, share = cost.one_run(root, 1, steps, watched=True, device=check.device)
    found.update(watched_samples_per_s=rate, dashboard_cpu_percent=share)
    if "headless_samples_per_s" in found:
        found["ratio"] = round(rate / found["headless_samples_per_s"], 3)
    return found


def compile_check(check: Check) -> dict[str, Any]:
    if check.cpu:
        return {"skipped": "--cpu: torch.compile takes minutes on a CPU"}
    run_path = check.out / "runs" / "compile-dcgan28"
    flags = check.train_flags("dcgan28", 300)
    code = _subprocess_train(check, [*flags, "--compile"], run_path, check.out / "compile.log",
                             min(check.left() - 5, 150))
    events = (run_path / "events.jsonl").read_text(encoding="utf-8") if (run_path / "events.jsonl").is_file() else ""
    found = {"exit": code, **run_rate(run_path), "fell_back_to_eager": "--compile failed" in events}
    eager = check.out / "runs" / "arch-dcgan28"
    if eager.is_dir() and found.get("samples_per_s") and run_rate(eager).get("samples_per_s"):
        found["compiled_over_eager"] = round(found["samples_per_s"] / run_rate(eager)["samples_per_s"], 3)
    if found.get("state") != "finished":
        raise RuntimeError("gantui train --compile did not finish (see compile.log)", found)
    return found


STEPS: tuple[tuple[str, Callable[[Check], dict[str, Any]], float], ...] = (  # (name, step, seconds it needs)
    ("environment", environment, 1), ("cuda_tests", cuda_tests, 10), ("architectures", architectures, 10),
    ("device_pane", device_pane, 1), ("ddp_1gpu", ddp_1gpu, 10), ("figure_7", figure_7, 10),
    ("monitor_cost", monitor_cost, 15), ("compile", compile_check, 60),
)


# ---- running and reporting ----------------------------------------------------------------------------------
def run_check(check: Check) -> int:
    check.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, step, needs in STEPS:
        record: dict[str, Any] = {"step": name}
        if check.left() < needs:
            record.update(status="skipped", note=f"out of time ({check.left():.0f} s of the budget left)")
        else:
            started = time.perf_counter()
            try:
                record.update(status="ok", **step(check))
            except Exception as error:  # a failed step is reported; the others still run
                failed += 1
                figures = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
                record.update(status="failed", error=f"{type(error).__name__}: {error.args[0] if error.args else ''}",
                              trace=traceback.format_exc()[-1500:], **figures)
            record["seconds"] = round(time.perf_counter() - started, 1)
        check.steps.append(record)
        print(f"gpu_check: {name}: {record['status']} ({record.get('seconds', 0)} s)", flush=True)
        write_results(check)
    total = time.perf_counter() - check.started
    print(f"gpu_check: {len(check.steps) - failed}/{len(check.steps)} steps ok or skipped in {total:.0f} s; "
          f"results in {check.out / 'gpu_check.md'}", flush=True)
    return 1 if failed else 0


def write_results(check: Check) -> None:
    data = {"mode": "cpu" if check.cpu else "gpu", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": round(time.perf_counter() - check.started, 1), "budget": check.budget, "steps": check.steps}
    (check.out / "gpu_check.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    lines = [f"# gpu_check ({data['mode']}, {data['date']}, {data['seconds']} s of {check.budget:.0f})", ""]
    for record in check.steps:
        lines.append(f"## {record['step']}: {record['status']} ({record.get('seconds', 0)} s)")
        for key, value in record.items():
            if key not in ("step", "status", "seconds", "trace"):
                lines.append(f"- {key}: {json.dumps(value, default=str)}")
        lines.append("")
    (check.out / "gpu_check.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="the rehearsal: every step on the CPU, a few steps each")
    parser.add_argument("--out", help="results folder (default $OUT, else ./gpu-check)")
    parser.add_argument("--budget", type=float, help="seconds the whole check may take (285 GPU, 150 CPU)")
    args = parser.parse_args(argv)
    out = Path(args.out or os.environ.get("OUT") or "gpu-check").resolve()
    budget = args.budget if args.budget is not None else (150.0 if args.cpu else 285.0)
    return run_check(Check(cpu=args.cpu, out=out, budget=budget))


if __name__ == "__main__":
    sys.exit(main())
