"""Capture the dashboard on a run as plain text, the way docs/dashboard.txt and the README show it.

    .venv/bin/python docs/capture.py RUN_FOLDER [--size 120x40] > docs/dashboard.txt

Opens the app headless on the run (ASCII pictures), lets it poll for a few seconds, and turns Textual's SVG
screenshot back into lines of text: every <text> element of the SVG is one span of a terminal row.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
from collections import defaultdict
from pathlib import Path

_SPAN = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="[\d.]+"[^>]*>(.*?)</text>')
_CELL_WIDTH = 12.2  # pixels per terminal column in Textual's SVG export


def svg_to_text(svg: str) -> str:
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for x, y, span in _SPAN.findall(svg):
        rows[float(y)].append((float(x), html.unescape(span)))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, span in sorted(rows[y]):
            column = round(x / _CELL_WIDTH)
            line = line.ljust(column)[:column] + span
        lines.append(line.rstrip())
    return "\n".join(lines)


async def capture(run: Path, size: tuple[int, int], seconds: float) -> str:
    from gantui.app.app import GanApp

    app = GanApp([run.parent], watch=run, graphics="ascii", probe_host=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(seconds)
        return svg_to_text(app.export_screenshot())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--size", default="120x40", help="columns x rows (default 120x40)")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the dashboard polls first")
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    print(asyncio.run(capture(args.run, (columns, rows), args.seconds)))


if __name__ == "__main__":
    main()
