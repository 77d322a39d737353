"""The runs list, driven by keys: navigation, filtering, sorting, marking and compare, open, delete, resume."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXED_TIME, MNIST_RUN, PATTERN_RUN

from gantui.app.app import GanApp
from gantui.app.screens.compare import CompareScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.runs import RunsScreen
from gantui.engine import spawn as launch  # where resume_command lives


def _app(runs_dir: Path) -> GanApp:
    return GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False,
                  clock=lambda: FIXED_TIME + 3600)


async def _listed(pilot, wait_until, count: int) -> RunsScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen) and len(pilot.app.screen.rows) == count,
                     what=f"{count} runs listed")
    return pilot.app.screen


def _told(app: GanApp, words: str) -> bool:
    """A notification says `words`: the key was handled, even when what it refuses leaves no other trace."""
    return any(words in str(notification.message) for notification in app._notifications)


def _fake_run(runs_dir: Path, name: str, state: str, heartbeat: float, pid: int = 1, host: str = "elsewhere") -> Path:
    path = runs_dir / name
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"dataset": "mnist", "arch": "dcgan28", "loss": "bce"}))
    (path / "status.json").write_text(json.dumps({"state": state, "pid": pid, "host": host, "heartbeat": heartbeat,
                                                  "started": heartbeat - 10, "step": 50, "total_steps": 100}))
    return path


async def test_navigate_filter_sort_mark_and_compare(runs_dir, image_run, pattern_run, wait_until, press) -> None:
    async with _app(runs_dir).run_test(size=(120, 30)) as pilot:
        screen = await _listed(pilot, wait_until, 2)
        assert [row.name for row in screen.shown] == [PATTERN_RUN, MNIST_RUN]  # newest first
        await press(pilot, "down")
        await wait_until(pilot, lambda: screen.current_row().name == MNIST_RUN, what="the cursor down")
        await press(pilot, "up")
        await wait_until(pilot, lambda: screen.current_row().name == PATTERN_RUN, what="the cursor up")

        await _filter(pilot, wait_until, press, *"pattern mse")  # every word must match
        await wait_until(pilot, lambda: [row.name for row in screen.shown] == [PATTERN_RUN], what="filtered")
        await press(pilot, "enter")  # back to the table, filter kept
        await wait_until(pilot, lambda: screen.query_one("#runs-table").has_focus, what="the table focused")
        assert screen.query_text == "pattern mse"
        await _filter(pilot, wait_until, press, "escape")  # escape clears the filter
        await wait_until(pilot, lambda: len(screen.shown) == 2, what="the filter cleared")
        await wait_until(pilot, lambda: screen.query_one("#runs-table").has_focus, what="the table focused")

        await press(pilot, "s")  # sort by the next column (age → dataset)
        await wait_until(pilot, lambda: screen.sort_key == "dataset", what="sorted by dataset")
        assert [row.dataset for row in screen.shown] == ["mnist", "pattern1010"]
        await press(pilot, "S")
        await wait_until(pilot, lambda: [row.dataset for row in screen.shown] == ["pattern1010", "mnist"],
                         what="the order reversed")

        await press(pilot, "c")  # nothing marked yet: a warning, no compare
        await wait_until(pilot, lambda: _told(pilot.app, "(0 marked)"), what="the compare refusal")
        assert pilot.app.screen is screen
        await press(pilot, "space")
        await wait_until(pilot, lambda: len(screen.marked) == 1, what="one run marked")
        await press(pilot, "space")
        await wait_until(pilot, lambda: screen.marked == {image_run, pattern_run}, what="both runs marked")
        await press(pilot, "c")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen), what="compare")
        compare = pilot.app.screen
        assert set(compare.paths) == {image_run, pattern_run}
        await wait_until(pilot, lambda: compare.loads_seen > 0, what="compare loaded")
        await press(pilot, "escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, what="back to the list")


async def _filter(pilot, wait_until, press, *keys: str) -> None:
    """`/`, then the keys once the filter has the focus."""
    await press(pilot, "slash")
    await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "runs-filter", what="the filter focused")
    await press(pilot, *keys)


async def test_enter_opens_the_dashboard(runs_dir, image_run, pattern_run, wait_until, press) -> None:
    async with _app(runs_dir).run_test(size=(120, 30)) as pilot:
        await _listed(pilot, wait_until, 2)
        await press(pilot, "down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), what="the dashboard")
        assert pilot.app.screen.path == image_run
        await press(pilot, "escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), what="back to the list")


async def test_stale_heartbeat_is_lost_and_a_live_run_is_never_deleted(runs_dir, image_run, wait_until,
                                                                       press) -> None:
    now = time.time()
    _fake_run(runs_dir, "20260101-000100-mnist-dcgan28-stale", "running", heartbeat=FIXED_TIME)
    live = _fake_run(runs_dir, "20270101-000000-mnist-dcgan28-live", "running", heartbeat=now + 3600,
                     pid=os.getpid(), host=socket.gethostname())
    async with _app(runs_dir).run_test(size=(120, 30)) as pilot:
        screen = await _listed(pilot, wait_until, 3)
        states = {row.name: row.state for row in screen.shown}
        assert states["20260101-000100-mnist-dcgan28-stale"] == "lost"
        assert states[live.name] == "running"
        assert screen.current_row().path == live
        await press(pilot, "d")  # refused: no question, the folder stays
        await wait_until(pilot, lambda: _told(pilot.app, "stop it before deleting it"), what="the delete refusal")
        assert isinstance(pilot.app.screen, RunsScreen) and live.is_dir()

        await _filter(pilot, wait_until, press, *"fixture", "enter")
        await wait_until(pilot, lambda: screen.query_one("#runs-table").has_focus, what="the table focused")
        await wait_until(pilot, lambda: screen.current_row().path == image_run, what="the fixture run")
        await press(pilot, "d")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RunsScreen), what="the question")
        await press(pilot, "n")  # keep
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), what="the question answered")
        assert image_run.is_dir()
        await press(pilot, "d")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RunsScreen), what="the question")
        await press(pilot, "y")
        await wait_until(pilot, lambda: not image_run.exists(), what="the folder removed")
        await wait_until(pilot, lambda: len(screen.rows) == 2, what="the list without it")


async def test_resume_from_the_app_starts_gantui_resume(runs_dir, image_run, wait_until, press,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (image_run / "checkpoints").mkdir(exist_ok=True)
    (image_run / "checkpoints" / "last.pt").write_bytes(b"")
    commands = []

    def fake_command(path: Path, steps: int) -> list[str]:
        commands.append(launch.resume_command.__wrapped__(path, steps))  # type: ignore[attr-defined]
        return [sys.executable, "-c", "pass"]

    fake_command.__wrapped__ = launch.resume_command  # type: ignore[attr-defined]
    monkeypatch.setattr(launch, "resume_command", fake_command)
    app = _app(runs_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        await _listed(pilot, wait_until, 1)
        await press(pilot, "r")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ResumeScreen", what="the resume dialog")
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "resume-steps", what="the input")
        await press(pilot, "ctrl+a", "ctrl+k", *"500", "enter")  # not above step 600: refused
        await wait_until(pilot, lambda: "above step 600" in str(pilot.app.screen.query_one("#resume-problem").render()),
                         what="the refusal")
        await press(pilot, "ctrl+a", "ctrl+k", *"1500", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), what="the dashboard")
        assert pilot.app.screen.path == image_run
        assert commands == [[sys.executable, "-m", "gantui", "resume", str(image_run), "--steps", "1500", "--plain"]]
        assert [handle.path for handle in app.started_runs] == [image_run]
        assert app.started_runs[0].wait(60), "the stand-in for gantui resume did not exit"


async def test_a_run_lost_before_its_first_checkpoint_starts_again_from_step_0(
        runs_dir, image_run, wait_until, press, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import DataTable, Static

    status = json.loads((image_run / "status.json").read_text())
    status.update(state="running", host=socket.gethostname(), pid=2**22 + 12345, heartbeat=0)  # died long ago
    (image_run / "status.json").write_text(json.dumps(status))
    commands = []

    def fake_command(path: Path, steps: int) -> list[str]:
        commands.append((path, steps))
        return [sys.executable, "-c", "pass"]

    monkeypatch.setattr(launch, "resume_command", fake_command)
    app = _app(runs_dir)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await _listed(pilot, wait_until, 1)
        assert "lost (no checkpoint)" in str(screen.query_one(DataTable).get_cell(str(image_run), "state"))
        await press(pilot, "r")
        await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "resume-steps", what="the dialog")
        assert "starts again from step 0" in str(pilot.app.screen.query_one(Static).render())
        await press(pilot, "ctrl+a", "ctrl+k", *"300", "enter")  # above step 0, though the run had reached 600
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), what="the dashboard")
        assert commands == [(image_run, 300)]


async def test_names_show_at_120_columns_and_ages_tick(runs_dir, image_run, pattern_run, wait_until) -> None:
    from textual.widgets import DataTable

    now = [FIXED_TIME + 3600]
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.05, probe_host=False, clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await _listed(pilot, wait_until, 2)
        await pilot.pause()
        text = "\n".join(line.text for line in screen.query_one(DataTable).render_lines(screen.region))
        assert "mnist-mlp-fixture" in text and "pattern1010-pattern-mlp-fixture" in text
        table = screen.query_one(DataTable)
        age = str(table.get_cell(str(image_run), "started"))
        now[0] += 125  # the folders do not change: only the clock moves
        await wait_until(pilot, lambda: str(table.get_cell(str(image_run), "started")) != age,
                         what="the age ticking")
        assert str(table.get_cell(str(image_run), "started")) == "1h02m"


async def test_the_runs_list_says_when_the_terminal_is_too_small(runs_dir, image_run, wait_until) -> None:
    from textual.widgets import DataTable

    from gantui.app.widgets.too_small import TooSmall

    app = _app(runs_dir)
    async with app.run_test(size=(50, 8)) as pilot:
        screen = await _listed(pilot, wait_until, 1)
        too_small = screen.query_one(TooSmall)
        await wait_until(pilot, lambda: too_small.display, what="the too-small note")
        assert "runs list needs at least 60×10; this terminal is 50×8" in str(too_small.render())
        assert not screen.query_one(DataTable).display
        await pilot.resize_terminal(100, 24)
        await wait_until(pilot, lambda: not too_small.display and screen.query_one(DataTable).display,
                         what="the list back at 100×24")
