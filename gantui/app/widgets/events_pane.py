"""Events: starts, checkpoints, warnings, alarms, errors and the end, newest last, with their time."""

from __future__ import annotations

from typing import Any

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from gantui.app.format import clock, count
from gantui.engine.run.layout import BEST_CHECKPOINT

_STYLES = {"warning": "$warning", "alarm": "$error", "error": "$error", "checkpoint": "$success",
           "end": "bold", "start": "bold"}


def describe(event: dict[str, Any]) -> str:
    """One line for an events.jsonl record."""
    kind = str(event.get("event", "?"))
    step = f"step {count(event.get('step'))}" if event.get("step") is not None else ""
    if kind == "start":
        resumed = "resumed" if event.get("resumed") else "started"
        return f"{resumed} at {step} on {event.get('device', '?')}"
    if kind == "checkpoint":
        best = str(event.get("path", "")).endswith(BEST_CHECKPOINT)  # the best FID so far, beside the last
        return f"{'best-FID checkpoint' if best else 'checkpoint'} at {step}"
    if kind == "end":
        message = f": {event['message']}" if event.get("message") else ""
        return f"{event.get('state', 'ended')} at {step}{message}"
    if kind in ("warning", "alarm", "error", "info"):
        return f"{kind}: {event.get('message', '')}"
    return f"{kind} at {step}" if step else kind


class EventsPane(Widget):
    """The latest events that fit, newest at the bottom."""

    DEFAULT_CSS = """
    EventsPane {
        height: 1fr;
        min-height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Events"
        self.events: tuple[dict[str, Any], ...] = ()

    def show(self, events: tuple[dict[str, Any], ...]) -> None:
        if events is not self.events:
            self.events = events
            self.refresh()

    def render(self) -> RenderResult:
        if not self.events:
            return Content("no events yet")
        height = max(self.size.height, 1)
        lines = []
        for event in self.events[-height:]:
            kind = str(event.get("event", ""))
            time_text = clock(event["time"]) if isinstance(event.get("time"), (int, float)) else "--:--:--"
            lines.append(Content.assemble((time_text, "dim"), " ", (describe(event), _STYLES.get(kind, ""))))
        return Content("\n").join(lines)
