"""Starting `gantui train` / `gantui resume` as detached processes: their own session, no terminal.

The app starts runs this way on this machine, and the remote agent on its own host, so a run survives the
app quitting, the SSH connection dropping or the laptop sleeping.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gantui.engine.run.layout import child_config, child_log, new_run_path

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig


@dataclass(frozen=True)
class Spawned:
    """A detached child that writes the run folder `path` (its output goes to `log_path`)."""

    path: Path
    process: subprocess.Popen
    log_path: Path


def fresh_run_path(runs_dir: Path, config: TrainConfig) -> Path:
    """A run folder name that does not exist yet (the trainer creates it once the run checks out)."""
    return new_run_path(runs_dir, config.dataset, config.arch, config.name)


def train_command(config_file: Path, path: Path, processes: int = 1) -> list[str]:
    """`gantui train` for a detached start; `--nproc N` (torchrun's launcher, one node) for N > 1."""
    several = ["--nproc", str(processes)] if processes > 1 else []
    return [sys.executable, "-m", "gantui", "train", *several, "--config", str(config_file), "--run-path", str(path),
            "--plain"]


def resume_command(path: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "gantui", "resume", str(path), "--steps", str(steps), "--plain"]


def spawn_train(config: TrainConfig, runs_dir: Path, processes: int = 1) -> Spawned:
    """Start `gantui train` detached, writing a fresh folder under `runs_dir`; with `processes` > 1,
    `gantui train --nproc N` (one node).

    The child gets the configuration already resolved, as a file beside its log, so it is resolved once;
    the run folder itself appears only once the child has checked everything (no half-written runs).
    """
    from gantui.engine.config import write_config

    path = fresh_run_path(runs_dir, config)
    config_file = child_config(runs_dir, path.name)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    write_config(config, config_file)
    return spawn_detached(train_command(config_file, path, processes), path, child_log(runs_dir, path.name))


def spawn_resume(path: Path, steps: int, runs_dir: Path) -> Spawned:
    """Start `gantui resume PATH --steps N` detached, like a new run; it appends to the same folder."""
    path = Path(path)
    return spawn_detached(resume_command(path, steps), path, child_log(runs_dir, path.name, resumed=True))


def spawn_detached(command: list[str], path: Path, log_path: Path) -> Spawned:
    """Start `command` in its own session with no terminal, its output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True)
    return Spawned(path, process, log_path)
