"""Resume a stopped run: how many steps in all it should train to (a new total, as `gantui resume --steps`)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ResumeScreen(ModalScreen[int | None]):
    """Dismissed with the new total number of steps, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str, step: int, total_steps: int, from_checkpoint: bool = True) -> None:
        super().__init__()
        self.run_name = name
        self.step = step
        self.from_checkpoint = from_checkpoint
        self.suggested = max(total_steps, step) + max(total_steps, step, 100)

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-dialog", classes="dialog") as dialog:
            dialog.border_title = "Resume"
            dialog.border_subtitle = "enter resumes · escape cancels"
            start = (f"Resume {self.run_name} from its last checkpoint (step {self.step:,})." if self.from_checkpoint
                     else f"{self.run_name} has no checkpoint yet: it starts again from step 0.")
            yield Static(f"{start} Train until step:", markup=False)
            yield Input(str(self.suggested), id="resume-steps", type="integer")
            yield Static("", id="resume-problem", markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        steps = int(text) if text.isdigit() else 0
        if steps <= self.step:
            self.query_one("#resume-problem", Static).update(f"the new total must be above step {self.step:,}")
            return
        self.dismiss(steps)

    def action_cancel(self) -> None:
        self.dismiss(None)
