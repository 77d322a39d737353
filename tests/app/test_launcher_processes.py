"""The launcher's "processes" field: hidden where one process is all that makes sense, offered on the CPU
(to try a distributed run) and on machines of several GPUs; more than one starts `gantui train --nproc N`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_launcher_runs import _fill, _launch, _tab_to

from gantui.app import launch
from gantui.app.app import GanApp
from gantui.app.launch import check_processes, offers_processes
from gantui.engine import spawn
from gantui.engine.errors import UserError
from gantui.engine.spawn import train_command


@pytest.fixture
def spawned(monkeypatch) -> list[list[str]]:
    """The commands the app would start detached, recorded instead (the run is watched, never trained)."""
    commands: list[list[str]] = []

    def record(command: list[str], path: Path, log_path: Path) -> spawn.Spawned:
        commands.append(command)
        return spawn.Spawned(path, subprocess.Popen([sys.executable, "-c", "pass"]), log_path)

    monkeypatch.setattr(spawn, "spawn_detached", record)
    return commands


async def _choose_cpu(pilot, screen) -> None:
    await _tab_to(pilot, screen, "device")
    await pilot.press("enter")
    choices = ["auto", *(name for name, _ in screen.catalog.devices)]  # the menu's order, auto first
    await pilot.press(*["down"] * choices.index("cpu"), "enter")
    assert screen.device == "cpu"


async def test_processes_on_the_cpu_start_gantui_train_with_nproc(runs_dir: Path, wait_until, press,
                                                                   spawned) -> None:
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _launch(pilot, wait_until, "pattern1010")
        row = screen.query_one("#nproc-row")
        if launch.gpu_count([name for name, _ in screen.catalog.devices]) < 2:
            assert not row.display  # device auto on a machine of at most one GPU: one process, no field
        await _choose_cpu(pilot, screen)
        await wait_until(pilot, lambda: row.display, what="the processes field offered for the CPU")
        await _fill(pilot, screen, "nproc", "0")
        await press(pilot, "f5")
        await wait_until(pilot, lambda: any("processes must be at least 1" in str(n.message)
                                            for n in app._notifications), what="the refusal of 0 processes")
        assert spawned == []
        await _fill(pilot, screen, "nproc", "2")
        await press(pilot, "f5")
        await wait_until(pilot, lambda: len(spawned) == 1, what="gantui train started")
    command = spawned[0]
    assert command[2:6] == ["gantui", "train", "--nproc", "2"] and "--run-path" in command


async def test_one_process_starts_plain_gantui_train(runs_dir: Path, wait_until, press, spawned) -> None:
    app = GanApp([runs_dir], graphics="ascii", poll_interval=0.1, probe_host=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _launch(pilot, wait_until, "pattern1010")
        await press(pilot, "f5")
        await wait_until(pilot, lambda: len(spawned) == 1, what="gantui train started")
    assert "--nproc" not in spawned[0]


def test_which_machines_offer_processes_and_how_many() -> None:
    two_gpus, one_gpu, cpu_only = ["cuda:0", "cuda:1", "cpu"], ["cuda:0", "cpu"], ["cpu"]
    assert offers_processes(two_gpus, "auto") and offers_processes(two_gpus, "cuda:1")
    assert not offers_processes(one_gpu, "auto") and not offers_processes(cpu_only, "auto")
    assert offers_processes(cpu_only, "cpu") and offers_processes(one_gpu, "cpu")
    check_processes(2, two_gpus, "auto", cores=2)
    with pytest.raises(UserError, match="3 is more than this machine's 2 GPUs"):
        check_processes(3, two_gpus, "cuda:0", cores=64)
    with pytest.raises(UserError, match="at least 1"):
        check_processes(0, two_gpus, "auto", cores=2)
    check_processes(4, cpu_only, "cpu", cores=4)
    assert train_command(Path("c.json"), Path("run"), 1)[3:5] == ["train", "--config"]
    assert train_command(Path("c.json"), Path("run"), 3)[3:6] == ["train", "--nproc", "3"]
