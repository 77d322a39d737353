"""A run's quality curves as text, the way docs/quality.md shows them: eval.csv's metrics, the alarms, a table.

    .venv/bin/python docs/eval_curves.py RUN_FOLDER [--after STEP] [--width 78]

Prints a Markdown table of every evaluation, two plotext charts (FID in the random embedding; precision,
recall, density and coverage) and the run's alarm events (raised and cleared), all read from the run folder;
with --after STEP only those after that step (a resumed run's new part).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import plotext

from gantui.engine.run.layout import RunLayout
from gantui.engine.run.tails import EventsTail, load_eval

TABLE = (("step", "step", "{:.0f}"), ("time s", "time", "{:.0f}"), ("FID rand", "fid_rand", "{:.1f}"),
         ("KID rand", "kid_rand", "{:.2f}"), ("precision", "precision_rand", "{:.2f}"),
         ("recall", "recall_rand", "{:.2f}"), ("density", "density_rand", "{:.2f}"),
         ("coverage", "coverage_rand", "{:.2f}"), ("diversity", "diversity", "{:.2f}"),
         ("dup", "duplicate_rate", "{:.2f}"), ("eval s", "eval_seconds", "{:.1f}"))
SHARES = (("precision", "precision_rand", "P"), ("recall", "recall_rand", "R"), ("density", "density_rand", "D"),
          ("coverage", "coverage_rand", "C"))


def table(rows: list[dict[str, float]]) -> str:
    def cell(value: float, form: str) -> str:
        return "" if value is None or math.isnan(value) else form.format(value)

    lines = ["| " + " | ".join(title for title, _, _ in TABLE) + " |", "|" + "---|" * len(TABLE)]
    lines += ["| " + " | ".join(cell(row.get(column), form) for _, column, form in TABLE) + " |" for row in rows]
    return "\n".join(lines)


def chart(rows: list[dict[str, float]], series: tuple[tuple[str, str, str], ...], title: str, width: int) -> str:
    plotext.clear_figure()
    plotext.plotsize(width, 16)
    plotext.theme("clear")
    steps = [row["step"] for row in rows]
    for label, column, marker in series:
        plotext.plot(steps, [row[column] for row in rows], label=label, marker=marker)
    ticks = sorted({int(step) for step in steps[::max(1, len(steps) // 5)]} | {int(steps[-1])})
    plotext.xticks(ticks, [str(tick) for tick in ticks])  # evaluation steps, not plotext's fractions
    plotext.title(title)
    plotext.xlabel("step")
    return plotext.uncolorize(plotext.build())


def alarm_lines(layout: RunLayout, after: int) -> list[str]:
    """Each alarm as it was raised, and its all-clear (an info event "... cleared at step N"), after `after`."""
    events = EventsTail(layout.events).poll()
    return [f"- {event['message'].split(':')[0]}" for event in events if event.get("step", 0) > after and (
        event.get("event") == "alarm" or " cleared at step " in str(event.get("message", "")))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--after", type=int, default=0, metavar="STEP", help="only evaluations after STEP")
    parser.add_argument("--width", type=int, default=78)
    args = parser.parse_args()
    layout = RunLayout(args.run)
    frame = load_eval(layout.evals)
    rows = frame[frame["step"] > args.after].to_dict("records")
    print(table(rows), "", "```", chart(rows, (("fid", "fid_rand", "*"),), "FID (random embedding)", args.width),
          "```", "```", chart(rows, SHARES, "precision · recall · density · coverage (random embedding)",
                              args.width), "```", "", *alarm_lines(layout, args.after), sep="\n")


if __name__ == "__main__":
    main()
