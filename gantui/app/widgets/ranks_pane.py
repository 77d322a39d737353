"""Ranks: each process of a run of several, from its latest ranks.csv row, the slowest one marked.

Shown only for runs of more than one process. A column that does not fit goes (host, then heartbeat, then
memory, then device); past its row limit the pane keeps the first ranks and the slowest and says how many
more there are. The slowest rank's row has the palette's first colour and a `▸` that survives NO_COLOR.
"""

from __future__ import annotations

import time

from textual.content import Content

from gantui.app.format import clock, duration, size
from gantui.app.palette import markup, plot_colours
from gantui.app.runview.follow import RunPoll
from gantui.app.widgets.text_pane import TextPane
from gantui.engine.run.ranks import RankRow, slowest

MAX_ROWS = 8  # ranks listed in the full layout
MAX_ROWS_COMPACT = 3  # and in the compact one
SLOWEST_MARK = "▸"
HEADINGS = ("rank", "host", "device", "samples/s", "memory", "beat")
DROP_ORDER = ("host", "beat", "memory", "device")  # the columns that go first when the pane is narrow


class RanksPane(TextPane):
    """rank · host · device · samples/s · memory · time since its last row, one line per rank."""

    DEFAULT_CSS = """
    RanksPane {
        height: auto;
        min-height: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    TITLE = "Ranks"

    def _lines(self, poll: RunPoll) -> list[Content]:
        rows = poll.ranks
        if not rows:
            return [Content(f"{poll.world_size} processes: waiting for their first rows…")]
        straggler = slowest(rows)
        room = MAX_ROWS_COMPACT if self.screen.has_class("compact") else MAX_ROWS
        shown = list(rows)
        if len(shown) > room:
            shown = shown[: room - 1]
            shown.append(straggler if straggler is not None and straggler not in shown else rows[room - 1])
        table = [HEADINGS] + [_cells(row, _reference(poll)) for row in shown]
        keep = _columns_that_fit(table, max(self.size.width, 20) - 1)
        widths = [max(len(line[index]) for line in table) for index in keep]
        colour = markup(plot_colours(self.app).curve(0))
        lines = []
        for number, cells in enumerate(table):
            row = shown[number - 1] if number else None
            mark = SLOWEST_MARK if row is not None and row is straggler else " "
            text = mark + " ".join(_aligned(cells[index], width, index) for index, width in zip(keep, widths,
                                                                                               strict=True))
            style = "$text-muted" if row is None else (f"bold {colour}" if mark != " " else "")
            lines.append(Content.styled(text.rstrip(), style) if style else Content(text.rstrip()))
        if len(rows) > len(shown):
            lines.append(Content.styled(f" +{len(rows) - len(shown)} more ranks", "$text-muted"))
        self.border_subtitle = f"slowest: rank {straggler.rank}" if straggler is not None else ""
        return lines


def _reference(poll: RunPoll) -> float:
    """The time a heartbeat's age is counted to: now while the run is live, else its own last heartbeat."""
    if poll.is_live:
        return time.time()
    beat = poll.status.get("heartbeat") or poll.status.get("ended")
    return float(beat) if isinstance(beat, (int, float)) else time.time()


def _cells(row: RankRow, reference: float) -> tuple[str, ...]:
    speed = f"{row.samples_per_s:,.0f}" if row.samples_per_s is not None else "–"
    memory = size(row.memory) if row.memory is not None else "–"
    if row.time is None:
        beat = "–"
    elif reference - row.time > 24 * 3600:
        beat = clock(row.time)
    else:
        beat = duration(max(reference - row.time, 0.0))
    return str(row.rank), row.host, row.device, speed, memory, beat


def _columns_that_fit(table: list[tuple[str, ...]], width: int) -> list[int]:
    keep = list(range(len(HEADINGS)))
    for name in (None, *DROP_ORDER):
        if name is not None:
            keep.remove(HEADINGS.index(name))
        if sum(max(len(line[index]) for line in table) for index in keep) + len(keep) - 1 <= width:
            break
    return keep


def _aligned(text: str, width: int, column: int) -> str:
    """Numbers right-aligned, names left-aligned."""
    return text.rjust(width) if HEADINGS[column] in ("rank", "samples/s", "memory", "beat") else text.ljust(width)
