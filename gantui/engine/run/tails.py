"""Following a run's append-only files (metrics.csv, eval.csv, events.jsonl) and loading them whole.

A tail reads only the bytes added since its last poll; a torn last line (the writer is mid-row) is left
for the next poll, and a file that shrank (a resume truncated it) is read again from the start.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gantui.engine.events import EMBEDDING_COLUMNS, EVAL_COLUMNS, METRIC_COLUMNS

BULK_PARSE_ROWS = 2000  # from this many new rows on, MetricsTail parses with pandas (much faster)


# ---- metrics ------------------------------------------------------------------------------------------
def _parse_cell(text: str) -> float:
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return float("nan")


class AppendedLines:
    """The complete lines an append-only file gained since the last read: what every tail reads.

    A line without its newline yet is left for the next read. A file that shrank (a resume truncated it) is
    read again from the start, and `reset` is set until the next read so callers can drop what they had.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.reset = False

    def restarted(self) -> None:
        """Called when the file shrank, before it is read again from the start (a tail forgets its header)."""

    def rewind(self) -> None:
        """Read the file again from the start at the next read."""
        self.offset = 0
        self.restarted()

    def read_new(self) -> bytes:
        """The new complete lines, newline included; b"" when there are none."""
        self.reset = False
        try:
            size = self.path.stat().st_size
        except OSError:
            return b""
        if size < self.offset:
            self.rewind()
            self.reset = True
        if size == self.offset:
            return b""
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read(size - self.offset)
        end = chunk.rfind(b"\n")
        if end < 0:
            return b""
        self.offset += end + 1
        return chunk[: end + 1]


class CsvLines(AppendedLines):
    """An append-only CSV whose first line is its header (`columns`, read once, again after a restart)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.columns: list[str] = []

    def restarted(self) -> None:
        self.columns = []

    def read_rows(self) -> bytes:
        """The new complete data lines, the header taken off into `columns` when it comes by."""
        body = self.read_new()
        if body and not self.columns:
            first = body.find(b"\n")
            self.columns = [name.strip() for name in body[:first].decode("utf-8", errors="replace").split(",")]
            body = body[first + 1:]
        return body


class MetricsTail(CsvLines):
    """Follows a growing metrics.csv (or eval.csv), reading only the bytes added since the last poll.

    `poll()` returns the complete new rows as columns of float arrays (empty cells are NaN).
    """

    def poll(self) -> dict[str, np.ndarray]:
        body = self.read_rows()
        if not body:
            return {}
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
    frame = pd.read_csv(io.BytesIO(raw[: end + 1]), on_bad_lines="skip")
    return frame.apply(pd.to_numeric, errors="coerce")


def load_eval(path: Path) -> pd.DataFrame:
    """The whole eval.csv (quality metrics per evaluation step) like `load_metrics`; empty cells are NaN, and
    so are the embedding's cells of rows measured in another version of it than the latest (`one_embedding`)."""
    frame = load_metrics(path, EVAL_COLUMNS)
    if frame.empty:
        return frame
    columns = one_embedding({name: frame[name].to_numpy(dtype=np.float64) for name in frame.columns})
    return pd.DataFrame(columns, index=frame.index)


# ---- eval.csv's embedding versions ----------------------------------------------------------------------------
UNVERSIONED = 0.0  # the version of rows written before eval.csv named one (an empty embedding_version cell)


def embedding_version(columns: dict[str, np.ndarray]) -> float | None:
    """The embedding version of the last of these eval rows measured in the embedding; None when none was."""
    measured = np.zeros(_rows(columns), dtype=bool)
    for name in EMBEDDING_COLUMNS:
        if name in columns:
            measured |= np.isfinite(columns[name])
    if not measured.any():
        return None
    return float(_versions(columns)[np.flatnonzero(measured)[-1]])


def one_embedding(columns: dict[str, np.ndarray], version: float | None = None) -> dict[str, np.ndarray]:
    """The eval rows with the embedding's cells (fid_rand, recall_rand, …) blanked where a row was measured in
    another version than `version` (default: the latest, `embedding_version`): numbers of two versions of the
    embedding do not compare, so a run resumed across an upgrade shows, ranks and plots only the newer ones."""
    version = embedding_version(columns) if version is None else version
    if version is None:
        return columns
    other = _versions(columns) != version
    if not other.any():
        return columns
    return {name: np.where(other, math.nan, values) if name in EMBEDDING_COLUMNS else values
            for name, values in columns.items()}


def _versions(columns: dict[str, np.ndarray]) -> np.ndarray:
    versions = columns.get("embedding_version")
    if versions is None:
        return np.full(_rows(columns), UNVERSIONED)
    return np.where(np.isfinite(versions), versions, UNVERSIONED)


def _rows(columns: dict[str, np.ndarray]) -> int:
    return len(next(iter(columns.values()))) if columns else 0


# ---- events -------------------------------------------------------------------------------------------
class EventsTail(AppendedLines):
    """Follows events.jsonl like MetricsTail follows metrics.csv; returns new event dicts."""

    def poll(self) -> list[dict[str, Any]]:
        events = []
        for line in self.read_new().decode("utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                events.append(record)
        return events
