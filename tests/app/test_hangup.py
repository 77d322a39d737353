"""A hung-up terminal ends the app. When a tmux pane or an SSH session closes, reads of the terminal return
nothing forever and Textual would poll them in a busy loop; the app's terminal check must end it instead.

`gantui` runs in a real pseudo-terminal, on a runs folder with one finished run (the runs list: an empty
folder would open the launcher, which loads torch)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HANGUP_STATUS = 129  # what gantui exits with when its terminal hangs up (128 + SIGHUP, as shells report it)

# Sets up the pty as the controlling terminal of a new session at 80×24 and ignores SIGHUP, as a shell in a
# tmux pane or `nohup` does. "shell": a stand-in for the shell that runs the app in its foreground and
# outlives the hang-up (the kernel's SIGHUP goes to it, not to the app, so only the app's own check can end
# the app). "nohup": the app itself leads the session with SIGHUP ignored; the kernel's SIGCONT then makes
# Textual's shutdown block on the dead terminal, which the app's grace-period watchdog must end.
LEADER = """
import fcntl, os, signal, struct, subprocess, sys, termios
signal.signal(signal.SIGHUP, signal.SIG_IGN if sys.argv[1] == "nohup" else (lambda *_: None))
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
if sys.argv[1] == "nohup":
    os.execv(sys.argv[2], sys.argv[2:])
sys.exit(subprocess.call(sys.argv[2:]))
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="this platform has no pseudo-terminals")


def _finished_run(runs_dir: Path) -> None:
    """The least the runs list shows as a finished run."""
    path = runs_dir / "20260101-000000-mnist-mlp-hangup"
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "mlp", "loss": "bce"}))
    (path / "status.json").write_text(json.dumps({"state": "finished", "step": 10, "total_steps": 10}))


def _read_until(master: int, wanted: bytes, timeout: float) -> None:
    """Read what the app draws until `wanted` shows (a terminal that is not read would block the app)."""
    output = b""
    deadline = time.monotonic() + timeout
    while wanted not in output:
        if time.monotonic() > deadline:
            raise AssertionError(f"the app drew no {wanted!r} in {timeout:.0f}s; it drew {output[-2000:]!r}")
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                output += os.read(master, 65536)
            except OSError as error:  # EIO: nothing holds the terminal any more, the app is gone
                raise AssertionError(f"the app ended before drawing; it drew {output[-2000:]!r}") from error


@pytest.mark.parametrize("setup", ["shell", "nohup"])
def test_the_app_ends_itself_when_its_terminal_hangs_up(tmp_path: Path, setup: str) -> None:
    runs_dir = tmp_path / "runs"
    _finished_run(runs_dir)
    master, terminal = os.openpty()
    app = [sys.executable, "-m", "gantui", "--runs-dir", str(runs_dir), "--graphics", "ascii"]
    leader = subprocess.Popen([sys.executable, "-c", LEADER, setup, *app],
                              stdin=terminal, stdout=terminal, stderr=terminal, cwd=tmp_path,
                              start_new_session=True, env={**os.environ, "TERM": "xterm-256color"})
    os.close(terminal)
    try:
        _read_until(master, b"finished", timeout=60)  # the runs list is up, showing the run
        os.close(master)  # the terminal window closes: the pty hangs up
        master = -1
        try:
            status = leader.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the app kept running after its terminal hung up")
        assert status == HANGUP_STATUS
    finally:
        if master >= 0:
            os.close(master)
        if leader.poll() is None:
            os.killpg(leader.pid, signal.SIGKILL)  # the leader and the app: one process group
            leader.wait()
