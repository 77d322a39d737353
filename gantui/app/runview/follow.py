"""What the dashboard knows about a run, refreshed by polling its folder.

`DashboardFollower.poll()` runs off the UI thread. The engine's `RunFollower` reads only what changed, into a
bounded metric history and the latest events and evaluations; this adds what the folder cannot tell (a child
that died before writing it, the host's GPU and CPU figures) and returns an immutable `RunPoll` that the UI
can keep while the follower goes on, or None when nothing changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from gantui.app.runview.hostinfo import HostProbe, HostReading
from gantui.engine.places import place_of
from gantui.engine.run.follower import FollowedRun
from gantui.engine.run.history import DEFAULT_CAPACITY, LatestRows, MetricsFrame, MetricsHistory
from gantui.engine.run.state import LIVE_STATES, RunState

MAX_EVENTS = 200  # the events pane shows the latest; older ones stay in events.jsonl
MAX_EVALS = 500  # the quality pane's FID trend keeps the latest evaluations; older ones stay in eval.csv


class FailureSource(Protocol):
    def failure(self) -> str | None: ...


@dataclass(frozen=True)
class RunPoll(FollowedRun):
    """Everything the dashboard shows about one run at one moment."""

    metrics: MetricsFrame = field(default_factory=MetricsFrame)
    evals: tuple[dict[str, float], ...] = ()  # eval.csv rows (step, fid, coverage, …), oldest first
    host: HostReading | None = None
    failure: str | None = None  # a failure the run folder cannot tell (the child died before writing it)
    connection: str | None = None  # a remote run whose host does not answer: "disconnected — retrying: …"

    @property
    def step(self) -> int:
        latest = self.metrics.latest.get("step")
        return max(super().step, int(latest) if latest is not None and math.isfinite(latest) else 0)


class DashboardFollower:
    """Polls one run folder; keeps a bounded metric history and the latest events and evaluations."""

    def __init__(self, path: Path, handle: FailureSource | None = None,
                 capacity: int = DEFAULT_CAPACITY, probe_host: bool = True) -> None:
        self.run = place_of(path).follow(
            path, metrics=MetricsHistory(capacity), evals=LatestRows(MAX_EVALS), events=MAX_EVENTS, samples=True,
            ranks=True, record=RunPoll)
        self.path = self.run.path
        self.handle = handle
        self.probe = HostProbe() if probe_host else None
        self._read: RunPoll | None = None  # the follower's last poll
        self._last: RunPoll | None = None

    def poll(self) -> RunPoll | None:
        """The run now, or None when nothing the dashboard shows has changed since the last poll."""
        read = self.run.poll()
        failure = self.handle.failure() if self.handle is not None else None
        state = read.state
        if failure and (state in LIVE_STATES or state is RunState.LOST):
            state = RunState.FAILED
        host = self.probe.read(read.status) if self.probe is not None and state in LIVE_STATES else None
        connection = self.run.problem
        last = self._last
        if last is not None and read is self._read and (state, host, failure, connection) == (
                last.state, last.host, last.failure, last.connection):
            return None
        self._read = read
        self._last = replace(read, state=state, host=host, failure=failure, connection=connection)
        return self._last

    def close(self) -> None:
        if self.probe is not None:
            self.probe.close()
