"""How `gantui train` shows a run in the shell: a rich progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from gantui.engine.events import Event, MetricsLogged, Notice, RunEnded, RunStarted

PLAIN_EVERY_S = 10.0


def metrics_text(event: MetricsLogged) -> str:
    return (f"loss_d {event.loss_d:.4f}  loss_g {event.loss_g:.4f}  D(x) {event.d_real:.3f}  "
            f"D(G(z)) {event.d_fake:.3f}  {event.samples_per_s:,.0f} samples/s")


class RichProgress:
    """A live progress bar with the latest losses and throughput (for a terminal)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False)
        self.task = None

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.progress.start()
            self.task = self.progress.add_task("training", total=event.total_steps, completed=event.step, info="")
        elif isinstance(event, MetricsLogged) and self.task is not None:
            self.progress.update(self.task, completed=event.step, info=metrics_text(event))
        elif isinstance(event, Notice):
            self.console.print(f"[yellow]{event.kind}[/]: {event.message}")
        elif isinstance(event, RunEnded):
            self.progress.stop()


class PlainProgress:
    """One line every few seconds, for nohup logs and CI where a bar would be noise."""

    def __init__(self, stream=None, every_s: float = PLAIN_EVERY_S) -> None:
        self.stream = stream or sys.stdout
        self.every_s = every_s
        self.last = 0.0
        self.total = 0

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.total = event.total_steps
            self.write(f"training {event.config['dataset']} + {event.config['arch']} on {event.device} "
                       f"({event.device_name}), steps {event.step}/{event.total_steps}")
        elif isinstance(event, MetricsLogged):
            now = time.monotonic()
            if now - self.last >= self.every_s or event.step == self.total:
                self.last = now
                self.write(f"step {event.step}/{self.total}  epoch {event.epoch}  {metrics_text(event)}")
        elif isinstance(event, Notice):
            self.write(f"{event.kind}: {event.message}")
        elif isinstance(event, RunEnded):
            self.write(f"{event.state} at step {event.step}" + (f": {event.message}" if event.message else ""))


def progress_sink(plain: bool | None = None):
    """Rich on a terminal, plain lines when stdout is not one (or when asked)."""
    if plain is None:
        plain = not sys.stdout.isatty()
    return PlainProgress() if plain else RichProgress()
