"""What compare knows about its runs: every metrics column, quality rows, config, status and sample steps.

`CompareReader.poll()` runs off the UI thread. The first read of each run's metrics.csv is the expensive
one (MetricsTail parses it in bulk); later polls read only appended rows. It returns a tuple of immutable
`CompareRun`s, or None when nothing changed.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gantui.app.follow import RunSnapshot
from gantui.engine.reader import MetricsTail, effective_state, load_eval, read_json, sample_steps

READ_THREADS = 4  # first reads in parallel: pandas' parser lets go of the GIL while it tokenises


@dataclass(frozen=True)
class CompareRun(RunSnapshot):
    """One compared run at one moment."""

    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # every metrics.csv column, whole run
    quality: dict[str, np.ndarray] = field(default_factory=dict)  # every eval.csv column
    sample_steps: tuple[int, ...] = ()
    version: int = 0

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, wall time, values) of a metrics or quality column; empty arrays when it has none."""
        source = self.metrics if name in self.metrics else self.quality
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


class _RunReader:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.tail = MetricsTail(self.path / "metrics.csv")
        self.metrics: dict[str, np.ndarray] = {}
        self.quality: dict[str, np.ndarray] = {}
        self.config: dict[str, Any] = {}
        self.eval_mtime = -1.0
        self.samples_mtime = -1.0
        self.steps: tuple[int, ...] = ()
        self.version = 0
        self.last: CompareRun | None = None

    def poll(self) -> CompareRun:
        changed = False
        if not self.config:
            self.config = read_json(self.path / "config.json")
        status = read_json(self.path / "status.json") or (self.last.status if self.last else {})
        columns = self.tail.poll()
        if self.tail.reset:
            self.metrics, changed = {}, True
        if columns:
            self.metrics = {name: np.concatenate((self.metrics[name], values)) if name in self.metrics
                            else values for name, values in columns.items()}
            changed = True
        eval_mtime = _mtime(self.path / "eval.csv")
        if eval_mtime != self.eval_mtime:
            self.eval_mtime = eval_mtime
            frame = load_eval(self.path / "eval.csv")
            self.quality = {str(name): frame[name].to_numpy(dtype=np.float64) for name in frame.columns}
            changed = True
        samples_mtime = max(_mtime(self.path / "samples"), _mtime(self.path / "samples" / "latest.png"),
                            _mtime(self.path / "samples" / "latest.json"))
        if samples_mtime != self.samples_mtime:
            self.samples_mtime = samples_mtime
            self.steps = tuple(sample_steps(self.path))
            changed = True
        state = effective_state(status) if status else "starting"
        if self.last is not None and not changed and status == self.last.status and state == self.last.state:
            return self.last
        self.version += 1
        self.last = CompareRun(self.path, self.config, status, state, dict(self.metrics), dict(self.quality),
                               self.steps, self.version)
        return self.last


class CompareReader:
    """Polls every compared run."""

    def __init__(self, paths: list[Path]) -> None:
        self.readers = [_RunReader(path) for path in paths]
        self._last: tuple[CompareRun, ...] | None = None
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
        runs = tuple(reader.poll() for reader in self.readers)
        if all(a is b for a, b in zip(runs, self._last, strict=True)):
            return None
        self._last = runs
        return runs

    def _first_poll(self) -> tuple[CompareRun, ...]:
        if len(self.readers) > 1:
            with ThreadPoolExecutor(min(READ_THREADS, len(self.readers))) as pool:
                return tuple(pool.map(_RunReader.poll, self.readers))
        return tuple(reader.poll() for reader in self.readers)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
