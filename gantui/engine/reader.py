"""Reading runs: the one way every view (CLI, dashboard, runs list, compare) sees a run directory.

Readers never write and tolerate a run that is being written: a torn last line in metrics.csv or
events.jsonl is left for the next read, a status.json caught mid-replace is read again later.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gantui.engine.events import EVAL_COLUMNS, METRIC_COLUMNS

HEARTBEAT_STALE_S = 60.0  # a live state with no heartbeat for this long reads as "lost"
LIVE_STATES = ("running", "paused")
BULK_PARSE_ROWS = 2000  # from this many new rows on, MetricsTail parses with pandas (much faster)


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):
        return False
    return True


def effective_state(status: dict[str, Any], now: float | None = None) -> str:
    """The state to show: a live state whose process is gone or silent becomes `lost`."""
    state = status.get("state", "unknown")
    if state not in LIVE_STATES:
        return state
    now = time.time() if now is None else now
    pid, host = status.get("pid"), status.get("host")
    if isinstance(pid, int) and host == socket.gethostname() and not pid_alive(pid):
        return "lost"
    heartbeat = status.get("heartbeat")
    if not isinstance(heartbeat, (int, float)) or now - heartbeat > HEARTBEAT_STALE_S:
        return "lost"
    return state


@dataclass
class RunInfo:
    """A run directory as listed: its config, its status and what they say together."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return effective_state(self.status)

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset", "?"))

    @property
    def arch(self) -> str:
        return str(self.config.get("arch", "?"))

    @property
    def step(self) -> int:
        return int(self.status.get("step", 0) or 0)

    @property
    def total_steps(self) -> int:
        return int(self.status.get("total_steps", 0) or 0)

    @property
    def started(self) -> float:
        return float(self.status.get("started") or _mtime(self.path / "config.json"))


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file() or (path / "status.json").is_file()


def read_run(path: Path) -> RunInfo:
    path = Path(path)
    return RunInfo(path=path, config=read_json(path / "config.json"), status=read_json(path / "status.json"))


def list_runs(runs_dirs: Iterable[Path]) -> list[RunInfo]:
    """Every run directory directly under each of `runs_dirs`, newest first."""
    runs = []
    for root in runs_dirs:
        root = Path(root)
        if not root.is_dir():
            continue
        for child in root.iterdir():
            if child.is_dir() and not child.name.startswith(".") and is_run_dir(child):
                runs.append(read_run(child))
    return sorted(runs, key=lambda run: (run.started, run.name), reverse=True)


def resolve_run(ref: str, runs_dirs: Iterable[Path]) -> Path | None:
    """A run from a path, a folder name under a runs directory, or a unique prefix/suffix of one."""
    direct = Path(ref).expanduser()
    if direct.is_dir() and is_run_dir(direct):
        return direct
    candidates = [run.path for run in list_runs(runs_dirs)]
    exact = [p for p in candidates if p.name == ref]
    if exact:
        return exact[0]
    partial = [p for p in candidates if ref in p.name]
    return partial[0] if len(partial) == 1 else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# ---- metrics ------------------------------------------------------------------------------------------
def _parse_cell(text: str) -> float:
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return float("nan")


class MetricsTail:
    """Follows a growing metrics.csv, reading only the bytes added since the last poll.

    `poll()` returns the complete new rows as columns of float arrays (empty cells are NaN). A line
    without its newline yet is left for the next poll. A file that shrank (a resume truncated it) is
    read again from the start and `reset` is set so callers can drop what they had.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.columns: list[str] = []
        self.reset = False

    def poll(self) -> dict[str, np.ndarray]:
        self.reset = False
        try:
            size = self.path.stat().st_size
        except OSError:
            return {}
        if size < self.offset:
            self.offset, self.columns, self.reset = 0, [], True
        if size == self.offset:
            return {}
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(size - self.offset)
        end = chunk.rfind(b"\n")
        if end < 0:
            return {}
        self.offset += end + 1
        body = chunk[: end + 1]
        if not self.columns:
            first = body.find(b"\n")
            self.columns = body[:first].decode("utf-8", errors="replace").strip().split(",")
            body = body[first + 1:]
        if body.count(b"\n") >= BULK_PARSE_ROWS:
            return _parse_bulk(body, self.columns)  # a first read of a long run: pandas, not cell by cell
        rows = [line.split(",") for line in body.decode("utf-8", errors="replace").splitlines() if line.strip()]
        width = len(self.columns)
        rows = [row for row in rows if len(row) == width]
        if not rows:
            return {}
        table = np.array([[_parse_cell(cell) for cell in row] for row in rows], dtype=np.float64)
        return {name: table[:, index] for index, name in enumerate(self.columns)}


def _parse_bulk(body: bytes, columns: list[str]) -> dict[str, np.ndarray]:
    """Rows of the right width parsed by pandas' C reader; odd cells become NaN as in _parse_cell."""
    import io

    if body.count(b",") != (len(columns) - 1) * body.count(b"\n"):  # some line is short, long or blank
        text = np.frombuffer(body, dtype=np.uint8)
        newlines = np.flatnonzero(text == ord("\n"))
        starts = np.concatenate(([0], newlines[:-1] + 1))
        commas = np.diff(np.searchsorted(np.flatnonzero(text == ord(",")), np.concatenate(([-1], newlines))))
        good = commas == len(columns) - 1
        body = b"".join(body[start:stop + 1] for start, stop in zip(starts[good], newlines[good], strict=True))
    if not body.strip():
        return {}
    frame = pd.read_csv(io.BytesIO(body), header=None, names=columns, keep_default_na=False, na_values=[""],
                        low_memory=False)
    return {name: pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64) for name in columns}


def load_metrics(path: Path, columns: tuple[str, ...] = METRIC_COLUMNS) -> pd.DataFrame:
    """The whole metrics.csv as a DataFrame (a torn last line dropped); empty frame when absent."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError:
        return pd.DataFrame(columns=list(columns))
    end = raw.rfind(b"\n")
    if end < 0:
        return pd.DataFrame(columns=list(columns))
    import io

    frame = pd.read_csv(io.BytesIO(raw[: end + 1]), on_bad_lines="skip")
    return frame.apply(pd.to_numeric, errors="coerce")


def load_eval(path: Path) -> pd.DataFrame:
    """The whole eval.csv (quality metrics per evaluation step) like `load_metrics`; empty cells are NaN."""
    return load_metrics(path, EVAL_COLUMNS)


# ---- events -------------------------------------------------------------------------------------------
class EventsTail:
    """Follows events.jsonl like MetricsTail follows metrics.csv; returns new event dicts."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0

    def poll(self) -> list[dict[str, Any]]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:
            self.offset = 0
        if size == self.offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(size - self.offset)
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        events = []
        for line in chunk[: end + 1].decode("utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                events.append(record)
        return events


# ---- samples ------------------------------------------------------------------------------------------
def sample_steps(run_path: Path) -> list[int]:
    """Steps that have a sample snapshot (PNG grid or toy JSON), in order."""
    steps = set()
    for child in (Path(run_path) / "samples").glob("step-*.*"):
        stem = child.stem.removeprefix("step-")
        if stem.isdigit() and child.suffix in (".png", ".json"):
            steps.add(int(stem))
    return sorted(steps)


def sample_path(run_path: Path, step: int | None = None) -> Path | None:
    """The snapshot file for `step` (the latest when None), PNG for images or JSON for toy data."""
    folder = Path(run_path) / "samples"
    names = ("latest.png", "latest.json") if step is None else (f"step-{step}.png", f"step-{step}.json")
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None
