"""The log interval: its steps' figures summed on the device, its counts and its clock, read back once.

The device is synced once per interval (`flush`), never per step: a `.item()` a step would make the host
wait for every kernel of every step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from gantui.engine.devices import memory_figures
from gantui.engine.events import MetricsLogged
from gantui.engine.step import StepResult

FIGURES = tuple(field.name for field in dataclasses.fields(StepResult))  # the order of IntervalMeter.sums
# An interval where one of these is NaN or Inf diverged (a grad norm may overflow under fp16: the scaler skips it)
DIVERGENCE_FIGURES = ("loss_d", "loss_g", "d_real", "d_fake")


@dataclass(frozen=True)
class IntervalFigures:
    """One interval's raw figures, read back from the device: what several ranks combine before reporting."""

    sums: tuple[float, ...]  # in FIGURES' order
    steps: int
    samples: int
    seconds: float  # of training


class IntervalMeter:
    """One log interval at a time: `add` each step's result, `flush` when `due` to get its MetricsLogged.

    Its clock counts training only: time inside `paused()` counts nowhere, time inside `set_aside()` (an
    evaluation) counts in the run's time but not in the interval's samples_per_s.
    """

    def __init__(self, device: torch.device, log_every: int, total_steps: int, count_skipped: bool,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.device, self.log_every, self.total_steps, self.clock = device, log_every, total_steps, clock
        self.count_skipped = count_skipped  # fp16: report how many steps the GradScaler skipped
        self.elapsed = 0.0  # seconds of training since the run began, across resumes: to the last flush and evaluation
        self.sums = torch.zeros(len(FIGURES), device=device)
        self.steps = self.samples = 0
        self._seconds = 0.0  # this interval's training time before its clock last stopped
        self._since: float | None = self.clock()  # when the clock last started; None while stopped

    def due(self, step: int) -> bool:
        """Whether `step` ends a log interval (every log_every steps, and the run's last step)."""
        return step % self.log_every == 0 or step == self.total_steps

    def add(self, result: StepResult, samples: int) -> None:
        self.sums += torch.stack([getattr(result, name) for name in FIGURES])
        self.steps += 1
        self.samples += samples

    def finite(self) -> bool:
        """Whether every figure summed so far is finite (a device sync: call it rarely)."""
        return bool(torch.isfinite(self.sums).all())

    # ---- the clock -------------------------------------------------------------------------------------
    def restart(self) -> None:
        """Begin a fresh interval now (the loop's start): nothing summed, nothing timed."""
        self.sums.zero_()
        self.steps = self.samples = 0
        self._seconds, self._since = 0.0, self.clock()

    def now(self) -> float:
        """Seconds of training since the run began, this interval's so far included."""
        running = self.clock() - self._since if self._since is not None else 0.0
        return self.elapsed + self._seconds + running

    def _stop_clock(self) -> None:
        if self._since is not None:
            self._seconds += self.clock() - self._since
            self._since = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The run is paused meanwhile: the time counts nowhere."""
        self._stop_clock()
        try:
            yield
        finally:
            self._since = self.clock()

    @contextlib.contextmanager
    def set_aside(self) -> Iterator[None]:
        """Work that is part of the run but not of its steps: in the run's time, not in samples_per_s."""
        start = self.clock()
        try:
            with self.paused():
                yield
        finally:
            self.elapsed += self.clock() - start

    # ---- the interval's one sync -----------------------------------------------------------------------
    def flush(self, step: int, epoch: int,
              combine: Callable[[IntervalFigures], IntervalFigures] | None = None) -> MetricsLogged:
        """The interval's means (losses, D outputs) and figures at its end; the next interval starts here.
        `combine` (several ranks) turns this process's figures into the run's."""
        figures = IntervalFigures(tuple(self.sums.tolist()), self.steps, self.samples, 0.0)  # the sync point
        self._stop_clock()
        figures = dataclasses.replace(figures, seconds=self._seconds)
        if combine is not None:
            figures = combine(figures)
        sums = dict(zip(FIGURES, figures.sums, strict=True))
        seconds, steps, samples = figures.seconds, figures.steps, figures.samples
        self.elapsed += seconds
        self.restart()  # reporting counts as training: the next interval's clock runs from here
        allocated, reserved, peak, rss = memory_figures(self.device)
        return MetricsLogged(
            step=step, epoch=epoch, time=round(self.elapsed, 3), loss_d=sums["loss_d"] / steps,
            loss_g=sums["loss_g"] / steps, d_real=sums["d_real"] / steps, d_fake=sums["d_fake"] / steps,
            grad_norm_d=sums["grad_norm_d"], grad_norm_g=sums["grad_norm_g"],  # measured on the last step only
            samples_per_s=samples / seconds if seconds > 0 else 0.0, mem_allocated=allocated,
            mem_reserved=reserved, mem_peak=peak, rss=rss, total_steps=self.total_steps,
            skipped_steps=round(sums["skipped"]) if self.count_skipped else None)


def first_non_finite(metrics: MetricsLogged) -> tuple[str, float] | None:
    """The first of DIVERGENCE_FIGURES that is NaN or Inf in `metrics`, with its value; None when all are finite."""
    for name in DIVERGENCE_FIGURES:
        value = getattr(metrics, name)
        if not math.isfinite(value):
            return name, value
    return None
