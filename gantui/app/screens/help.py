"""`?`: every key of the screen below, with what it does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def key_lines(bindings: Iterable[Binding], action_help: Mapping[str, str], skip: tuple[str, ...] = ()
              ) -> list[tuple[str, str]]:
    """A help line (keys, what they do) for each binding whose action is not in `skip`."""
    return [(binding.key_display or binding.key, action_help.get(binding.action, binding.description))
            for binding in bindings if binding.action not in skip]


class HelpScreen(ModalScreen[None]):
    """A list of (keys, description, more) lines; any of escape, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q,f1", "close", "Close")]

    def __init__(self, title: str, lines: list[tuple[str, str]], notes: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.notes = notes

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self.lines), default=4) + 2
        body = Content("\n").join(
            Content.assemble((f"{keys:>{width}}", "bold $accent"), "  ", text) for keys, text in self.lines
        )
        with VerticalScroll(id="help-dialog", classes="dialog") as scroll:
            scroll.border_title = self.title_text
            scroll.border_subtitle = "escape closes"
            yield Static(body, id="help-keys")
            if self.notes:
                yield Static(self.notes, id="help-notes", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
