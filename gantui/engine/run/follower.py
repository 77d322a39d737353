"""Following one run folder: its config and status, and what its files gained since the last poll.

`RunFollower.poll()` reads only what changed: metrics.csv, eval.csv, events.jsonl and (runs of several
processes) ranks.csv by their appended bytes (tails), status.json (small) every time, config.json when its
mtime moves, and samples/ is listed only when it or the latest snapshot moves. Rows go into a history,
bounded (`MetricsHistory`) or whole (`AllRows`); eval.csv's embedding numbers of an older embedding version than
the run's latest are left out (`tails.one_embedding`). Each poll returns an immutable `FollowedRun` that a caller
can keep while the follower goes on: the very same object again when nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from gantui.engine.run.history import History
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.ranks import LatestRanks, RankRow
from gantui.engine.run.reader import RunSnapshot, mtime, read_json
from gantui.engine.run.state import RunState, folder_state
from gantui.engine.run.tails import EventsTail, MetricsTail, embedding_version, one_embedding


@dataclass(frozen=True)
class FollowedRun(RunSnapshot):
    """A run as its follower last read it."""

    metrics: Any = None  # the frame of the metrics.csv history (None: not followed)
    evals: Any = None  # the frame of the eval.csv history (None: not followed)
    events: tuple[dict[str, Any], ...] = ()  # the latest events.jsonl records, oldest first
    sample_steps: tuple[int, ...] = ()
    samples_stamp: float = 0.0  # changes whenever the latest snapshot changes
    ranks: tuple[RankRow, ...] = ()  # the latest ranks.csv row of each rank, by rank (runs of several processes)
    version: int = 0  # one more with every new FollowedRun from the same follower


Followed = TypeVar("Followed", bound=FollowedRun)


class _FollowedCsv:
    """One append-only CSV and the history its rows go into; `frame` is the history's, made once per change."""

    def __init__(self, path: Path, history: History | None) -> None:
        self.tail = MetricsTail(path)
        self.history = history
        self.frame = history.frame() if history is not None else None

    def poll(self) -> bool:
        """Read the new rows; True when the history changed."""
        history = self.history
        if history is None:
            return False
        version = history.version
        history.extend(self.new_rows())
        if history.version == version:
            return False
        self.frame = history.frame()
        return True

    def new_rows(self) -> dict[str, np.ndarray]:
        columns = self.tail.poll()
        if self.tail.reset:  # a resume rewrote the file: start again
            self.history.clear()
        return columns


class _FollowedEvals(_FollowedCsv):
    """eval.csv, its embedding cells under `one_embedding`'s rule: only the run's latest embedding version counts.
    When a row of a newer version comes (a run resumed after an upgrade), the file is read again from the
    start, so the rows already in the history lose their older numbers too."""

    def __init__(self, path: Path, history: History | None) -> None:
        super().__init__(path, history)
        self.version: float | None = None  # the latest embedding version read (None: no row measured in one)

    def new_rows(self) -> dict[str, np.ndarray]:
        columns = super().new_rows()
        if self.tail.reset:
            self.version = None
        latest = embedding_version(columns)
        if latest is None:
            return columns
        if self.version is not None and latest != self.version:
            self.history.clear()
            self.tail.rewind()
            columns = self.tail.poll()
        self.version = latest
        return one_embedding(columns, latest)


class RunFollower(Generic[Followed]):
    """Polls one run folder (which may not exist yet) into `record`s, following only what it is asked to.

    `metrics` / `evals`: the histories of metrics.csv / eval.csv (None: that file is not read); `events`: how
    many of the latest events to keep (0: events.jsonl is not read); `samples`: list the sample steps;
    `ranks`: follow ranks.csv (only once config.json says the run has several processes);
    `no_status`: the state while there is no status.json.
    """

    def __init__(self, path: Path, *, metrics: History | None = None, evals: History | None = None,
                 events: int = 0, samples: bool = False, ranks: bool = False,
                 record: type[Followed] = FollowedRun,  # type: ignore[assignment]
                 no_status: RunState = RunState.STARTING) -> None:
        self.layout = RunLayout(path)
        self.path = self.layout.path
        self._metrics = _FollowedCsv(self.layout.metrics, metrics)
        self._evals = _FollowedEvals(self.layout.evals, evals)
        self.events_tail = EventsTail(self.layout.events)
        self._ranks = LatestRanks(self.layout.ranks) if ranks else None
        self.max_events, self.samples, self.record, self.no_status = events, samples, record, no_status
        self._config: dict[str, Any] = {}
        self._config_stamp = 0.0
        self._status: dict[str, Any] = {}
        self._events: tuple[dict[str, Any], ...] = ()
        self._samples_stamp = 0.0
        self._sample_steps: tuple[int, ...] = ()
        self._last: Followed | None = None

    @property
    def metrics_tail(self) -> MetricsTail:
        return self._metrics.tail

    @property
    def eval_tail(self) -> MetricsTail:
        return self._evals.tail

    def poll(self) -> Followed:
        """The run now; the previous poll's very object when nothing changed."""
        changed = self._read_config()
        status = read_json(self.layout.status) or self._status  # caught mid-replace: keep what we had
        changed |= status != self._status
        self._status = status
        changed |= self._metrics.poll()
        changed |= self._evals.poll()
        if self.max_events:
            changed |= self._read_events()
        if self.samples:
            changed |= self._list_samples()
        if self._ranks is not None and (_world_size(self._config, status) > 1 or self._ranks.rows):
            changed |= self._ranks.poll()
        state = folder_state(status, 0.0 if status else self.layout.age(), self.no_status)
        last = self._last
        if last is not None and not changed and state == last.state:
            return last
        self._last = self.record(
            self.path, self._config, status, state, metrics=self._metrics.frame, evals=self._evals.frame,
            events=self._events, sample_steps=self._sample_steps, samples_stamp=self._samples_stamp,
            ranks=self._ranks.rows if self._ranks is not None else (),
            version=last.version + 1 if last is not None else 1,
        )
        return self._last

    def _read_config(self) -> bool:
        stamp = mtime(self.layout.config)
        if not stamp or stamp == self._config_stamp:
            return False
        config = read_json(self.layout.config)
        if not config:  # caught mid-write: read it again next time
            return False
        changed = config != self._config
        self._config, self._config_stamp = config, stamp
        return changed

    def _read_events(self) -> bool:
        new_events = self.events_tail.poll()
        if not new_events:
            return False
        self._events = (self._events + tuple(new_events))[-self.max_events:]
        return True

    def _list_samples(self) -> bool:
        layout = self.layout
        stamp = max(mtime(layout.samples), mtime(layout.latest_png), mtime(layout.latest_json))
        if stamp == self._samples_stamp:
            return False
        self._samples_stamp = stamp
        self._sample_steps = tuple(layout.sample_steps())
        return True


def _world_size(config: dict[str, Any], status: dict[str, Any]) -> int:
    return RunSnapshot(Path(), config, status).world_size
