"""What compare knows about its runs: every metrics column, quality rows, config, status and sample steps.

`CompareReader.poll()` runs off the UI thread, one engine `RunFollower` a run keeping whole histories. The
first read of each run's metrics.csv is the expensive one (MetricsTail parses it in bulk), so the first poll
reads the runs in parallel; later polls read only appended rows. It returns a tuple of immutable
`CompareRun`s, or None when nothing changed.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gantui.engine.places import Follower, place_of
from gantui.engine.run.follower import FollowedRun
from gantui.engine.run.history import AllRows

READ_THREADS = 4  # first reads in parallel: pandas' parser lets go of the GIL while it tokenises


@dataclass(frozen=True)
class CompareRun(FollowedRun):
    """One compared run at one moment."""

    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # every metrics.csv column, whole run
    evals: dict[str, np.ndarray] = field(default_factory=dict)  # every eval.csv column

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, wall time, values) of a metrics or quality column; empty arrays when it has none."""
        source = self.metrics if name in self.metrics else self.evals
        values = source.get(name)
        if values is None or "step" not in source:
            empty = np.zeros(0)
            return empty, empty, empty
        times = source.get("time", np.full(values.size, np.nan))
        return source["step"], times, values

    def last(self, name: str) -> float | None:
        _, _, values = self.column(name)
        finite = values[np.isfinite(values)] if values.size else values
        return float(finite[-1]) if finite.size else None


class CompareReader:
    """Polls every compared run."""

    def __init__(self, paths: list[Path]) -> None:
        self.followers: list[Follower] = [
            place_of(path).follow(path, metrics=AllRows(), evals=AllRows(), samples=True, record=CompareRun)
            for path in paths]
        self._last: tuple[CompareRun, ...] | None = None
        self._problems: tuple[str | None, ...] = ()
        self._prefetch: threading.Thread | None = None
        self._prefetched: tuple[CompareRun, ...] | None = None

    def prefetch(self) -> CompareReader:
        """Start the (long) first read now, in a thread, while the app is still starting up."""
        def first_read() -> None:
            with contextlib.suppress(Exception):  # poll() tries again and reports it
                self._prefetched = self._first_poll()

        self._prefetch = threading.Thread(target=first_read, name="gantui-compare-prefetch", daemon=True)
        self._prefetch.start()
        return self

    def poll(self) -> tuple[CompareRun, ...] | None:
        if self._prefetch is not None:
            self._prefetch.join()
            self._prefetch = None
            if self._prefetched is not None:
                self._last, self._prefetched = self._prefetched, None
                return self._last
        if self._last is None:
            self._last = self._first_poll()
            return self._last
        runs = tuple(follower.poll() for follower in self.followers)
        if all(a is b for a, b in zip(runs, self._last, strict=True)) and self.problems() == self._problems:
            return None
        self._last, self._problems = runs, self.problems()
        return runs

    def problems(self) -> tuple[str | None, ...]:
        """Per run: why its (remote) place does not answer now, else None."""
        return tuple(follower.problem for follower in self.followers)

    def _first_poll(self) -> tuple[CompareRun, ...]:
        if len(self.followers) > 1:
            with ThreadPoolExecutor(min(READ_THREADS, len(self.followers))) as pool:
                return tuple(pool.map(lambda follower: follower.poll(), self.followers))
        return tuple(follower.poll() for follower in self.followers)
