"""Starting and steering runs from the app.

Three kinds of handle, one interface (`command`, `failure`, `can_outlive_app`):
- `ProcessRun`: `gantui train … --run-path P` as a child in its own session, so it survives the app
  quitting or the SSH connection dropping; steered through control.json like any other run.
- `ThreadRun`: `prepare_run` + `train` in a thread of this process with a `RunControl` (tests, quick toys).
- `WatchedRun`: a run started elsewhere; steered through control.json when it is on this machine.
The dashboard reads only the run directory whichever it is.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from gantui.engine.control import RunControl, request
from gantui.engine.places import place_of
from gantui.engine.run.state import RunState
from gantui.engine.spawn import fresh_run_path, spawn_resume, spawn_train

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig

STOP_WAIT_S = 60.0


class WatchedRun:
    """A run this app did not start: steer it through its control.json."""

    mode = "watch"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def command(self, name: str) -> None:
        place_of(self.path).control(self.path, name)  # here: control.json; on another host: through its agent

    def failure(self) -> str | None:
        return None

    @property
    def can_outlive_app(self) -> bool:
        return True

    def wait(self, timeout: float) -> bool:
        return True


class ProcessRun(WatchedRun):
    """A `gantui train` child process in its own session, writing exactly `path`."""

    mode = "process"

    def __init__(self, path: Path, process: subprocess.Popen, log_path: Path) -> None:
        super().__init__(path)
        self.process = process
        self.log_path = log_path

    def failure(self) -> str | None:
        """The child's last words when it exited with an error (the run folder may not even exist)."""
        code = self.process.poll()
        if code in (None, 0):
            return None
        lines = _tail(self.log_path)
        reason = lines[-1] if lines else "no output"
        verb = "resume" if "resume" in getattr(self.process, "args", ())[3:4] else "train"
        return f"gantui {verb} exited with status {code}: {reason}"

    def command(self, name: str) -> None:
        if not self.path.is_dir():  # still loading data: the folder comes once everything checked out
            if name == "stop":
                self.process.terminate()  # SIGTERM means stop to the trainer, too
                return
            raise FileNotFoundError(f"{self.path.name} is still starting")
        request(self.path, name)

    def wait(self, timeout: float) -> bool:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


class ThreadRun:
    """`prepare_run` + `train` in a daemon thread of this process, steered with a RunControl."""

    mode = "thread"

    def __init__(self, config: TrainConfig, path: Path) -> None:
        self.config = config
        self.path = Path(path)
        self.control = RunControl(self.path)
        self.error: str | None = None
        self.final_state: RunState | None = None
        self.thread = threading.Thread(target=self._run, name=f"gantui-train-{self.path.name}", daemon=True)

    def start(self) -> ThreadRun:
        self.thread.start()
        return self

    def _run(self) -> None:
        from gantui.engine.errors import UserError
        from gantui.engine.prepare import prepare_run
        from gantui.engine.trainer import TrainingFailed, train

        try:
            prepared = prepare_run(self.config, self.path)
            self.final_state = train(prepared, control=self.control)
        except (UserError, TrainingFailed) as error:
            self._fail(str(error))
        except Exception as error:  # the app keeps running whatever training does
            self._fail(f"{type(error).__name__}: {error}".splitlines()[0])

    def _fail(self, message: str) -> None:
        self.error = message
        self.final_state = RunState.FAILED

    def command(self, name: str) -> None:
        self.control.apply(name)

    def failure(self) -> str | None:
        return self.error

    @property
    def can_outlive_app(self) -> bool:
        return False

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def wait(self, timeout: float) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


RunHandle = WatchedRun | ProcessRun | ThreadRun


# ---- how many processes a run may have (the launcher's "processes" field) ------------------------------------
def gpu_count(devices: list[str]) -> int:
    """The CUDA devices among the launcher's device choices (`cuda:0`, `cuda:1`, …)."""
    return sum(1 for name in devices if name.startswith("cuda"))


def offers_processes(devices: list[str], device: str) -> bool:
    """Several processes make sense on a machine of several GPUs (device auto or cuda), or on the CPU when the
    user chose it (to try a distributed run); elsewhere the field stays hidden and a run has one process."""
    if device == "cpu":
        return True
    return gpu_count(devices) > 1 and (device == "auto" or device.startswith("cuda"))


def check_processes(processes: int, devices: list[str], device: str, cores: int) -> None:
    """UserError (one line) unless 1 <= processes <= the GPUs (CUDA) or the cores (CPU)."""
    from gantui.engine.errors import UserError

    on_cpu = device == "cpu"
    limit, what = (cores, "CPU cores") if on_cpu else (gpu_count(devices), "GPUs")
    if processes < 1:
        raise UserError(f"processes must be at least 1, not {processes}")
    if processes > max(limit, 1):
        raise UserError(f"processes: {processes} is more than this machine's {limit} {what}")


def start_process_run(config: TrainConfig, runs_dir: Path, processes: int = 1) -> ProcessRun:
    """Start `gantui train` detached (own session, no terminal), writing a fresh folder under `runs_dir`;
    with `processes` > 1, `gantui train --nproc N` (one node)."""
    spawned = spawn_train(config, runs_dir, processes)
    return ProcessRun(spawned.path, spawned.process, spawned.log_path)


def start_resume_process(path: Path, steps: int, runs_dir: Path) -> ProcessRun:
    """Start `gantui resume PATH --steps N` detached, like a new run; it appends to the same folder."""
    spawned = spawn_resume(path, steps, runs_dir)
    return ProcessRun(spawned.path, spawned.process, spawned.log_path)


def start_thread_run(config: TrainConfig, runs_dir: Path) -> ThreadRun:
    return ThreadRun(config, fresh_run_path(runs_dir, config)).start()


def _tail(path: Path, lines: int = 5) -> list[str]:
    with contextlib.suppress(OSError):
        text = path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()][-lines:]
    return []
