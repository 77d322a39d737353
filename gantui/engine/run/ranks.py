"""The ranks of a run of several processes: ranks.csv followed into the latest row of each rank.

ranks.csv (SPEC section 3) is append-only, one row per rank per log interval:
`step,rank,host,device,samples_per_s,mem_allocated,mem_peak,rss,time` (memory in bytes, empty where not
applicable; time: unix seconds of that rank's measurement). Its host and device are text, so it has a tail
of its own rather than MetricsTail's floats; like it, a torn last line waits for the next poll and a file
that shrank is read again from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from gantui.engine.run.tails import CsvLines

MAX_RANKS = 4096  # ranks kept (the latest row of each): a bound on what a corrupt file can make us hold


@dataclass(frozen=True)
class RankRow:
    """One rank's latest measurement."""

    rank: int
    step: int
    host: str
    device: str
    samples_per_s: float | None
    mem_allocated: float | None
    mem_peak: float | None
    rss: float | None
    time: float | None

    @property
    def memory(self) -> float | None:
        """The figure that says how much the rank holds: CUDA memory allocated, else the process' RSS."""
        return self.mem_allocated if self.mem_allocated is not None else self.rss


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_rank_row(cells: dict[str, str]) -> RankRow | None:
    """A RankRow from one row's cells by column name; None when its rank or step is not a number."""
    rank, step = _number(cells.get("rank", "")), _number(cells.get("step", ""))
    if rank is None or step is None or rank < 0:
        return None
    return RankRow(rank=int(rank), step=int(step), host=cells.get("host", ""), device=cells.get("device", ""),
                   samples_per_s=_number(cells.get("samples_per_s", "")),
                   mem_allocated=_number(cells.get("mem_allocated", "")),
                   mem_peak=_number(cells.get("mem_peak", "")), rss=_number(cells.get("rss", "")),
                   time=_number(cells.get("time", "")))


class RanksTail(CsvLines):
    """Follows a growing ranks.csv; `poll()` returns the new complete rows, `reset` says the file restarted."""

    def poll(self) -> list[RankRow]:
        rows = []
        for line in self.read_rows().decode("utf-8", errors="replace").splitlines():
            cells = line.split(",")
            if len(cells) != len(self.columns):
                continue
            row = parse_rank_row(dict(zip(self.columns, (cell.strip() for cell in cells), strict=True)))
            if row is not None:
                rows.append(row)
        return rows


class LatestRanks:
    """The latest row of each rank (a bounded dict), handed out as a tuple sorted by rank."""

    def __init__(self, path: Path) -> None:
        self.tail = RanksTail(path)
        self.latest: dict[int, RankRow] = {}
        self.rows: tuple[RankRow, ...] = ()

    def poll(self) -> bool:
        """Read the new rows; True when some rank's latest row changed."""
        rows = self.tail.poll()
        changed = self.tail.reset and bool(self.latest)
        if self.tail.reset:
            self.latest = {}
        for row in rows:
            if row.rank not in self.latest and len(self.latest) >= MAX_RANKS:
                continue
            self.latest[row.rank] = row
            changed = True
        if changed:
            self.rows = tuple(self.latest[rank] for rank in sorted(self.latest))
        return changed


def slowest(rows: tuple[RankRow, ...]) -> RankRow | None:
    """The rank with the fewest samples per second (the straggler); None when fewer than two are measured or
    all go equally fast."""
    measured = [row for row in rows if row.samples_per_s is not None]
    if len(measured) < 2:
        return None
    slow = min(measured, key=lambda row: (row.samples_per_s, row.rank))
    return slow if slow.samples_per_s < max(row.samples_per_s for row in measured) else None
