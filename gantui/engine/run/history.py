"""Histories of a run's rows, as a follower keeps them: bounded for the plots, or whole.

Each takes the columns a tail read (`extend`), starts over when the file was rewritten (`clear`), counts its
changes (`version`) and hands out immutable `frame()`s:
- `MetricsHistory`: bounded numpy columns with EMA smoothing, old rows thinned out (the dashboard's plots).
  A frame is the first `count` rows of arrays that are written only beyond `count` afterwards (growing or
  compacting allocates new arrays), so a frame stays valid without locks or copies while the writer goes on.
- `AllRows`: every row as whole columns (compare).
- `LatestRows`: the last rows as dicts (the dashboard's evaluations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

SERIES = ("loss_d", "loss_g", "d_real", "d_fake")
CONTEXT = ("epoch", "time")  # kept beside the series, unsmoothed, for the plots' inspect cursor
EMA_FACTORS = (0.9, 0.99)
DEFAULT_CAPACITY = 1 << 20  # rows kept per column; older rows thin out by half when it fills
_INITIAL_ROWS = 4096
_EMA_CHUNK = 64  # chunk length of the vectorised EMA: a factor**-64 stays well inside float64


@dataclass(frozen=True)
class MetricsFrame:
    """An immutable view of the history: `count` rows of steps, series and their EMAs, plus the last row."""

    steps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    values: dict[str, np.ndarray] = field(default_factory=dict)
    smoothed: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)
    count: int = 0
    latest: dict[str, float] = field(default_factory=dict)  # every metrics.csv column of the last row
    version: int = 0
    rate: float | None = None  # steps per second of training over the last rows

    def step_column(self) -> np.ndarray:
        return self.steps[: self.count]

    def series(self, name: str, ema: float | None = None) -> np.ndarray:
        source = self.values if ema is None else self.smoothed
        key = name if ema is None else (name, ema)
        array = source.get(key)  # type: ignore[call-overload]
        return np.zeros(0) if array is None else array[: self.count]


def ema(values: np.ndarray, factor: float, previous: float = math.nan) -> np.ndarray:
    """Exponential moving average e_i = f·e_(i-1) + (1-f)·x_i, starting from `previous` (or x_0).

    Vectorised per chunk: e_i = f^(i+1)·e_(-1) + (1-f)·f^i·Σ_(j≤i) f^(-j)·x_j. NaNs carry the last value.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    if values.size == 0:
        return out
    filled = _forward_fill(values, previous)
    powers = factor ** np.arange(_EMA_CHUNK, dtype=np.float64)
    for start in range(0, filled.size, _EMA_CHUNK):
        chunk = filled[start:start + _EMA_CHUNK]
        p = powers[: chunk.size]
        if math.isnan(previous):
            previous = chunk[0]
        out[start:start + chunk.size] = factor * p * previous + (1 - factor) * p * np.cumsum(chunk / p)
        previous = out[start + chunk.size - 1]
    return out


def _forward_fill(values: np.ndarray, first: float) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    index = np.where(missing, 0, np.arange(values.size))
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    if missing[0]:  # leading NaNs: the value before this batch, else the first real value
        real = np.flatnonzero(~missing)
        lead = first if not math.isnan(first) else (values[real[0]] if real.size else 0.0)
        filled[: real[0] if real.size else values.size] = lead
    return filled


