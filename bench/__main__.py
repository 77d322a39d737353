"""`make bench`: run the figures of issue 6 and rewrite BENCHMARKS.md.

    python -m bench [--only 2,5] [--repeats 3] [--quick] [--out BENCHMARKS.md]

`--only` re-measures some figures and keeps the others' latest results (bench/results.json), each figure
stamped with when it was measured. `--quick` shortens every run (a smoke test, not figures to publish:
bench/results.json is left alone).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from bench.common import ROOT, load_average, machine
from bench.figures import FIGURES, run_figure
from bench.report import load_results, record, render, save_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated figure numbers (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--quick", action="store_true", help="short runs, for checking the suite itself")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    numbers = [int(n) for n in args.only.split(",")] if args.only else sorted(FIGURES)
    results = load_results() if args.only else {"figures": {}}
    results["machine"] = machine()
    started = time.perf_counter()
    for number in numbers:
        before = load_average()
        print(f"figure {number} ...", flush=True)
        figure = run_figure(number, args.repeats, args.quick)
        record(results, figure, datetime.now().strftime("%Y-%m-%d %H:%M"), before, load_average())
        print(f"  {figure.title}: {figure.headline} (goal {figure.goal}: {figure.verdict}; "
              f"{figure.seconds:.0f} s)", flush=True)
        if not args.quick:  # a smoke test never replaces the figures to publish
            save_results(results)
    minutes = (time.perf_counter() - started) / 60
    if not args.only:
        results["suite_minutes"] = minutes
    if not args.quick:
        save_results(results)
    preamble = [
        "Written by `make bench` (`python -m bench`, the code in bench/). Every figure is the median of several "
        "runs, and every ratio compares runs made in the same invocation, alternating the two sides. "
        + (f"The whole suite took {results['suite_minutes']:.1f} min. " if "suite_minutes" in results else "")
        + "Benchmarks never run in `make test`; tests never assert times.",
        "The machine may be shared: each figure ends with the load average before and after it (a load above "
        "the core count means other processes were competing for the CPU, which makes two-thread training "
        "runs slower and noisier; re-measure one figure with `python -m bench --only N`).",
    ]
    if args.quick:
        preamble.append("**Quick mode: shortened runs, not figures to quote.**")
    from pathlib import Path

    Path(args.out).write_text(render(results, preamble) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({minutes:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
