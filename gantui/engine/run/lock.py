"""One writer per run folder: the process that trains a run holds an exclusive lock on its `.lock` file.

The lock is the kernel's (flock), so it goes with the process however it ends, kill -9 included; a second
`gantui train --run-path` or `gantui resume` on the same folder is refused while the first one lives.
status.json's heartbeat covers a writer on another machine sharing the folder (flock may not reach it).
Taking the lock also clears what a killed writer left behind: temporary files of unfinished atomic writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path

from gantui.engine.errors import UserError
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import read_json
from gantui.engine.run.state import LIVE_STATES, effective_state


class RunLock:
    """The right to write one run folder, held until `release` (or the end of the process)."""

    def __init__(self, path: Path) -> None:
        self.layout = RunLayout(path)
        self._handle = None

    def acquire(self) -> RunLock:
        """Take the lock, or UserError saying who trains this run; then clean stale temporary files."""
        layout = self.layout
        status = read_json(layout.status)
        host = status.get("host")
        if host not in (None, socket.gethostname()) and effective_state(status) in LIVE_STATES:
            raise UserError(f"{layout.path.name} is live on {host} (pid {status.get('pid')}); stop it there first")
        layout.lock.touch()
        # Held open read-only: a lock needs no write access, and an open writer would keep the disk from being
        # remounted read-only (or unmounted) under a run.
        handle = open(layout.lock, encoding="utf-8")  # noqa: SIM115 - held open for the run's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"{layout.path.name} is being trained by {holder}; stop it first (or watch it)") \
                from None
        layout.lock.write_text(f"pid {os.getpid()} on {socket.gethostname()}\n", encoding="utf-8")
        self._handle = handle
        for leftover in layout.temporaries():
            with contextlib.suppress(OSError):
                leftover.unlink()
        return self

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None
