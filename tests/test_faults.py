"""Faults cost at most one checkpoint interval: kill -9 at random moments, a full disk, a read-only disk, a
second writer, a run killed before its first checkpoint. Real processes, real signals, real file systems."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import block_until

from gantui.engine.checkpoint import load_checkpoint
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import list_runs, read_run
from gantui.engine.run.state import RunState
from gantui.engine.run.tails import load_metrics

GANTUI = [sys.executable, "-m", "gantui"]
CHECKPOINT_EVERY = 10
KILL_TRIALS = 12


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*GANTUI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def train_args(runs: Path, *extra: str) -> list[str]:
    return ["train", "-d", "mnist", "-a", "mlp", "--device", "cpu", "--batch-size", "16", "--log-every", "2",
            "--checkpoint-every", str(CHECKPOINT_EVERY), "--sample-every", "50", "--eval-every", "0",
            "--runs-dir", str(runs), *extra]


def logged_steps(run: Path) -> list[int]:
    frame = load_metrics(RunLayout(run).metrics)
    return [int(step) for step in frame["step"]] if "step" in frame else []


def checkpoint_step(run: Path) -> int:
    path = RunLayout(run).last_checkpoint
    return load_checkpoint(path)["step"] if path.exists() else 0


def the_run(runs: Path) -> Path:
    folders = [path for path in runs.iterdir() if not path.name.startswith(".")]
    assert len(folders) == 1, folders
    return folders[0]


def assert_readable(run: Path) -> None:
    """It lists and opens; metrics.csv parses with unique, increasing steps; the checkpoint loads."""
    listed = list_runs([run.parent])
    assert [snapshot.path for snapshot in listed] == [run]
    assert read_run(run).state in (RunState.LOST, RunState.FINISHED, RunState.STOPPED, RunState.INCOMPLETE,
                                   RunState.UNKNOWN)
    steps = logged_steps(run)
    assert steps == sorted(set(steps)), steps
    checkpoint_step(run)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_at_most_one_checkpoint_interval(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    chance = random.Random(20261201)
    first = start(*train_args(runs, "--steps", "100000"), cwd=tmp_path)
    block_until(lambda: runs.exists() and any(runs.iterdir()) and checkpoint_step(the_run(runs)) > 0,
                timeout=120, what="the first checkpoint")
    kill(first)
    run = the_run(runs)
    for trial in range(KILL_TRIALS):
        assert_readable(run)
        reached = max(logged_steps(run) or [0])
        kept = checkpoint_step(run)
        assert reached - kept <= CHECKPOINT_EVERY, (trial, reached, kept)  # at most one interval lost
        resumed = start("resume", str(run), "--steps", "100000", cwd=tmp_path)
        time.sleep(chance.uniform(1.0, 6.0))  # import, lock, load, train, checkpoint: anywhere in there
        kill(resumed)
    final = subprocess.run([*GANTUI, "resume", str(run), "--steps", str(max(logged_steps(run) or [0]) + 20)],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert_readable(run)
    assert read_run(run).state == RunState.FINISHED
    assert not RunLayout(run).temporaries()  # what killed writers left was cleared on the next open


def test_resume_of_a_live_run_is_refused_and_nothing_is_written_twice(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    live = start(*train_args(runs, "--steps", "100000"), cwd=tmp_path)
    try:
        block_until(lambda: runs.exists() and any(runs.iterdir()) and len(logged_steps(the_run(runs))) >= 3,
                    timeout=120, what="training to log")
        run = the_run(runs)
        second = subprocess.run([*GANTUI, "resume", str(run), "--steps", "200000"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        lines = [line for line in second.stderr.splitlines() if line.strip()]
        assert second.returncode == 2 and len(lines) == 1 and "being trained by" in lines[0], second.stderr
        assert f"pid {live.pid}" in lines[0]
        steps = logged_steps(run)
        assert steps == sorted(set(steps))
    finally:
        live.send_signal(signal.SIGTERM)
        live.communicate(timeout=60)
    assert live.returncode == 0
    assert json.loads(RunLayout(run).status.read_text())["state"] == RunState.STOPPED


def test_a_run_killed_before_its_first_checkpoint_starts_again_from_step_0(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = start(*train_args(runs, "--steps", "100000", "--checkpoint-every", "1000000"), cwd=tmp_path)
    block_until(lambda: runs.exists() and any(runs.iterdir()) and len(logged_steps(the_run(runs))) >= 2,
                timeout=120, what="training to log")
    kill(first)
    run = the_run(runs)
    assert read_run(run).state == RunState.LOST and not RunLayout(run).last_checkpoint.exists()
    again = subprocess.run([*GANTUI, "resume", str(run), "--steps", "30"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert read_run(run).state == RunState.FINISHED
    assert logged_steps(run) == list(range(2, 31, 2))  # the killed attempt's rows gave way to the new ones


# ---- real file systems: a small tmpfs, mounted by the test (root only, as in CI) --------------------------
def _mount(folder: Path, size: str) -> None:
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def fill(filler: Path, leave: int) -> None:
    """Take every free byte of the disk (the run writes meanwhile), then give `leave` bytes back."""
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        block = b"\0" * (1 << 20)
        while True:
            try:
                os.write(descriptor, block)
            except OSError:  # full: try smaller pieces, down to a page
                if len(block) <= 4096:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(descriptor)
    os.truncate(filler, max(filler.stat().st_size - leave, 0))


def remount_read_only(folder: Path) -> None:
    """Turn the disk read-only under whatever runs on it (a file being written at that instant makes the
    kernel say busy: try again)."""
    def remounted() -> bool:
        return subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True).returncode == 0

    block_until(remounted, timeout=30, interval=0.05, what=f"{folder} to be remounted read-only")


@pytest.fixture
def small_disk(tmp_path: Path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    folder = tmp_path / "disk"
    _mount(folder, "24m")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_ends_the_run_failed_saying_disk_full_and_it_resumes(small_disk: Path, tmp_path: Path) -> None:
    runs = small_disk / "runs"
    filler = small_disk / "filler"
    process = start(*train_args(runs, "--steps", "100000"), cwd=tmp_path)
    block_until(lambda: runs.exists() and any(runs.iterdir()) and checkpoint_step(the_run(runs)) > 0,
                timeout=120, what="the first checkpoint")
    fill(filler, leave=600_000)  # less than a checkpoint needs: the next one cannot be written
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 1, stderr
    assert "disk full" in stderr and "Traceback" not in stderr, stderr
    run = the_run(runs)
    status = json.loads(RunLayout(run).status.read_text())
    assert status["state"] == RunState.FAILED and "disk full" in status["message"]
    assert read_run(run).state == RunState.FAILED
    kept = checkpoint_step(run)  # the last good checkpoint is whole
    assert kept > 0 and max(logged_steps(run)) - kept <= CHECKPOINT_EVERY
    filler.unlink()
    resumed = subprocess.run([*GANTUI, "resume", str(run), "--steps", str(kept + 10)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert logged_steps(run) == sorted(set(logged_steps(run))) and max(logged_steps(run)) == kept + 10
    assert not RunLayout(run).temporaries()


def test_a_disk_turned_read_only_ends_the_run_and_it_resumes_once_writable(small_disk: Path,
                                                                           tmp_path: Path) -> None:
    runs = small_disk / "runs"
    process = start(*train_args(runs, "--steps", "100000"), cwd=tmp_path)
    block_until(lambda: runs.exists() and any(runs.iterdir()) and checkpoint_step(the_run(runs)) > 0,
                timeout=120, what="the first checkpoint")
    remount_read_only(small_disk)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 1, stderr
    assert "read-only" in stderr and "Traceback" not in stderr, stderr
    run = the_run(runs)
    assert read_run(run).state in (RunState.LOST, RunState.FAILED)  # it could not say so: its process is gone
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    kept = checkpoint_step(run)
    resumed = subprocess.run([*GANTUI, "resume", str(run), "--steps", str(kept + 10)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert logged_steps(run) == sorted(set(logged_steps(run))) and max(logged_steps(run)) == kept + 10


def test_a_read_only_runs_folder_is_one_line_and_no_run(small_disk: Path, tmp_path: Path) -> None:
    (small_disk / "runs").mkdir()
    remount_read_only(small_disk)
    result = subprocess.run([*GANTUI, *train_args(small_disk / "runs", "--steps", "2")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "read-only" in lines[0], result.stderr
    assert not any((small_disk / "runs").iterdir())
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    from PIL import Image

    for index in range(3):
        Image.new("RGB", (16, 16), (80 * index, 0, 0)).save(pictures / f"{index}.png")
    packed = subprocess.run([*GANTUI, "pack-h5", str(pictures), str(small_disk / "out.h5")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    lines = [line for line in packed.stderr.splitlines() if line.strip()]
    assert packed.returncode == 2 and len(lines) == 1 and "read-only" in lines[0].lower(), packed.stderr
