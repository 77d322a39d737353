"""Open an existing run: every run under the runs folders, newest first, live or finished."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from gantui.app.format import count
from gantui.engine.run.reader import RunSnapshot, list_runs


def describe_run(run: RunSnapshot) -> str:
    total = f"/{count(run.total_steps)}" if run.total_steps else ""
    return f"{run.name}  {run.state} · step {count(run.step)}{total}"


class RunPickerScreen(ModalScreen[Path | None]):
    """Dismissed with the chosen run folder, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, runs_dirs: list[Path]) -> None:
        super().__init__()
        self.runs = list_runs(runs_dirs)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog", classes="dialog") as dialog:
            dialog.border_title = "Open a run"
            dialog.border_subtitle = "enter opens · escape cancels"
            if self.runs:
                yield OptionList(*[Option(describe_run(run), id=str(index)) for index, run in enumerate(self.runs)],
                                 id="picker-runs")
            else:
                yield Static("No runs yet: start one from the launcher.", markup=False)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.runs[int(event.option.id or 0)].path)

    def action_cancel(self) -> None:
        self.dismiss(None)
