"""The runs list's rows: one immutable summary per run folder, and how to filter and sort them.

`RunScanner.scan()` runs off the UI thread. It lists every runs folder and polls one engine `RunFollower`
per run: status.json (small) each time, config.json when it changed, and only the rows eval.csv gained, for
the best quality score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gantui.app.format import world_mark
from gantui.engine.run.follower import FollowedRun, RunFollower
from gantui.engine.run.history import AllRows
from gantui.engine.run.reader import newest_first, run_folders
from gantui.engine.run.state import LIVE_STATES, RunState

COLUMNS: tuple[tuple[str, str], ...] = (  # (sort key, heading); the name first, where no width cuts it
    ("name", "run"), ("state", "state"), ("started", "age"), ("dataset", "dataset"), ("arch", "arch"), ("loss", "loss"),
    ("step", "step"), ("loss_d", "loss D"), ("loss_g", "loss G"), ("best", "best"),
    ("samples_per_s", "samples/s"), ("device", "device"),
)


@dataclass(frozen=True)
class RunRow:
    """What the runs list shows of one run."""

    path: Path
    name: str
    state: RunState
    dataset: str
    arch: str
    loss: str
    step: int
    total_steps: int
    loss_d: float | None
    loss_g: float | None
    best: float | None  # the best (lowest) FID: the classifier's, else the random embedding's; None: no quality metric
    best_label: str  # "FID" or "FID rand"
    samples_per_s: float | None
    device: str
    started: float
    has_checkpoint: bool
    has_config: bool = True  # False: killed before it wrote one, so it can only be deleted
    world_size: int = 1  # processes that train it (torchrun / DDP)

    @classmethod
    def of(cls, run: FollowedRun) -> RunRow:
        status, config = run.status, run.config
        return cls(
            path=run.path, name=run.name, state=run.state, dataset=run.dataset, arch=run.arch,
            loss=str(config.get("loss", "?")), step=run.step, total_steps=run.total_steps,
            loss_d=_number(status.get("loss_d")), loss_g=_number(status.get("loss_g")),
            **_best(run.evals), samples_per_s=_number(status.get("samples_per_s")),
            device=str(status.get("device") or config.get("device") or "?"), started=run.started,
            has_checkpoint=run.layout.last_checkpoint.is_file(), has_config=bool(config),
            world_size=run.world_size,
        )

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def where(self) -> str:
        """The device column: `cuda:0`, or `cuda:0 ×4` for a run of four processes."""
        mark = world_mark(self.world_size)
        return f"{self.device} {mark}" if mark else self.device

    def text(self) -> str:
        """What typing in the filter matches against."""
        return " ".join((self.name, self.state, self.dataset, self.arch, self.loss, self.where)).lower()


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


BEST_COLUMNS = (("fid", "FID"), ("fid_rand", "FID rand"))  # the runs list's "best", in order of preference


def _best(evals: dict[str, np.ndarray]) -> dict[str, object]:
    """RunRow's best and best_label: the first of BEST_COLUMNS the run has measured."""
    for column, label in BEST_COLUMNS:
        lowest = _lowest(evals.get(column))
        if lowest is not None:
            return {"best": lowest, "best_label": label}
    return {"best": None, "best_label": BEST_COLUMNS[0][1]}


def _lowest(values: np.ndarray | None) -> float | None:
    known = values[~np.isnan(values)] if values is not None else None
    return float(known.min()) if known is not None and known.size else None


class RunScanner:
    """Lists runs, following each one's folder from one scan to the next."""

    def __init__(self, runs_dirs: list[Path]) -> None:
        self.runs_dirs = [Path(p) for p in runs_dirs]
        self._followers: dict[Path, RunFollower[FollowedRun]] = {}

    def scan(self) -> tuple[RunRow, ...]:
        known, self._followers = self._followers, {}
        for path in run_folders(self.runs_dirs):  # the follower of a run deleted meanwhile goes
            self._followers[path] = known.get(path) or RunFollower(path, evals=AllRows(), no_status=RunState.UNKNOWN)
        runs = newest_first(follower.poll() for follower in self._followers.values())
        return tuple(RunRow.of(run) for run in runs)


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
