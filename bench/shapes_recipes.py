"""Which settings make `dcgan64` learn `shapes`? Runs several recipes side by side and tabulates their metrics.

    python -m bench.shapes_recipes [--device cuda] [--steps 4000] [--eval-every 250] [--batch-size N]
                                   [--parallel 4] [--budget SECONDS] [--runs-dir DIR] [--only NAME ...]

Each recipe is one real `gantui train -d shapes -a dcgan64 --steps N --eval-every 250` run (a subprocess, so
they run at once: one GPU has room for several 64×64 DCGANs; on the CPU give --parallel 1). Past --budget the
runs still going are stopped (SIGTERM: each ends "stopped", resumable) and the table is made from what their
eval.csv holds. Prints, per recipe, the best evaluation in the random embedding (FID rand, and its recall and
coverage), the last one, and the first step at which it was good: recall and coverage in the random embedding
both at least GOOD (real pictures against real read about 0.97). Writes DIR/recipes.json as well.

This is the sweep that docs/quality.md's `dcgan64` on `shapes` section needs: on two CPU cores one recipe of
4,000 steps takes most of an hour, on a GPU a few minutes. Run folders stay in DIR for `gantui watch` and
`docs/eval_curves.py RUN`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gantui.engine.run.tails import load_eval

GOOD = 0.5  # recall_rand and coverage_rand both at least this: "it became good"
RECIPES: dict[str, tuple[str, ...]] = {  # the tutorial's settings, then one change each
    "tutorial": (),
    "smooth": ("--label-smoothing", "0.1"),
    "lr-d-half": ("--lr-d", "1e-4"),
    "smooth-lr-d": ("--label-smoothing", "0.1", "--lr-d", "1e-4"),
    "hinge": ("--loss", "hinge"),
    "wgan-gp": ("--loss", "wgan-gp", "--lr", "1e-4", "--betas", "0,0.9"),
    "lr-half": ("--lr", "1e-4"),
    "seed-1": ("--seed", "1"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--batch-size", type=int, help="default: the tutorial's 128")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--budget", type=float, default=math.inf, help="seconds for the whole sweep")
    parser.add_argument("--runs-dir", type=Path, default=Path(os.environ.get("OUT", ".")) / "shapes-recipes")
    parser.add_argument("--only", nargs="*", choices=sorted(RECIPES), help="these recipes (default: all)")
    args = parser.parse_args(argv)
    names = args.only or list(RECIPES)
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    waiting, running = list(names), {}
    while waiting or running:
        while waiting and len(running) < args.parallel:
            name = waiting.pop(0)
            running[name] = _start(name, args)
        time.sleep(2)
        for name, process in list(running.items()):
            if process.poll() is not None:
                del running[name]
        if time.monotonic() - start > args.budget:
            for process in running.values():
                process.send_signal(signal.SIGTERM)
            for process in running.values():
                _stop(process)
            skipped, waiting, running = waiting, [], {}
            print(f"budget spent: stopped the runs still going; not started: {', '.join(skipped) or 'none'}")
    results = {name: _summary(args.runs_dir, name) for name in names}
    (args.runs_dir / "recipes.json").write_text(json.dumps(results, indent=2))
    print(_table(results))
    return 0


def _stop(process: subprocess.Popen, grace: float = 60) -> None:
    """Wait for a run that was asked to stop; one that has not ended after `grace` seconds is killed
    (it loses what it did since its last checkpoint, which the summary does not read anyway)."""
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start(name: str, args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, "-m", "gantui", "train", "-d", "shapes", "-a", "dcgan64", "--steps", str(args.steps),
               "--eval-every", str(args.eval_every), "--device", args.device, "--runs-dir", str(args.runs_dir),
               "--name", f"recipe-{name}", *RECIPES[name]]
    if args.batch_size:
        command += ["--batch-size", str(args.batch_size)]
    if args.device == "cpu":
        command += ["--amp", "bf16"]  # AMX CPUs: twice the speed (docs/quality.md)
    log = open(args.runs_dir / f"{name}.log", "w")  # noqa: SIM115 (the child holds it)
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _summary(runs_dir: Path, name: str) -> dict:
    folders = sorted(runs_dir.glob(f"*-recipe-{name}"))
    if not folders:
        return {"run": None}
    frame = load_eval(folders[-1] / "eval.csv").dropna(subset=["fid_rand"])
    summary: dict = {"run": str(folders[-1]), "evaluations": len(frame)}
    if frame.empty:
        return summary
    best, last = frame.loc[frame["fid_rand"].idxmin()], frame.iloc[-1]
    good = frame[(frame["recall_rand"] >= GOOD) & (frame["coverage_rand"] >= GOOD)]
    for label, row in (("best", best), ("last", last)):
        summary[label] = {key: float(row[key]) for key in ("step", "fid_rand", "recall_rand", "coverage_rand",
                                                           "diversity")}
    summary["good_at"] = int(good["step"].iloc[0]) if not good.empty else None
    return summary


def _table(results: dict[str, dict]) -> str:
    lines = ["| recipe | flags | best: step | FID rand | R | C | last: step | FID rand | R | C | diversity | "
             f"good (R, C ≥ {GOOD}) at |", "|---" * 12 + "|"]
    for name, result in results.items():
        cells = [name, " ".join(RECIPES[name]) or "(the tutorial's)"]
        for label in ("best", "last"):
            row = result.get(label)
            cells += [f"{row['step']:.0f}", f"{row['fid_rand']:.1f}", f"{row['recall_rand']:.2f}",
                      f"{row['coverage_rand']:.2f}"] if row else ["–"] * 4
        cells += [f"{result['last']['diversity']:.2f}" if result.get("last") else "–",
                  str(result.get("good_at") or "never")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
