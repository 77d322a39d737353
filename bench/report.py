"""BENCHMARKS.md from the figures' results (bench/results.json keeps the latest measurement of each figure)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bench.common import Figure

RESULTS = Path(__file__).resolve().parent / "results.json"


def load_results() -> dict:
    try:
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"figures": {}}


def save_results(results: dict) -> None:
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def record(results: dict, figure: Figure, when: str, load_before: str, load_after: str) -> None:
    results["figures"][str(figure.number)] = {**dataclasses.asdict(figure), "when": when,
                                             "load_before": load_before, "load_after": load_after}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not header:
        return []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def render(results: dict, preamble: list[str]) -> str:
    figures = [results["figures"][key] for key in sorted(results["figures"], key=int)]
    verdict = {True: "met", False: "**missed**", None: "—"}
    lines = ["# Benchmarks", "", *preamble, "", "## Machine", ""]
    lines += [f"- **{name}**: {value}" for name, value in results.get("machine", {}).items()]
    lines += ["", "## Summary", ""]
    lines += _table(["#", "figure", "measured", "goal", "verdict"],
                    [[str(f["number"]), f["title"], f["headline"], f["goal"], verdict[f["met"]]] for f in figures])
    for f in figures:
        lines += [f"## {f['number']}. {f['title']}", "",
                  f"**{f['headline']}** — goal {f['goal']}: {verdict[f['met']]}.", ""]
        lines += _table(f["header"], f["rows"])
        if f["method"]:
            lines += [f"*How:* {f['method']}", ""]
        lines += [f"- {note}" for note in f["notes"]]
        if f["notes"]:
            lines.append("")
        lines += [f"<sub>Measured {f['when']} in {f['seconds']:.0f} s; load average before {f['load_before']}, "
                  f"after {f['load_after']}.</sub>", ""]
    return "\n".join(lines)
