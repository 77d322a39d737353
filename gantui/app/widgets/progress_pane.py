"""Progress: epoch and step bars, training time, ETA and throughput, all from the run directory."""

from __future__ import annotations

import math

from textual.content import Content

from gantui.app.format import count, duration, meter
from gantui.app.runview.follow import RunPoll
from gantui.app.widgets.text_pane import TextPane
from gantui.engine.run.state import RunState


class ProgressPane(TextPane):
    """Bars for the current epoch and the whole run; elapsed training time, ETA and samples/s."""

    DEFAULT_CSS = """
    ProgressPane {
        height: auto;
        min-height: 3;
    }
    """

    TITLE = "Progress"

    def _lines(self, poll: RunPoll) -> list[Content]:
        width = max(self.size.width, 20)
        latest = poll.metrics.latest
        step, total = poll.step, poll.total_steps
        per_epoch = int(poll.status.get("steps_per_epoch", 0) or 0)
        epochs = math.ceil(total / per_epoch) if per_epoch and total else 0
        # Epoch k runs over steps (k-1)·n+1 … k·n: at step k·n epoch k is complete (100%), not epoch k+1 at 0%.
        epoch = max(math.ceil(step / per_epoch), 1) if per_epoch else 0
        epoch = min(epoch, epochs) if epochs else epoch
        length = min(per_epoch, total - (epoch - 1) * per_epoch) if total else per_epoch  # --steps: a short last one
        in_epoch = min((step - (epoch - 1) * per_epoch) / max(length, 1), 1.0) if per_epoch else None
        log_every = int(poll.config.get("log_every", 0) or 0)
        if per_epoch and total and per_epoch < 4 * log_every:  # epochs of a few log rows: the bar counts epochs
            in_epoch = step / total
        epoch_text = f"epoch {epoch}/{epochs}" if epochs else "epoch ?"
        step_text = f"step {count(step)}/{count(total)}" if total else f"step {count(step)}"
        label_width = max(len(epoch_text), len(step_text)) + 2
        bar = max(width - label_width - 5, 4)
        overall = step / total if total else None
        lines = [
            Content.assemble(f"{epoch_text:<{label_width}}", (meter(in_epoch, bar), "$accent"),
                             f" {_percent(in_epoch)}"),
            Content.assemble(f"{step_text:<{label_width}}", (meter(overall, bar), "$primary"),
                             f" {_percent(overall)}"),
            Content(f"elapsed {duration(latest.get('time'))} · ETA {self._eta(poll)} · "
                    f"{count(latest.get('samples_per_s'))} samples/s"),
        ]
        return lines

    @staticmethod
    def _eta(poll: RunPoll) -> str:
        if poll.state is RunState.FINISHED:
            return "done"
        if poll.state in (RunState.STOPPED, RunState.FAILED, RunState.DIVERGED, RunState.LOST):
            return "–"
        if poll.state is RunState.PAUSED:
            return "paused"
        rate, remaining = poll.metrics.rate, poll.total_steps - poll.step
        if not rate or remaining <= 0:
            return "?"
        return duration(remaining / rate)


def _percent(fraction: float | None) -> str:
    return "  ?%" if fraction is None else f"{fraction * 100:3.0f}%"
