"""A pane of text lines computed from the latest poll of a run, redrawn only when the text changes."""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from gantui.app.runview.follow import RunPoll


class TextPane(Widget):
    """Base of the Device, Progress and Quality panes: subclasses say what to show in `_lines`."""

    TITLE = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = self.TITLE
        self.poll: RunPoll | None = None
        self._shown: list[Content] = [Content("waiting for the run…")]

    def show(self, poll: RunPoll) -> None:
        self.poll = poll
        self._update()

    def on_resize(self) -> None:
        self._update()

    def _update(self) -> None:
        """Refresh only when the text changed, and lay out again only when its height did (polls are often)."""
        if self.poll is None:
            return
        lines = self._lines(self.poll)
        if [line.plain for line in lines] == [line.plain for line in self._shown]:
            return
        layout = len(lines) != len(self._shown)
        self._shown = lines
        self.refresh(layout=layout)

    def render(self) -> RenderResult:
        return Content("\n").join(self._shown)

    def _lines(self, poll: RunPoll) -> list[Content]:
        raise NotImplementedError
