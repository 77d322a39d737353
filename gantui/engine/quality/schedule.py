"""When the next quality evaluation comes: every `eval_every` steps, or (not chosen) spaced by its cost.

A person who gives `--eval-every N` gets an evaluation every N steps exactly. Left to the default, the
interval adapts so that evaluation stays at most `EVAL_SHARE` of the run's time: after each evaluation the
next comes once the training since it is at least 9× what it cost, and once the whole run's training is
at least 9× all its evaluations (the first, at the default interval, may have cost more) — never sooner
than the default interval, rounded up to a tidy step. Which steps are evaluated then depends on timings;
what each evaluation measures does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EVAL_SHARE = 0.10  # at most this share of the run's time goes to evaluations when the interval is automatic
TIDY_STEP = 100  # automatic evaluation steps are multiples of this (of log_every when it does not divide it)


def tidy_unit(log_every: int) -> int:
    """What automatic evaluation steps are multiples of: 100 when log intervals end there, else log_every."""
    return TIDY_STEP if TIDY_STEP % log_every == 0 else log_every


def round_up(step: float, unit: int) -> int:
    return int(math.ceil(step / unit - 1e-9)) * unit


@dataclass
class EvalSchedule:
    """The evaluation steps of one run. Automatic, rank 0 decides (`record`) and several ranks share its
    `next_step` and `last_from` (`shared` / `adopt`), so every rank evaluates at the same steps."""

    every: int  # the interval, or the least interval when automatic; 0: no evaluations
    automatic: bool = False
    unit: int = TIDY_STEP  # automatic steps are multiples of this
    next_step: int = 0  # automatic: the next evaluation's step
    last_from: int = 0  # automatic: the run's last step gets an evaluation when it is at least this
    last_step: int = 0  # the latest evaluation's step (or where this process began)
    training_seconds: float = 0.0  # automatic: training (evaluations excluded) since this process began
    eval_seconds: float = 0.0  # automatic: what its evaluations cost, one-off classifier training excluded

    @classmethod
    def start(cls, every: int, automatic: bool, log_every: int, start_step: int = 0) -> EvalSchedule:
        """The schedule from step `start_step` on (a resume begins its budget afresh, at the next multiple
        of the least interval)."""
        schedule = cls(every, automatic and every > 0, tidy_unit(log_every), last_step=start_step)
        if every > 0:
            schedule.next_step = (start_step // every + 1) * every
            schedule.last_from = max(every, start_step + math.ceil(every / 2))
        return schedule

    def due(self, step: int, total_steps: int) -> bool:
        """Whether to evaluate after `step`. Fixed: every `every` steps, and at the last step when at least
        half an interval has passed since the previous one. Automatic: at `next_step`, and at the last step
        when half the least interval has passed and the budget allows one more evaluation. A run shorter
        than one interval is never evaluated (no classifier to train)."""
        if self.every <= 0:
            return False
        if not self.automatic:
            since_previous = step % self.every
            return since_previous == 0 or (step == total_steps >= self.every and 2 * since_previous >= self.every)
        return step == self.next_step or step == total_steps >= self.last_from

    def record(self, step: int, training_seconds: float, eval_seconds: float, setup_seconds: float = 0.0) -> int:
        """Note an evaluation at `step` after `training_seconds` of training since the previous one (or the
        process's start), which cost `eval_seconds` and, before it, `setup_seconds` once (building the
        evaluator: in the budget, not in the estimate of the next); returns the next evaluation's step."""
        step_seconds = training_seconds / max(step - self.last_step, 1)
        self.training_seconds += training_seconds
        self.eval_seconds += eval_seconds + setup_seconds
        self.last_step = step
        if not self.automatic:
            self.next_step = (step // self.every + 1) * self.every
            return self.next_step
        self.next_step = next_step(step, self.every, self.unit, step_seconds, eval_seconds,
                                   self.training_seconds, self.eval_seconds)
        # one more at the run's last step when half the least interval has passed and the budget allows it
        budget = _steps_for(RATIO * (self.eval_seconds + eval_seconds) - self.training_seconds, step_seconds)
        self.last_from = step + max(math.ceil(self.every / 2), math.ceil(budget))
        return self.next_step

    def shared(self) -> tuple[int, int]:
        """What the other ranks need of rank 0's automatic schedule."""
        return self.next_step, self.last_from

    def adopt(self, shared: tuple[int, int]) -> None:
        self.next_step, self.last_from = shared


RATIO = (1 - EVAL_SHARE) / EVAL_SHARE  # 9: seconds of training per second of evaluation


def _steps_for(seconds: float, step_seconds: float) -> float:
    if step_seconds <= 0 or not math.isfinite(step_seconds):
        return 0.0
    return max(seconds, 0.0) / step_seconds


def next_step(step: int, least: int, unit: int, step_seconds: float, eval_seconds: float,
              training_total: float = 0.0, eval_total: float = 0.0) -> int:
    """The automatic schedule's arithmetic: the step after `step` at which the training since it is at least
    9× `eval_seconds`, and the run's training `training_total` (so far, plus what comes) at least 9× its
    evaluations `eval_total` and one more like the latest — at least `least` steps on, a multiple of `unit`.

    >>> next_step(500, 500, 100, step_seconds=0.005, eval_seconds=0.5)  # 0.5 s × 9 = 4.5 s: 900 steps on
    1400
    >>> next_step(1000, 500, 100, step_seconds=0.005, eval_seconds=0.1)  # cheap: the least interval
    1500
    """
    since_this = _steps_for(RATIO * eval_seconds, step_seconds)
    overall = _steps_for(RATIO * (eval_total + eval_seconds) - training_total, step_seconds)
    return round_up(step + max(least, since_this, overall), unit)
