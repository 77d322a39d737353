"""A question with a few answers, each with its own key (and a button): stop a run? leave it running?"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ChoiceScreen(ModalScreen[str | None]):
    """Dismissed with the chosen answer's value, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, question: str, choices: list[tuple[str, str, str]]) -> None:
        """`choices`: (key, label, value); the label shows as a button named with its key."""
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog", classes="dialog"):
            yield Static(self.question, id="choice-question", markup=False)
            with Horizontal(id="choice-buttons"):
                for key, label, value in self.choices:
                    yield Button(Content(f"{label} ({key})"), id=f"choice-{value}", variant="primary"
                                 if value == self.choices[0][2] else "default")

    def on_key(self, event: Key) -> None:
        for key, _label, value in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(str(event.button.id).removeprefix("choice-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
