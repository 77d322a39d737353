"""The run directory as a sink: everything a run reports lands in files other processes can read.

Where each file goes is `RunLayout`'s. Status and pictures are replaced atomically; metrics, evaluations and
events are append-only.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from gantui.engine.atomic import write_atomic, write_json_atomic
from gantui.engine.events import (
    EVAL_COLUMNS,
    METRIC_COLUMNS,
    RANK_COLUMNS,
    AlarmStatus,
    CheckpointSaved,
    EvalLogged,
    Event,
    MetricsLogged,
    Notice,
    RanksLogged,
    RunEnded,
    RunStarted,
    SampleGrid,
    SampleValues,
    StateChanged,
)
from gantui.engine.grid import PNG_KEY, GridLayout
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import read_json
from gantui.engine.run.state import RunState

HEARTBEAT_S = 5.0  # how often a live run refreshes status.json (readers call a run lost after 60 s)


class RunDir:
    """Writes one run's folder. Thread-safe: the heartbeat thread and the trainer share it."""

    def __init__(self, path: Path) -> None:
        self.layout = RunLayout(path)
        self.path = self.layout.path
        self.layout.samples.mkdir(parents=True, exist_ok=True)
        self.layout.checkpoints.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {}

    # ---- status -------------------------------------------------------------------------------------
    def update_status(self, **fields: Any) -> None:
        with self._lock:
            self._status.update(fields)
            self._status["heartbeat"] = time.time()
            try:
                write_json_atomic(self.layout.status, self._status)
            except OSError as error:
                if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                # A full disk has no room for a second copy: rewrite the file in place (truncating it frees
                # its blocks first), so a failing run can still say why. Readers skip a torn status.json.
                self.layout.status.write_text(json.dumps(self._status, indent=2) + "\n", encoding="utf-8")

    def heartbeat(self) -> None:
        self.update_status()

    # ---- append-only files ----------------------------------------------------------------------------
    def append_event(self, kind: str, **fields: Any) -> None:
        record = {"time": time.time(), "event": kind, **fields}
        with self._lock, open(self.layout.events, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def append_metrics(self, row: dict[str, Any]) -> None:
        self._append_row(self.layout.metrics, METRIC_COLUMNS, row)

    def append_eval(self, row: dict[str, Any]) -> None:
        self._append_row(self.layout.evals, EVAL_COLUMNS, row)

    def append_ranks(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._append_row(self.layout.ranks, RANK_COLUMNS, row)

    def _append_row(self, path: Path, columns: tuple[str, ...], row: dict[str, Any]) -> None:
        """One CSV row (empty cells for None), the header first when the file is new."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        with self._lock:
            if not path.exists() or path.stat().st_size == 0:
                writer.writerow(columns)
            writer.writerow(["" if row.get(c) is None else _format(row[c]) for c in columns])
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(buffer.getvalue())

    def truncate_rows_after(self, path: Path, step: int, columns: tuple[str, ...] | None = None) -> None:
        """On resume: drop rows logged after the checkpoint, so steps never repeat (metrics.csv or eval.csv).

        A file an older gantui wrote with other `columns` is laid out anew under the current header (cells
        of columns it lacked stay empty), so the rows appended from now on match it.
        """
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = lines[:1] + [line for line in lines[1:] if line.endswith("\n") and _row_step(line) <= step]
        if columns is not None and kept and kept[0].strip().split(",") != list(columns):
            kept = _relaid(kept, columns)
        with self._lock:
            write_atomic(path, lambda tmp: tmp.write_text("".join(kept), encoding="utf-8"))

    # ---- pictures ----------------------------------------------------------------------------------------
    def write_sample_grid(self, step: int, image: np.ndarray, layout: GridLayout | None = None) -> Path:
        """The grid as a PNG whose text chunk says how its tiles lie (viewers crop it into its samples)."""
        picture = Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
        info = PngInfo()
        if layout is not None:
            info.add_text(PNG_KEY, layout.to_text())
        target = self.layout.sample_png(step)
        write_atomic(target, lambda tmp: picture.save(tmp, format="PNG", pnginfo=info))
        write_atomic(self.layout.latest_png, lambda tmp: picture.save(tmp, format="PNG", pnginfo=info))
        return target

    def write_sample_values(self, step: int, fake: list[list[float]], real: list[list[float]]) -> Path:
        data = {"step": step, "fake": fake, "real": real}
        target = self.layout.sample_json(step)
        write_json_atomic(target, data)
        write_json_atomic(self.layout.latest_json, data)
        return target


def _relaid(lines: list[str], columns: tuple[str, ...]) -> list[str]:
    """CSV lines (header first) under `columns`: cells moved by their old column's name, missing ones empty."""
    old = lines[0].strip().split(",")
    relaid = [",".join(columns) + "\n"]
    for line in lines[1:]:
        cells = dict(zip(old, line.rstrip("\n").split(","), strict=False))
        relaid.append(",".join(cells.get(name, "") for name in columns) + "\n")
    return relaid


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _row_step(line: str) -> int:
    try:
        return int(line.split(",", 1)[0])
    except ValueError:
        return -1


class RunDirSink:
    """Turns trainer events into the run directory's files."""

    def __init__(self, run_dir: RunDir, world_size: int = 1) -> None:
        self.run = run_dir
        self.world_size = world_size

    def _started(self, resumed: bool) -> float:
        """When the run first began: a resume keeps the original time, so ages and wall clocks stay true."""
        if resumed:
            earlier = read_json(self.run.layout.status).get("started")
            if isinstance(earlier, (int, float)):
                return float(earlier)
        return time.time()

    def handle(self, event: Event) -> None:
        run = self.run
        if isinstance(event, RunStarted):
            write_json_atomic(run.layout.config, event.config)
            if event.resumed:
                run.truncate_rows_after(run.layout.metrics, event.step)
                run.truncate_rows_after(run.layout.evals, event.step, EVAL_COLUMNS)
                run.truncate_rows_after(run.layout.ranks, event.step)
            run.update_status(
                state=RunState.RUNNING, pid=os.getpid(), host=socket.gethostname(), device=event.device,
                device_name=event.device_name, world_size=self.world_size, step=event.step,
                epoch=event.step // max(event.steps_per_epoch, 1), total_steps=event.total_steps,
                steps_per_epoch=event.steps_per_epoch, params_g=event.params_g, params_d=event.params_d,
                started=self._started(event.resumed), message="",
            )
            run.append_event("start", step=event.step, resumed=event.resumed, device=event.device)
        elif isinstance(event, MetricsLogged):
            run.append_metrics(event.row())
            run.update_status(step=event.step, epoch=event.epoch, samples_per_s=event.samples_per_s,
                              loss_d=event.loss_d, loss_g=event.loss_g, elapsed=event.time)
        elif isinstance(event, RanksLogged):
            run.append_ranks(event.rows())
        elif isinstance(event, EvalLogged):
            run.append_eval(event.row())
            run.update_status(quality={**event.row(), "class_histogram": list(event.class_histogram),
                                       "num_classes": event.num_classes}, next_eval_step=event.next_step)
        elif isinstance(event, AlarmStatus):
            run.update_status(alarm=event.active[-1] if event.active else "", alarms=list(event.active))
        elif isinstance(event, SampleGrid):
            run.write_sample_grid(event.step, event.image, event.layout)
        elif isinstance(event, SampleValues):
            run.write_sample_values(event.step, event.fake, event.real)
        elif isinstance(event, CheckpointSaved):
            run.append_event("checkpoint", step=event.step, path=event.path)
        elif isinstance(event, Notice):
            run.append_event(event.kind, step=event.step, message=event.message)
        elif isinstance(event, StateChanged):
            run.update_status(state=event.state, step=event.step)
            run.append_event(event.state, step=event.step)
        elif isinstance(event, RunEnded):
            failed = {} if event.failed_rank is None else {"failed_rank": event.failed_rank}
            run.update_status(state=event.state, step=event.step, epoch=event.epoch, message=event.message,
                              ended=time.time(), **failed)
            run.append_event("end", step=event.step, state=event.state, message=event.message)


class Heartbeat:
    """Refreshes status.json every few seconds so readers can tell a live run from a lost one."""

    def __init__(self, rundir: RunDir) -> None:
        self.rundir = rundir
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="gantui-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError):
                self.rundir.heartbeat()
