"""The runs list's rows: one immutable summary per run folder, and how to filter and sort them.

`RunScanner.scan()` runs off the UI thread. It lists every runs folder and polls one engine `RunFollower`
per run: status.json (small) each time, config.json when it changed, and only the rows eval.csv gained, for
the best quality score.
"""

from __future__ import annotations

import contextlib
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gantui.app.format import world_mark
from gantui.engine.places import RunPlace, open_places
from gantui.engine.run.follower import FollowedRun, RunFollower
from gantui.engine.run.history import AllRows
from gantui.engine.run.reader import newest_first
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
    host: str = ""  # the remote host the run is on ("" for this machine)

    @classmethod
    def of(cls, run: FollowedRun, host: str = "") -> RunRow:
        status, config = run.status, run.config
        return cls(
            path=run.path, name=run.name, state=run.state, dataset=run.dataset, arch=run.arch,
            loss=str(config.get("loss", "?")), step=run.step, total_steps=run.total_steps,
            loss_d=_number(status.get("loss_d")), loss_g=_number(status.get("loss_g")),
            **_best(run.evals), samples_per_s=_number(status.get("samples_per_s")),
            device=str(status.get("device") or config.get("device") or "?"), started=run.started,
            has_checkpoint=run.layout.last_checkpoint.is_file(), has_config=bool(config),
            world_size=run.world_size, host=host,
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
        return " ".join((self.name, self.state, self.dataset, self.arch, self.loss, self.where, self.host)).lower()


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


DEVICES_EVERY_S = 5.0  # a remote host's device line is asked for this often
FIRST_ANSWER_S = 2.0  # how long the first scan waits for a remote place before listing the others


class RunScanner:
    """Lists runs of every place, following each one's folder from one scan to the next.

    A remote place's `run_folders()` brings its whole mirror up to date in one request, so its runs are then
    followed like local ones; `places` says, per remote place, its host's devices or why it cannot be read."""

    def __init__(self, runs_dirs: list[Path | str | RunPlace]) -> None:
        self.places = open_places(list(runs_dirs))
        self._followers: dict[Path, RunFollower[FollowedRun]] = {}
        self._hosts: dict[Path, str] = {}
        self._devices: dict[str, tuple[float, str | None]] = {}
        self._remote = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gantui-remote-scan")
        self._pending: dict[str, Future] = {}
        self._listed: dict[str, tuple[list[Path], str]] = {}
        self.lines: tuple[str, ...] = ()

    def scan(self) -> tuple[RunRow, ...]:
        known, self._followers = self._followers, {}
        lines = []
        for place in self.places:
            if place.host is None:
                folders = place.run_folders()
            else:
                folders, line = self._remote_scan(place)
                lines.append(line)
            for path in folders:  # the follower of a run deleted meanwhile goes
                self._hosts[path] = place.host or ""
                self._followers[path] = known.get(path) or RunFollower(path, evals=AllRows(),
                                                                       no_status=RunState.UNKNOWN)
        self.lines = tuple(lines)
        runs = newest_first(follower.poll() for follower in self._followers.values())
        return tuple(RunRow.of(run, self._hosts.get(run.path, "")) for run in runs)

    def _remote_scan(self, place: RunPlace) -> tuple[list[Path], str]:
        """A remote place's folders and line as of its last answer; its next scan runs in a thread meanwhile, so
        a slow or unreachable host never holds up the other places."""
        pending = self._pending.get(place.label)
        if pending is None or pending.done():
            if pending is not None:
                self._listed[place.label] = pending.result()
            pending = self._pending[place.label] = self._remote.submit(self._ask_place, place)
        if place.label not in self._listed:  # the first answer: worth a short wait
            with contextlib.suppress(FutureTimeout):
                self._listed[place.label] = pending.result(FIRST_ANSWER_S)
                del self._pending[place.label]
        return self._listed.get(place.label, ([], f"{place}: connecting…"))

    def _ask_place(self, place: RunPlace) -> tuple[list[Path], str]:
        try:
            folders = place.run_folders()
        except Exception as error:  # anything a host says: one line, the other places go on
            return [], f"{place}: {error}"
        return folders, f"{place}: {place.problem}" if place.problem else self._device_line(place)

    def close(self) -> None:
        self._remote.shutdown(wait=False, cancel_futures=True)

    def _device_line(self, place: RunPlace) -> str:
        asked, summary = self._devices.get(place.label, (0.0, None))
        if time.monotonic() - asked > DEVICES_EVERY_S:
            summary = place.devices()
            self._devices[place.label] = (time.monotonic(), summary)
        return f"{place}: {summary or place.problem or 'no device figures'}"


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
