"""The runs list's rows: one immutable summary per run folder, and how to filter and sort them.

`RunScanner.scan()` runs off the UI thread. It lists every runs folder, reads each run's config.json and
status.json (small), and eval.csv only when that file changed, for the best quality score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from gantui.engine.reader import list_runs, load_eval

COLUMNS: tuple[tuple[str, str], ...] = (  # (sort key, heading)
    ("state", "state"), ("started", "age"), ("dataset", "dataset"), ("arch", "arch"), ("loss", "loss"),
    ("step", "step"), ("loss_d", "loss D"), ("loss_g", "loss G"), ("best", "best"),
    ("samples_per_s", "samples/s"), ("device", "device"), ("name", "run"),
)
LIVE_STATES = ("running", "paused")


@dataclass(frozen=True)
class RunRow:
    """What the runs list shows of one run."""

    path: Path
    name: str
    state: str
    dataset: str
    arch: str
    loss: str
    step: int
    total_steps: int
    loss_d: float | None
    loss_g: float | None
    best: float | None  # the best (lowest) FID, or None when the run has no quality metric
    best_label: str  # "FID" or "" when unknown
    samples_per_s: float | None
    device: str
    started: float
    has_checkpoint: bool

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    def text(self) -> str:
        """What typing in the filter matches against."""
        return " ".join((self.name, self.state, self.dataset, self.arch, self.loss, self.device)).lower()


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


class RunScanner:
    """Lists runs; remembers each eval.csv's best score until the file changes."""

    def __init__(self, runs_dirs: list[Path]) -> None:
        self.runs_dirs = [Path(p) for p in runs_dirs]
        self._best: dict[Path, tuple[float, float | None]] = {}  # eval.csv → (mtime, best FID)

    def scan(self) -> tuple[RunRow, ...]:
        rows = []
        for run in list_runs(self.runs_dirs):
            status, config = run.status, run.config
            rows.append(RunRow(
                path=run.path, name=run.name, state=run.state, dataset=run.dataset, arch=run.arch,
                loss=str(config.get("loss", "?")), step=run.step, total_steps=run.total_steps,
                loss_d=_number(status.get("loss_d")), loss_g=_number(status.get("loss_g")),
                best=self._best_fid(run.path / "eval.csv"), best_label="FID",
                samples_per_s=_number(status.get("samples_per_s")),
                device=str(status.get("device") or config.get("device") or "?"), started=run.started,
                has_checkpoint=(run.path / "checkpoints" / "last.pt").is_file(),
            ))
        return tuple(rows)

    def _best_fid(self, path: Path) -> float | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = self._best.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        frame = load_eval(path)
        best = None
        if "fid" in frame and frame["fid"].notna().any():
            best = float(frame["fid"].min())
        self._best[path] = (mtime, best)
        return best


def matches(row: RunRow, query: str) -> bool:
    """Every word of the query appears somewhere in the row (case-insensitive)."""
    text = row.text()
    return all(word in text for word in query.lower().split())


def sort_rows(rows: list[RunRow], key: str, descending: bool) -> list[RunRow]:
    """Rows by `key`; unknown values (None) always last."""
    known = [row for row in rows if getattr(row, key) is not None]
    unknown = [row for row in rows if getattr(row, key) is None]
    known.sort(key=lambda row: (getattr(row, key), row.name), reverse=descending)
    return known + unknown
