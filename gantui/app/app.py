"""The gantui app: the runs list (home), the launcher to start runs, dashboards, compare and the explorer.

`run_app` is what the CLI calls: `gantui` opens the runs list (the launcher on top when there are no runs
yet), `gantui watch RUN` the dashboard on RUN, `gantui compare RUN RUN …` the compare screen.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from gantui.app.graphics import cycle_modes, resolve_graphics
from gantui.app.launch import STOP_WAIT_S, RunHandle, start_process_run, start_resume_process, start_thread_run
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.engine.config import SETTINGS
from gantui.engine.errors import UserError
from gantui.engine.places import LocalPlace, RunPlace, close_all, open_places, place_of

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig

TRAIN_MODES = ("process", "thread")


TERMINAL_CHECK_S = 2.0
HANGUP_GRACE_S = 5.0  # after a hang-up, how long a clean shutdown may take before the process just ends


def _terminal_fd() -> int | None:
    """The file descriptor of the controlling terminal the app reads, or None (tests, pipes)."""
    stream = sys.__stdin__
    try:
        return stream.fileno() if stream is not None and stream.isatty() else None
    except (OSError, ValueError):
        return None


class GanApp(App):
    """Launch GAN runs from menus and watch them train."""

    CSS_PATH = "gantui.tcss"
    TITLE = "gantui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(self, runs_dirs: list[Path | str | RunPlace] | None = None, watch: Path | None = None,
                 graphics: str = "auto", *, train_mode: str = "process", poll_interval: float = 0.5,
                 probe_host: bool = True,
                 compare: list[Path] | None = None, clock: Callable[[], float] = time.time,
                 quiet: bool = False) -> None:
        super().__init__()
        if train_mode not in TRAIN_MODES:
            raise ValueError(f"train_mode must be one of {TRAIN_MODES}")
        # places: runs folders here and HOST:PATH on other machines; runs_dirs: the ones here (new runs go to the first)
        self.places = open_places(list(runs_dirs or [Path(SETTINGS["runs_dir"].default)]))
        self.runs_dirs = [place.folder for place in self.places if isinstance(place, LocalPlace)] or [
            Path(SETTINGS["runs_dir"].default)]
        self.watch = Path(watch) if watch else None
        self.graphics = resolve_graphics(graphics)
        self.graphics_modes = cycle_modes(graphics)  # what `g` steps through
        self.train_mode = train_mode
        self.poll_interval = poll_interval
        self.probe_host = probe_host
        self.started_runs: list[RunHandle] = []
        self.compare = [Path(p) for p in compare] if compare else None
        self._compare_reader = None
        if self.compare:  # the first read of long runs is the slow part: start it before the app is up
            from gantui.app.runview.compare_data import CompareReader

            self._compare_reader = CompareReader(self.compare).prefetch()
        self.clock = clock  # the runs list's ages (snapshot tests fix it)
        self.quiet = quiet  # no terminal bell on alarms
        self.ema: float | None = None  # curve smoothing, shared by the dashboards and compare

    def on_mount(self) -> None:
        self._terminal = _terminal_fd()
        if self._terminal is not None:  # a closed SSH session or tmux pane must end the app, not spin it
            self._terminal_check = self.set_interval(TERMINAL_CHECK_S, self._exit_if_terminal_gone)
        if self.watch is not None:
            self.push_screen(self.dashboard(self.watch))
            return
        from gantui.app.screens.runs import RunsScreen
        from gantui.engine.run.reader import list_runs

        self.push_screen(RunsScreen(self.places))
        if self.compare is not None:
            self.open_compare(self.compare)
        elif all(place.host is None for place in self.places) and not list_runs(self.runs_dirs):
            # a first start: straight to the launcher (escape: the list)
            self.open_launcher()

    def _exit_if_terminal_gone(self) -> None:
        """After a hang-up reads of the terminal return nothing forever and Textual would poll them in a busy
        loop; ioctls on it fail with EIO, which is how we notice. Runs started from here keep training."""
        try:
            os.tcgetpgrp(self._terminal)
        except OSError as error:
            if error.errno == errno.EIO:  # hung up; other errors (not our controlling tty) are no signal
                self._terminal_check.stop()  # once: a slow shutdown must not start a second exit and watchdog
                self.exit(return_code=129)
                # Textual's shutdown writes to the dead terminal and can block there for good; with no one
                # left to restore the terminal for, leave regardless after a grace period
                watchdog = threading.Timer(HANGUP_GRACE_S, os._exit, args=(129,))
                watchdog.daemon = True
                watchdog.start()

    def dashboard(self, path: Path, handle: RunHandle | None = None, can_go_back: bool = False) -> DashboardScreen:
        return DashboardScreen(path, handle, graphics=self.graphics, poll_interval=self.poll_interval,
                               probe_host=self.probe_host, can_go_back=can_go_back, quiet=self.quiet)

    # ---- runs -------------------------------------------------------------------------------------------
    def start_run(self, config: TrainConfig, processes: int = 1, place: RunPlace | None = None) -> RunHandle | None:
        """Start `config` (a child process, or a thread in thread mode) and show its dashboard; `processes` > 1
        starts `gantui train --nproc N` (a child process only). On a remote place, the host's agent starts it
        detached there (a worker: ssh never blocks the screen)."""
        if place is not None and place.host is not None:
            self._start_remote(place, config, processes)
            return None
        runs_dir = self.runs_dirs[0]
        if self.train_mode == "thread":
            if processes > 1:
                raise UserError("several processes need the process mode (a thread runs one)")
            handle: RunHandle = start_thread_run(config, runs_dir)
        else:
            handle = start_process_run(config, runs_dir, processes)
        self.started_runs.append(handle)
        self.push_screen(self.dashboard(handle.path, handle, can_go_back=True))
        return handle

    @work(thread=True, group="remote-launch", exit_on_error=False)
    def _start_remote(self, place: RunPlace, config: TrainConfig, processes: int) -> None:
        try:
            path = place.launch(config, processes)
        except Exception as error:  # refused there (data path, device) or unreachable: one line
            self.call_from_thread(self.notify, f"cannot start on {place}: {error}", title="Cannot start",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.push_screen, self.dashboard(path, can_go_back=True))

    @work(thread=True, group="remote-launch", exit_on_error=False)
    def _resume_remote(self, place: RunPlace, path: Path, steps: int) -> None:
        try:
            place.resume(path, steps)
        except Exception as error:  # refused there (still live) or unreachable: one line
            self.call_from_thread(self.notify, f"cannot resume on {place.host}: {error}", title="Cannot resume",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.push_screen, self.dashboard(path, can_go_back=True))

    def open_run(self, path: Path) -> None:
        handle = next((h for h in self.started_runs if h.path == path), None)
        self.push_screen(self.dashboard(path, handle, can_go_back=True))

    def open_launcher(self) -> None:
        from gantui.app.screens.launcher import LauncherScreen

        self.push_screen(LauncherScreen(self.places))

    def open_compare(self, paths: list[Path]) -> None:
        from gantui.app.screens.compare import CompareScreen

        reader, self._compare_reader = (self._compare_reader, None) if paths == self.compare else (None, None)
        self.push_screen(CompareScreen(paths, graphics=self.graphics, poll_interval=self.poll_interval,
                                       reader=reader))

    def open_explorer(self, path: Path) -> None:
        from gantui.app.screens.explorer import ExplorerScreen

        self.push_screen(ExplorerScreen(path, graphics=self.graphics))

    def resume_run(self, path: Path, steps: int) -> RunHandle | None:
        """`gantui resume RUN --steps N` as a child in its own session, and its dashboard. A remote run: the
        host's agent starts it detached there (a worker, as a remote start)."""
        place = place_of(path)
        if place.host is not None:
            self._resume_remote(place, path, steps)
            return None
        handle = start_resume_process(path, steps, self.runs_dirs[0])
        self.started_runs.append(handle)
        self.push_screen(self.dashboard(path, handle, can_go_back=True))
        return handle

    def live_runs(self) -> list[RunHandle]:
        """Runs this app started that are still training."""
        return [h for h in self.started_runs if _alive(h)]

    # ---- quitting ---------------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        live = self.live_runs()
        if not live:
            self.exit()
            return
        names = ", ".join(h.path.name for h in live)
        in_process = [h for h in live if not h.can_outlive_app]
        if in_process:
            question = (f"{names} trains inside this app and stops when it quits. Stop it (a final checkpoint "
                        "is written) and quit?")
            choices = [("s", "Stop and quit", "stop"), ("c", "Cancel", "cancel")]
        else:
            question = (f"{names} is still training. Leave it running (watch it again with `gantui watch`), "
                        "or stop it (a final checkpoint is written)?")
            choices = [("l", "Leave running", "leave"), ("s", "Stop it", "stop"), ("c", "Cancel", "cancel")]
        self.push_screen(ChoiceScreen(question, choices), partial(self._quit_answered, live))

    def _quit_answered(self, live: list[RunHandle], choice: str | None) -> None:
        if choice == "leave":
            self.exit()
        elif choice == "stop":
            for handle in live:
                try:
                    handle.command("stop")
                except OSError as error:
                    self.notify(f"cannot stop {handle.path.name}: {error}", severity="error")
            self.notify("stopping: writing final checkpoints…", timeout=STOP_WAIT_S)
            self._exit_when_stopped(live)

    def on_unmount(self) -> None:
        """An in-process run cannot outlive the app: stop it cleanly (final checkpoint) on any exit."""
        for handle in self.live_runs():
            if not handle.can_outlive_app:
                handle.command("stop")
                handle.wait(STOP_WAIT_S)

    @work(thread=True, exclusive=True, group="quit")
    def _exit_when_stopped(self, live: list[RunHandle]) -> None:
        for handle in live:
            handle.wait(STOP_WAIT_S)
        self.call_from_thread(self.exit)

    # ---- command palette: every key of the current screen -------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in getattr(screen, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                key = binding.key_display or binding.key.split(",")[0]
                more = getattr(screen, "ACTION_HELP", {}).get(binding.action, binding.description)
                yield SystemCommand(f"{binding.description} ({key})", more, partial(screen.run_action, binding.action))


def _alive(handle: RunHandle) -> bool:
    process = getattr(handle, "process", None)
    if process is not None:
        return process.poll() is None
    thread = getattr(handle, "thread", None)
    return thread is not None and thread.is_alive()


def run_app(runs_dirs: list[Path | RunPlace], watch: Path | None = None, graphics: str = "auto",
            compare: list[Path] | None = None, quiet: bool = False) -> int:
    """The CLI's entry: the runs list, the dashboard on `watch`, or compare on `compare`; the exit status
    (129 when the terminal hung up)."""
    app = GanApp(runs_dirs, watch=watch, graphics=graphics, compare=compare, quiet=quiet)
    try:
        app.run()
    finally:
        close_all()  # the ssh connections of remote places
    return app.return_code or 0
