"""The dashboard's top line: run name, state, step and device (and, for several processes, how many)."""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from gantui.app.format import count, processes
from gantui.app.runview.follow import RunPoll
from gantui.engine.run.layout import undated_name
from gantui.engine.run.state import RunState

STATE_STYLES = {
    RunState.RUNNING: "$success", RunState.PAUSED: "$warning", RunState.STARTING: "$text-muted",
    RunState.FINISHED: "$primary", RunState.STOPPED: "$secondary", RunState.FAILED: "$error",
    RunState.DIVERGED: "$error", RunState.LOST: "$error", RunState.INCOMPLETE: "$error",
}


class RunTitle(Widget):
    """gantui ─ NAME ─ STATE ─ step N / TOTAL ─ on DEVICE (NAME), or ─ N processes · DEVICE (NAME)."""

    DEFAULT_CSS = """
    RunTitle {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, name: str, *, host: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.host = host  # a remote run's host: its name reads `host:run`, as scp would write it
        self.run_name = f"{host}:{name}" if host else name
        self.short_name = f"{host}:{undated_name(name)}" if host else undated_name(name)
        self.poll: RunPoll | None = None

    def show(self, poll: RunPoll) -> None:
        previous = self.poll
        self.poll = poll
        if previous is None or _shown(poll) != _shown(previous):
            self.refresh()

    def render(self) -> RenderResult:
        """The widest line that fits: the device shortened, then dropped, then `gantui` and the name's date,
        then the name elided; the state, the step (and how many processes) always stay."""
        poll = self.poll
        width = self.content_size.width or 80
        if poll is None:
            return Content.assemble(("gantui", "bold"), " ─ ", _elided(self.run_name, width - 9))
        total = f" / {count(poll.total_steps)}" if poll.total_steps else ""
        tail: list[str | tuple[str, str]] = [
            " ─ ", (poll.state, f"bold {STATE_STYLES.get(poll.state, '')}"), f" ─ step {count(poll.step)}{total}"]
        for where in _where(poll):
            line = Content.assemble(("gantui", "bold"), " ─ ", self.run_name, *tail, *((where,) if where else ()))
            if line.cell_length <= width:
                return line
        if poll.world_size > 1:  # how many processes stays, like the state and the step
            tail.append(f" ─ {processes(poll.world_size, poll.nodes)}")
        room = width - Content.assemble(*tail).cell_length
        return Content.assemble(_elided(self.short_name, room), *tail)


def _shown(poll: RunPoll) -> tuple:
    """What the title shows of a poll: it redraws only when this changes."""
    return (poll.state, poll.step, poll.total_steps, poll.status.get("device"), poll.status.get("device_name"),
            poll.world_size, poll.nodes)


def _where(poll: RunPoll) -> tuple[str, ...]:
    """Where the run trains, longest first, down to nothing: ` ─ on cpu (NAME)`, or for several processes
    ` ─ 2 processes · cuda (NAME)` (the device's kind: the ranks have one device each), never dropping how
    many processes."""
    device = str(poll.status.get("device") or "")
    device_name = str(poll.status.get("device_name") or "")
    if poll.world_size <= 1:
        return tuple(f" ─ on {where}" for where in (f"{device} ({device_name})" if device_name else device, device)
                     if where) + ("",)
    many, kind = processes(poll.world_size, poll.nodes), device.split(":")[0]
    named = f"{kind} ({device_name})" if device_name else kind
    return tuple(f" ─ {where}" for where in (f"{many} · {named}" if kind else many, f"{many} · {kind}", many))


def _elided(name: str, room: int) -> str:
    """`name` in `room` cells, its middle replaced by `…` (the date's start and the name's end are what tell
    runs apart)."""
    if len(name) <= room:
        return name
    if room < 3:
        return name[: max(room, 0)]
    keep = room - 1
    return name[: keep // 2] + "…" + name[len(name) - (keep - keep // 2):]
