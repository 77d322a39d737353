"""Following a run directory: what the dashboard knows about a run, refreshed by polling its files.

`RunFollower.poll()` runs off the UI thread. It reads only what changed (MetricsTail / EventsTail read
appended bytes; status.json is small; samples/ is listed only when its mtime moves) and returns an
immutable `RunPoll` that the UI can keep while the follower goes on, or None when nothing changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gantui.app.history import DEFAULT_CAPACITY, MetricsFrame, MetricsHistory
from gantui.app.hostinfo import HostProbe, HostReading
from gantui.engine.reader import EventsTail, MetricsTail, effective_state, read_json, sample_steps

MAX_EVENTS = 200  # the events pane shows the latest; older ones stay in events.jsonl
MAX_EVALS = 500  # the quality pane's FID trend keeps the latest evaluations; older ones stay in eval.csv


class FailureSource(Protocol):
    def failure(self) -> str | None: ...


@dataclass(frozen=True)
class RunSnapshot:
    """A run folder at one moment, as the dashboard and compare read it: config, status and the state they give."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    state: str = "starting"

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class RunPoll(RunSnapshot):
    """Everything the dashboard shows about one run at one moment."""

    metrics: MetricsFrame = field(default_factory=MetricsFrame)
    events: tuple[dict[str, Any], ...] = ()
    evals: tuple[dict[str, float], ...] = ()  # eval.csv rows (step, fid, coverage, …), oldest first
    sample_steps: tuple[int, ...] = ()
    samples_stamp: float = 0.0  # changes whenever the latest snapshot changes
    host: HostReading | None = None
    failure: str | None = None  # a failure the run folder cannot tell (the child died before writing it)

    @property
    def step(self) -> int:
        latest = self.metrics.latest.get("step")
        status_step = int(self.status.get("step", 0) or 0)
        return max(status_step, int(latest) if latest is not None and math.isfinite(latest) else 0)

    @property
    def total_steps(self) -> int:
        return int(self.status.get("total_steps", 0) or 0)

    @property
    def is_live(self) -> bool:
        return self.state in ("running", "paused", "starting")


class RunFollower:
    """Polls one run folder; keeps a bounded metric history and the latest events."""

    def __init__(self, path: Path, handle: FailureSource | None = None,
                 capacity: int = DEFAULT_CAPACITY, probe_host: bool = True) -> None:
        self.path = Path(path)
        self.handle = handle
        self.history = MetricsHistory(capacity)
        self.metrics_tail = MetricsTail(self.path / "metrics.csv")
        self.events_tail = EventsTail(self.path / "events.jsonl")
        self.eval_tail = MetricsTail(self.path / "eval.csv")
        self.probe = HostProbe() if probe_host else None
        self._last: RunPoll | None = None
        self._config: dict[str, Any] = {}
        self._events: tuple[dict[str, Any], ...] = ()
        self._evals: tuple[dict[str, float], ...] = ()
        self._samples_mtime = -1.0
        self._sample_steps: tuple[int, ...] = ()
        self._samples_stamp = 0.0

    def poll(self) -> RunPoll | None:
        """The run now, or None when nothing the dashboard shows has changed since the last poll."""
        if not self._config:
            self._config = read_json(self.path / "config.json")
        status = read_json(self.path / "status.json") or (self._last.status if self._last else {})
        columns = self.metrics_tail.poll()
        if self.metrics_tail.reset:  # a resume rewrote metrics.csv: start the plots again
            self.history.clear()
        self.history.extend(columns)
        new_events = self.events_tail.poll()
        if new_events:
            self._events = (self._events + tuple(new_events))[-MAX_EVENTS:]
        self._refresh_evals()
        self._refresh_samples()
        failure = self.handle.failure() if self.handle is not None else None
        state = effective_state(status) if status else ("failed" if failure else "starting")
        if failure and state in ("running", "paused", "starting", "lost"):
            state = "failed"
        host = self.probe.read(status) if self.probe is not None and state in ("running", "paused") else None
        previous = self._last
        poll = RunPoll(
            path=self.path, config=self._config, status=status, state=state,
            metrics=self.history.frame() if previous is None or columns or self.metrics_tail.reset
            else previous.metrics,
            events=self._events, evals=self._evals, sample_steps=self._sample_steps,
            samples_stamp=self._samples_stamp,
            host=host, failure=failure,
        )
        self._last = poll
        if previous is not None and _same(previous, poll):
            return None
        return poll

    def _refresh_evals(self) -> None:
        """New eval.csv rows only (a second MetricsTail); a resume that rewrote the file starts over."""
        columns = self.eval_tail.poll()
        if self.eval_tail.reset:
            self._evals = ()
        if not columns:
            return
        names = list(columns)
        rows = tuple({name: float(columns[name][index]) for name in names}
                     for index in range(len(columns[names[0]])))
        self._evals = (self._evals + rows)[-MAX_EVALS:]

    def _refresh_samples(self) -> None:
        folder = self.path / "samples"
        try:
            mtime = folder.stat().st_mtime
        except OSError:
            return
        latest = _latest_mtime(folder)
        if mtime != self._samples_mtime:
            self._samples_mtime = mtime
            self._sample_steps = tuple(sample_steps(self.path))
        self._samples_stamp = max(mtime, latest)

    def close(self) -> None:
        if self.probe is not None:
            self.probe.close()


def _latest_mtime(folder: Path) -> float:
    for name in ("latest.png", "latest.json"):
        try:
            return (folder / name).stat().st_mtime
        except OSError:
            continue
    return 0.0


def _same(a: RunPoll, b: RunPoll) -> bool:
    return (a.status == b.status and a.state == b.state and a.metrics.version == b.metrics.version
            and a.events is b.events and a.evals is b.evals and a.sample_steps == b.sample_steps
            and a.samples_stamp == b.samples_stamp and a.host == b.host and a.failure == b.failure
            and a.config == b.config)
