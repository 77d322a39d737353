"""The default mode: `gantui train` as a child process in its own session, steered through control.json,
surviving the app; its failures reach the dashboard even when it dies before its run folder exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gantui.app.app import GanApp
from gantui.app.launch import ProcessRun
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.engine.config import resolve_config
from gantui.engine.control import request
from gantui.engine.run.reader import read_json


@pytest.mark.slow
async def test_a_child_run_is_steered_and_outlives_the_app(runs_dir: Path, wait_until, press) -> None:
    config = resolve_config("pattern1010", "pattern-mlp", steps=1_000_000, log_every=50, sample_every=1000,
                            runs_dir=str(runs_dir), device="cpu")
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.1, probe_host=False)
    handle = None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            handle = app.start_run(config)
            assert isinstance(handle, ProcessRun)
            assert os.getsid(handle.process.pid) == handle.process.pid  # a session of its own
            screen = pilot.app.screen
            assert isinstance(screen, DashboardScreen)
            await wait_until(pilot, lambda: screen.poll is not None and screen.poll.state == "running"
                             and screen.poll.metrics.count > 0, what="the child to train")
            await press(pilot, "p")
            await wait_until(pilot, lambda: screen.poll.state == "paused", what="a pause through control.json")
            await press(pilot, "p")
            await wait_until(pilot, lambda: screen.poll.state == "running", what="the resume")
            await press(pilot, "q")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen), what="the quit question")
            await press(pilot, "l")  # leave it running
        assert handle.process.poll() is None, "the run died with the app"
        assert read_json(handle.path / "status.json")["state"] == "running"
        request(handle.path, "stop")
        assert handle.wait(60)
        assert read_json(handle.path / "status.json")["state"] == "stopped"
    finally:
        if handle is not None and handle.process.poll() is None:
            os.killpg(handle.process.pid, signal.SIGKILL)


async def test_a_child_that_fails_early_shows_why(runs_dir: Path, tmp_path: Path, wait_until) -> None:
    """`gantui train` checks data and models before it makes the run folder; when that fails the child
    exits 2 with one line on stderr, which is all there is to show (a stand-in child says it quickly)."""
    log_path = tmp_path / "child.log"
    with open(log_path, "wb") as log:
        child = subprocess.Popen([sys.executable, "-c", "import sys; print('gantui: mnist-csv: cannot read "
                                  "digits.csv: line 2: oops is not a number', file=sys.stderr); sys.exit(2)"],
                                 stdout=log, stderr=subprocess.STDOUT)
    handle = ProcessRun(runs_dir / "20260101-000000-mnist-csv-mlp", child, log_path)
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.started_runs.append(handle)
        await app.push_screen(app.dashboard(handle.path, handle))
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.poll is not None and screen.poll.state == "failed", what="the failure")
        banner = str(screen.query_one("#banner").render())
        assert screen.query_one("#banner").display
        assert "exited with status 2" in banner and "digits.csv: line 2" in banner
        await wait_until(pilot, lambda: any("digits.csv" in str(n.message) for n in app._notifications),
                         what="the failure's notification")
        await pilot.press("q")  # nothing live: quits without asking
    assert app.return_code == 0
