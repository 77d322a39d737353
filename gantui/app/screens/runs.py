"""The runs list, the app's home: every run in the runs folders, live or finished, refreshed live.

A scanner thread reads the folders every REFRESH_S and posts `RunsListed` (newer replaces older). Typing
after `/` filters, `s` sorts by the next column (a click on a heading sorts by it), space marks runs for
compare, and single keys open, resume, delete, explore or start runs.
"""

from __future__ import annotations

import shutil
import threading
import time
from functools import partial
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from gantui.app.format import count, duration, number
from gantui.app.messages import RunsListed
from gantui.app.runview.run_rows import COLUMNS, RunRow, RunScanner, matches, sort_rows
from gantui.app.screens.choice import ChoiceScreen
from gantui.app.screens.help import HelpScreen, key_lines
from gantui.app.screens.resume import ResumeScreen
from gantui.app.widgets.fitting_footer import FittingFooter
from gantui.app.widgets.too_small import TooSmall
from gantui.engine.places import RunPlace, open_places
from gantui.engine.run.layout import undated_name
from gantui.engine.run.state import RunState

REFRESH_S = 1.0
MIN_SIZE = (60, 10)  # columns, rows below which the table shows no run's name
AGE_TICK_S = 1.0
MAX_COMPARE = 8
STATE_STYLE = {RunState.RUNNING: "bold green", RunState.PAUSED: "yellow", RunState.LOST: "bold red",
               RunState.FAILED: "bold red", RunState.DIVERGED: "bold red", RunState.FINISHED: "",
               RunState.STOPPED: "dim", RunState.INCOMPLETE: "red"}


def _age(row: RunRow, now: float) -> str:
    return duration(max(now - row.started, 0)) if row.started else "?"


