"""The states of a run, declared once: what status.json says, and what it means now.

A str-valued enum: `RunState.RUNNING == "running"`, and status.json keeps plain strings.
"""

from __future__ import annotations

import os
import socket
import time
from enum import Enum
from typing import Any

HEARTBEAT_STALE_S = 60.0  # a live state with no heartbeat for this long reads as "lost"


class RunState(str, Enum):
    STARTING = "starting"  # no status.json yet: the process is still loading data and building models
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"  # by request; resumable like any other
    FAILED = "failed"
    DIVERGED = "diverged"
    LOST = "lost"  # said it was live, but its process is gone or silent
    UNKNOWN = "unknown"  # status.json without a state we know
    INCOMPLETE = "incomplete"  # a folder its process never finished setting up (killed in its first seconds)

    __str__ = str.__str__  # "running", not "RunState.RUNNING", in f-strings and prints on every Python
    __format__ = str.__format__

    @classmethod
    def of(cls, value: object) -> RunState:
        """The state a status.json value names; UNKNOWN for anything else."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


LIVE_STATES = frozenset({RunState.STARTING, RunState.RUNNING, RunState.PAUSED})  # not over: it can be steered
FINAL_STATES = frozenset({RunState.FINISHED, RunState.STOPPED, RunState.FAILED, RunState.DIVERGED})  # over, said how


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


def folder_state(status: dict[str, Any], age_s: float, no_status: RunState = RunState.UNKNOWN) -> RunState:
    """A run folder's state from its status.json (maybe {}) and how long ago anything wrote it (`age_s`).

    Without a status it is `no_status` (a view says STARTING for a run it just launched) for a while, then
    INCOMPLETE: its process died before it could say anything."""
    if status:
        return effective_state(status)
    return RunState.INCOMPLETE if age_s > HEARTBEAT_STALE_S else no_status


def effective_state(status: dict[str, Any], now: float | None = None) -> RunState:
    """The state to show: a live state whose process is gone or silent becomes `lost`."""
    state = RunState.of(status.get("state", RunState.UNKNOWN))
    if state not in LIVE_STATES:
        return state
    now = time.time() if now is None else now
    pid, host = status.get("pid"), status.get("host")
    if isinstance(pid, int) and host == socket.gethostname() and not pid_alive(pid):
        return RunState.LOST
    heartbeat = status.get("heartbeat")
    if not isinstance(heartbeat, (int, float)) or now - heartbeat > HEARTBEAT_STALE_S:
        return RunState.LOST
    return state
