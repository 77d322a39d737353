"""Steering a run while it trains: pause, resume, stop, snapshot now.

In-process runs (the app's thread mode, tests) call the methods directly. A run in another process is
steered through `control.json` in its folder (`request`), which the trainer polls a few times a second,
and SIGINT / SIGTERM mean stop. Either way the trainer sees one `RunControl`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from gantui.engine.atomic import write_json_atomic
from gantui.engine.run.layout import RunLayout

COMMANDS = ("pause", "resume", "stop", "snapshot")
POLL_INTERVAL_S = 0.25


class RunControl:
    def __init__(self, run_path: Path | None = None) -> None:
        self.run_path = Path(run_path) if run_path else None
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._snapshot = threading.Event()
        self._wake = threading.Event()
        self._last_poll = 0.0
        self.warnings: list[str] = []  # unreadable requests, for the trainer to report (and drain)
        self._warned: set[str] = set()
        # A request left over from an earlier process (e.g. the stop that ended it) is not for us.
        self._last_request_id = _request_id(self.run_path) if self.run_path else 0.0

    # ---- commands (any thread) ------------------------------------------------------------------------
    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def snapshot(self) -> None:
        self._snapshot.set()
        self._wake.set()

    def apply(self, command: str) -> None:
        {"pause": self.pause, "resume": self.resume, "stop": self.stop, "snapshot": self.snapshot}[command]()

    # ---- what the trainer asks ------------------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def take_snapshot_request(self) -> bool:
        if self._snapshot.is_set():
            self._snapshot.clear()
            return True
        return False

    def poll(self) -> None:
        """Read control.json when enough time has passed; cheap enough to call every step."""
        if self.run_path is None:
            return
        now = time.monotonic()
        if now - self._last_poll < POLL_INTERVAL_S:
            return
        self._last_poll = now
        path = RunLayout(self.run_path).control
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return  # none yet, or caught mid-replace: the next poll reads it
        command, request_id, problem = parse_request(text)
        if problem is not None:
            self._warn(f"ignored {path.name}: {problem}")
        elif request_id > self._last_request_id:
            self._last_request_id = request_id
            self.apply(command)

    def _warn(self, message: str) -> None:
        if message not in self._warned:  # once each: it is polled a few times a second
            self._warned.add(message)
            self.warnings.append(message)

    def wait_while_paused(self, on_tick=None) -> None:
        """Block while paused (polling the control file), returning when resumed or stopped."""
        while self.paused and not self.stop_requested:
            self._wake.wait(POLL_INTERVAL_S)
            self._wake.clear()
            self._last_poll = 0.0
            self.poll()
            if on_tick is not None:
                on_tick()


def parse_request(text: str) -> tuple[str, float, str | None]:
    """(command, id, None) from control.json's text, or ("", 0, why) when it is not a request we can follow."""
    try:
        request = json.loads(text)
    except ValueError:
        return "", 0.0, "not JSON"
    if not isinstance(request, dict):
        return "", 0.0, "not a JSON object"
    command, request_id = request.get("command"), request.get("id", 0)
    if command not in COMMANDS:
        return "", 0.0, f"unknown command {command!r} (known: {', '.join(COMMANDS)})"
    if not isinstance(request_id, (int, float)) or isinstance(request_id, bool) or request_id != request_id:
        return "", 0.0, f"its id {request_id!r} is not a number"
    return command, float(request_id), None


def _request_id(run_path: Path) -> float:
    try:
        text = RunLayout(run_path).control.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return 0.0
    return parse_request(text)[1]


def request(run_path: Path, command: str) -> None:
    """Ask the process training `run_path` to pause, resume, stop or take a snapshot."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    write_json_atomic(RunLayout(run_path).control, {"command": command, "id": time.time()})