class RunsScreen(Screen):
    """Every run: state, data, architecture, loss, progress, last losses, best quality, speed, device, age."""

    ACTION_HELP = {
        "open": "open the run's dashboard",
        "mark": "mark or unmark the run (for compare)",
        "compare": "compare the marked runs (2 to 8) side by side",
        "new_run": "start a new run (the launcher)",
        "resume": "resume a stopped run from its last checkpoint",
        "delete": "delete the run folder (asks first; never a live run)",
        "explore": "the latent explorer on the run's generator",
        "filter": "filter: type words that must all appear (name, state, data, arch, loss, device)",
        "sort": "sort by the next column (shift+s reverses)",
        "reverse": "reverse the sort order",
        "help": "this list",
        "app.quit": "quit",
    }
    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("n", "new_run", "New"),
        Binding("r", "resume", "Resume"),
        Binding("d", "delete", "Delete"),
        Binding("x", "explore", "Explore"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, runs_dirs: list[Path | RunPlace], refresh_s: float = REFRESH_S) -> None:
        super().__init__()
        self.runs_dirs = open_places(list(runs_dirs))  # runs folders here and HOST:PATH places
        self.refresh_s = refresh_s
        self.rows: tuple[RunRow, ...] = ()
        self.shown: list[RunRow] = []
        self.marked: set[Path] = set()
        self.query_text = ""
        self.sort_key = "started"
        self.descending = True
        self.scans_seen = 0
        self.place_lines: tuple[str, ...] = ()
        self._wake = threading.Event()

    def compose(self) -> ComposeResult:
        yield TooSmall("runs list", MIN_SIZE)
        yield Input(placeholder="/ to filter runs by words (name, state, data, arch, loss, device)",
                    id="runs-filter")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="runs-places", markup=False)  # per remote place: its devices, or why it is not there
        yield Static("", id="runs-summary", markup=False)
        yield FittingFooter()

    def on_resize(self) -> None:
        self.query_one(TooSmall).fit(self.size)

    def on_mount(self) -> None:
        self.query_one(TooSmall).fit(self.size)
        self.query_one("#runs-places").display = False
        table = self.query_one(DataTable)
        for key, heading in (("mark", " "), *COLUMNS):
            table.add_column(heading, key=key)
        table.focus()
        self.set_interval(AGE_TICK_S, self._tick_ages)
        self._scan()

    # ---- the scanner thread: it only posts messages ------------------------------------------------------
    @work(thread=True, exclusive=True, group="runs-scan", exit_on_error=False)
    def _scan(self) -> None:
        worker = get_current_worker()
        scanner = RunScanner(self.runs_dirs)
        try:
            self._scan_loop(worker, scanner)
        finally:
            scanner.close()  # its threads asking remote places

    def _scan_loop(self, worker, scanner: RunScanner) -> None:
        previous: tuple[RunRow, ...] | None = None
        lines: tuple[str, ...] = ()
        while not worker.is_cancelled:
            if not self.is_current:  # under a dashboard or compare: nothing to show, rescan when back
                self._wake.wait(self.refresh_s)
                self._wake.clear()
                continue
            try:
                rows = scanner.scan()
            except OSError:
                rows = previous or ()
            if (rows, scanner.lines) != (previous, lines):
                previous, lines = rows, scanner.lines
                self.post_message(RunsListed(rows, lines))
            self._wake.wait(self.refresh_s)
            self._wake.clear()

    def rescan(self) -> None:
        self._wake.set()

    def on_unmount(self) -> None:  # the scanner is cancelled: wake it so that it ends now
        self._wake.set()

    def on_screen_resume(self) -> None:
        self.rescan()

    @on(RunsListed)
    def _listed(self, message: RunsListed) -> None:
        self.rows = message.rows
        self.place_lines = message.places
        places = self.query_one("#runs-places", Static)
        places.display = bool(message.places)
        places.update("\n".join(message.places))
        self.scans_seen += 1
        self.marked &= {row.path for row in self.rows}
        self._fill()

    # ---- the table -------------------------------------------------------------------------------------------
    def _fill(self) -> None:
        table = self.query_one(DataTable)
        current = self.current_row()
        shown = [row for row in self.rows if matches(row, self.query_text)]
        self.shown = sort_rows(shown, self.sort_key, self.descending)
        table.clear()
        now = getattr(self.app, "clock", time.time)()
        for row in self.shown:
            table.add_row(*self._cells(row, now), key=str(row.path))
        if current is not None and any(row.path == current.path for row in self.shown):
            table.move_cursor(row=table.get_row_index(str(current.path)), animate=False)
        self._summarise()

    def _cells(self, row: RunRow, now: float) -> list[Text | str]:
        total = f"/{count(row.total_steps)}" if row.total_steps else ""
        best = f"{row.best_label} {number(row.best, 3)}" if row.best is not None else "–"
        speed = count(row.samples_per_s) if row.samples_per_s is not None else "–"
        return [
            Text("●", style="bold") if row.path in self.marked else " ",
            f"{row.host}:{undated_name(row.name)}" if row.host else undated_name(row.name),  # the date: age's
            Text(row.state + (" (no checkpoint)" if row.state is RunState.LOST and not row.has_checkpoint else ""),
                 style=STATE_STYLE.get(row.state, "")),
            _age(row, now), row.dataset, row.arch, row.loss,
            f"{count(row.step)}{total}", number(row.loss_d, 3), number(row.loss_g, 3), best, speed, row.where,
        ]

    def _tick_ages(self) -> None:
        """The age column, every second while the list is shown: a scan only refills rows that changed."""
        if not self.is_current:
            return
        table = self.query_one(DataTable)
        now = getattr(self.app, "clock", time.time)()
        for row in self.shown:
            table.update_cell(str(row.path), "started", _age(row, now))

    def _summarise(self) -> None:
        heading = dict(COLUMNS)[self.sort_key]
        order = "↓" if self.descending else "↑"
        shown = f"{len(self.shown)} of {len(self.rows)} runs" if self.query_text else f"{len(self.rows)} runs"
        marked = f" · {len(self.marked)} marked" if self.marked else ""
        filtered = f" · filter “{self.query_text}”" if self.query_text else ""
        text = f"{shown}{marked}{filtered} · sorted by {heading} {order} · enter opens · ? help"
        if not self.rows:
            text = f"no runs in {', '.join(str(p) for p in self.runs_dirs)} yet: n starts one"
        self.query_one("#runs-summary", Static).update(text)

    def current_row(self) -> RunRow | None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # ---- filter and sort -------------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one("#runs-filter", Input).focus()

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._fill()

    @on(Input.Submitted, "#runs-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def on_key(self, event) -> None:
        filter_input = self.query_one("#runs-filter", Input)
        if event.key == "escape" and filter_input.has_focus:
            event.stop()
            filter_input.value = ""
            self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.descending = self.sort_key in ("step", "samples_per_s", "started", "loss_d", "loss_g")
        self._fill()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self._fill()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == "mark":
            return
        self.descending = not self.descending if key == self.sort_key else False
        self.sort_key = key
        self._fill()

    # ---- actions on runs --------------------------------------------------------------------------------------
    def _need_row(self) -> RunRow | None:
        row = self.current_row()
        if row is None:
            self.notify("no run here", severity="warning")
        return row

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        if (row := self._need_row()) is not None:
            self.app.open_run(row.path)  # type: ignore[attr-defined]

    def action_mark(self) -> None:
        row = self._need_row()
        if row is None:
            return
        self.marked ^= {row.path}
        table = self.query_one(DataTable)
        table.update_cell(str(row.path), "mark", Text("●", style="bold") if row.path in self.marked else " ")
        table.move_cursor(row=min(table.cursor_row + 1, len(self.shown) - 1), animate=False)
        self._summarise()

    def action_compare(self) -> None:
        marked = [row.path for row in self.rows if row.path in self.marked]
        if len(marked) < 2 or len(marked) > MAX_COMPARE:
            self.notify(f"mark 2 to {MAX_COMPARE} runs with space to compare them ({len(marked)} marked)",
                        severity="warning")
            return
        self.app.open_compare(marked)  # type: ignore[attr-defined]

    def action_new_run(self) -> None:
        self.app.open_launcher()  # type: ignore[attr-defined]

    def action_explore(self) -> None:
        row = self._need_row()
        if row is None:
            return
        if not row.has_checkpoint:
            self.notify(f"{row.name} has no checkpoint yet", severity="warning")
            return
        self.app.open_explorer(row.path)  # type: ignore[attr-defined]

    def action_resume(self) -> None:
        row = self._need_row()
        if row is None:
            return
        if row.is_live:
            self.notify(f"{row.name} is {row.state}: it is still training", severity="warning")
            return
        if not row.has_config:
            self.notify(f"{row.name} never got as far as its configuration: delete it (d) and start again",
                        severity="warning")
            return
        # killed before its first checkpoint: `gantui resume` starts it again at step 0
        step = row.step if row.has_checkpoint else 0
        self.app.push_screen(ResumeScreen(row.name, step, row.total_steps, row.has_checkpoint),
                             partial(self._resume, row))

    def _resume(self, row: RunRow, steps: int | None) -> None:
        if steps is None:
            return
        try:
            self.app.resume_run(row.path, steps)  # type: ignore[attr-defined]
        except OSError as error:
            self.notify(f"cannot start gantui resume: {error}", severity="error")

    def action_delete(self) -> None:
        row = self._need_row()
        if row is None:
            return
        if row.is_live:
            self.notify(f"{row.name} is {row.state}: stop it before deleting it", severity="error")
            return
        if row.host:
            self.notify(f"{row.name} is on {row.host}: delete it there (gantui removes nothing on a host)",
                        severity="warning")
            return
        question = f"Delete {row.name} ({row.state}, step {count(row.step)})? Its whole folder is removed: {row.path}"
        self.app.push_screen(ChoiceScreen(question, [("y", "Delete", "delete"), ("n", "Keep", "keep")]),
                             partial(self._delete, row))

    def _delete(self, row: RunRow, choice: str | None) -> None:
        if choice != "delete":
            return
        try:
            shutil.rmtree(row.path)
        except OSError as error:
            self.notify(f"cannot delete {row.name}: {error}", severity="error")
            return
        self.marked.discard(row.path)
        self.rows = tuple(r for r in self.rows if r.path != row.path)
        self._fill()
        self.notify(f"deleted {row.name}", timeout=4)
        self.rescan()

    def action_help(self) -> None:
        lines = key_lines(self.BINDINGS, self.ACTION_HELP)
        self.app.push_screen(HelpScreen("Runs keys", lines, "Runs folders: " +
                                        ", ".join(str(p) for p in self.runs_dirs)))