class MetricsHistory:
    """Appends metrics rows (columns of arrays from MetricsTail) into bounded, growable arrays."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(capacity, 16)
        self.clear()

    def clear(self) -> None:
        self._rows = min(_INITIAL_ROWS, self.capacity)
        self._steps = np.zeros(self._rows)
        self._values = {name: np.zeros(self._rows, dtype=np.float32) for name in SERIES}
        self._values.update({name: np.zeros(self._rows) for name in CONTEXT})  # float64: seconds stay exact
        self._smoothed = {(name, f): np.zeros(self._rows, dtype=np.float32) for name in SERIES
                          for f in EMA_FACTORS}
        self._last_ema = {key: math.nan for key in self._smoothed}
        self._times: list[tuple[float, float]] = []  # (step, time) of the last rows, for the rate
        self.count = 0
        self.latest: dict[str, float] = {}
        self.version = getattr(self, "version", 0) + 1  # never repeats, even across a clear()

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        if not columns or "step" not in columns:
            return
        steps = np.asarray(columns["step"], dtype=np.float64)
        added = steps.size
        if added == 0:
            return
        nan = np.full(added, np.nan)
        new_values = {name: np.asarray(columns.get(name, nan), dtype=np.float64) for name in SERIES + CONTEXT}
        new_smoothed = {}
        for (name, factor), previous in self._last_ema.items():
            smoothed = ema(new_values[name], factor, previous)
            new_smoothed[(name, factor)] = smoothed
            self._last_ema[(name, factor)] = smoothed[-1]
        if added > self.capacity:  # a huge first read: keep every k-th new row
            stride = math.ceil(added / self.capacity)
            steps = steps[::stride]
            new_values = {k: v[::stride] for k, v in new_values.items()}
            new_smoothed = {k: v[::stride] for k, v in new_smoothed.items()}
            added = steps.size
        if self.count + added > self._rows:
            self._make_room(added)
        end = self.count + added
        self._steps[self.count:end] = steps
        for name, array in new_values.items():
            self._values[name][self.count:end] = array
        for key, array in new_smoothed.items():
            self._smoothed[key][self.count:end] = array
        self.count = end
        last = {name: float(array[-1]) for name, array in columns.items() if np.asarray(array).size}
        self.latest = last
        if "time" in last and math.isfinite(last["time"]):
            self._times = (self._times + [(last["step"], last["time"])])[-20:]
        self.version += 1

    def _make_room(self, added: int) -> None:
        """Grow into new arrays (doubling up to the capacity), thinning old rows by half once it is full."""
        rows = self._rows
        while rows < self.count + added and rows < self.capacity:
            rows = min(rows * 2, self.capacity)
        stride = 1
        while -(-self.count // stride) + added > rows:  # full: every other old row, twice as coarse
            stride *= 2
        keep = slice(0, self.count, stride)
        self._rows = rows
        self._steps = _moved(self._steps[keep], rows)
        self._values = {k: _moved(v[keep], rows) for k, v in self._values.items()}
        self._smoothed = {k: _moved(v[keep], rows) for k, v in self._smoothed.items()}
        self.count = -(-self.count // stride)

    def rate(self) -> float | None:
        """Training steps per second over the last few log intervals."""
        if len(self._times) < 2:
            return None
        (step0, time0), (step1, time1) = self._times[0], self._times[-1]
        return (step1 - step0) / (time1 - time0) if time1 > time0 else None

    def frame(self) -> MetricsFrame:
        return MetricsFrame(self._steps, dict(self._values), dict(self._smoothed), self.count,
                            dict(self.latest), self.version, self.rate())


def _moved(array: np.ndarray, rows: int) -> np.ndarray:
    fresh = np.zeros(rows, dtype=array.dtype)
    fresh[: array.size] = array
    return fresh


class History(Protocol):
    version: int

    def extend(self, columns: dict[str, np.ndarray]) -> None: ...

    def clear(self) -> None: ...

    def frame(self) -> Any: ...


class AllRows:
    """Every row, as whole columns: frames are dicts of arrays from the first row on."""

    def __init__(self) -> None:
        self.columns: dict[str, np.ndarray] = {}
        self.version = 0

    def clear(self) -> None:
        self.columns = {}
        self.version += 1

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        if not columns:
            return
        self.columns = {name: np.concatenate((self.columns[name], values)) if name in self.columns else values
                        for name, values in columns.items()}
        self.version += 1

    def frame(self) -> dict[str, np.ndarray]:
        return dict(self.columns)


class LatestRows:
    """The last `limit` rows, each a {column: value} dict, oldest first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: tuple[dict[str, float], ...] = ()
        self.version = 0

    def clear(self) -> None:
        self.rows = ()
        self.version += 1

    def extend(self, columns: dict[str, np.ndarray]) -> None:
        if not columns:
            return
        names = list(columns)
        rows = tuple({name: float(columns[name][index]) for name in names}
                     for index in range(len(columns[names[0]])))
        self.rows = (self.rows + rows)[-self.limit:]
        self.version += 1

    def frame(self) -> tuple[dict[str, float], ...]:
        return self.rows


# ---- what the plots draw ----------------------------------------------------------------------------------
def window(steps: np.ndarray, last_steps: int | None) -> slice:
    """The rows of the last `last_steps` steps (all rows when None)."""
    if last_steps is None or steps.size == 0:
        return slice(0, steps.size)
    start = int(np.searchsorted(steps, steps[-1] - last_steps, side="left"))
    return slice(start, steps.size)
