"""Alarms that say, while training runs, that a GAN is failing in one of the ways GANs fail.

`AlarmMonitor` is fed plain floats: the log interval's means (`observe_metrics`) and evaluation rows
(`observe_eval`). Each alarm fires once when its condition holds, names what it saw and one thing to try,
and re-arms only after the condition has cleared (with some margin), so a lasting problem is one message.
NaN/Inf losses are not watched here: the trainer ends such a run as `diverged` itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from gantui.engine.config import SMOOTHED_LOSSES

MODE_COLLAPSE = "mode collapse"
DISCRIMINATOR_WINS = "discriminator wins"
DIVERGENCE = "divergence"
OSCILLATION = "oscillation"


@dataclass(frozen=True)
class AlarmThresholds:
    # mode collapse: from evaluation rows
    min_coverage: float = 0.5  # fewer than half the classes hold 2% of the samples
    coverage_recovered: float = 0.7
    # where there are no classes: recall and coverage in the random embedding (1 real against real, 0 for one
    # picture repeated); both low means the generated pictures miss most of the real ones' neighbourhoods
    min_recall: float = 0.1
    min_embedding_coverage: float = 0.2
    recall_recovered: float = 0.2
    embedding_coverage_recovered: float = 0.3
    min_diversity: float = 0.5  # generated samples half as spread out as real ones
    diversity_recovered: float = 0.6
    # discriminator wins: D loss near 0 and D(G(z)) near 0 for several intervals in a row
    d_loss_near_zero: float = 0.05
    d_fake_near_zero: float = 0.05
    wins_intervals: int = 5
    # divergence: a gradient norm far above the largest seen so far (after a warm-up), or not finite
    explode_factor: float = 10.0
    explode_recovered: float = 2.0
    explode_absolute: float = 1e6
    warmup_intervals: int = 10
    # oscillation: variance of a loss over a short window far above its running level
    window: int = 8
    spike_factor: float = 10.0
    spike_recovered: float = 3.0
    min_spread: float = 0.1  # standard deviations below this never count as oscillation
    level_smoothing: float = 0.05


@dataclass(frozen=True)
class Alarm:
    kind: str  # one of the four names above
    step: int
    saw: str  # what was measured
    advice: str  # one thing to try

    @property
    def message(self) -> str:
        return f"{self.kind} at step {self.step}: {self.saw}. Try {self.advice}"


class _Latch:
    """Fires once when a condition becomes true, re-arms once it is clearly false again."""

    def __init__(self) -> None:
        self.active: Alarm | None = None

    def update(self, alarm: Alarm | None, recovered: bool) -> Alarm | None:
        if self.active is None and alarm is not None:
            self.active = alarm
            return alarm
        if self.active is not None and recovered:
            self.active = None
        return None


class _RunningLevel:
    """An exponential moving average that learns slowly while the value it follows is out of line."""

    def __init__(self, smoothing: float) -> None:
        self.smoothing = smoothing
        self.value: float | None = None
        self.count = 0

    def update(self, observed: float, outlier: bool) -> None:
        if not math.isfinite(observed):
            return
        self.count += 1
        if self.value is None:
            self.value = observed
            return
        rate = self.smoothing / 10 if outlier else self.smoothing
        self.value += rate * (observed - self.value)


def _loss_d_floor(loss: str, label_smoothing: float) -> float:
    """The least D's loss can be: 0, except for bce with one-sided label smoothing, whose real term cannot go
    below the entropy of its target t = 1 - S (and D's loss is the mean of the real and the fake term)."""
    target = 1.0 - label_smoothing
    if loss != "bce" or target >= 1.0:
        return 0.0
    return -(target * math.log(target) + (1 - target) * math.log(1 - target)) / 2


class AlarmMonitor:
    """Watches a run's metrics and evaluations; `observe_*` return the alarms that fired just now."""

    def __init__(self, loss: str = "bce", thresholds: AlarmThresholds | None = None,
                 label_smoothing: float = 0.0) -> None:
        self.loss = loss
        self.loss_d_floor = _loss_d_floor(loss, label_smoothing)  # "D wins" is D's loss near this
        self.limits = thresholds or AlarmThresholds()
        self.latches = {kind: _Latch() for kind in (MODE_COLLAPSE, DISCRIMINATOR_WINS, DIVERGENCE, OSCILLATION)}
        self.cleared: list[str] = []  # alarm kinds that re-armed during the last observe call
        self._wins_streak = 0
        self._norm_peaks = {"grad_norm_d": 0.0, "grad_norm_g": 0.0}  # largest ordinary norm seen so far
        self._norm_count = 0
        self._windows = {name: deque(maxlen=self.limits.window) for name in ("loss_d", "loss_g")}
        self._spread_levels = {name: _RunningLevel(self.limits.level_smoothing) for name in ("loss_d", "loss_g")}

    @property
    def active(self) -> list[Alarm]:
        """Alarms that fired and have not cleared, oldest first."""
        alarms = [latch.active for latch in self.latches.values() if latch.active is not None]
        return sorted(alarms, key=lambda alarm: alarm.step)

    # ---- per log interval ---------------------------------------------------------------------------
    def observe_metrics(self, step: int, loss_d: float, loss_g: float, d_real: float, d_fake: float,
                        grad_norm_d: float, grad_norm_g: float) -> list[Alarm]:
        self.cleared = []
        fired = [
            self._check_discriminator_wins(step, loss_d, d_real, d_fake),
            self._check_divergence(step, {"grad_norm_d": grad_norm_d, "grad_norm_g": grad_norm_g}),
            self._check_oscillation(step, {"loss_d": loss_d, "loss_g": loss_g}),
        ]
        return [alarm for alarm in fired if alarm is not None]

    def _latch(self, kind: str, alarm: Alarm | None, recovered: bool) -> Alarm | None:
        latch = self.latches[kind]
        was_active = latch.active is not None
        fired = latch.update(alarm, recovered)
        if was_active and latch.active is None:
            self.cleared.append(kind)
        return fired

    def _check_discriminator_wins(self, step: int, loss_d: float, d_real: float, d_fake: float) -> Alarm | None:
        limits = self.limits
        if self.loss == "wgan-gp":  # a critic's loss has no "near 0 means it wins" reading
            return None
        above_floor = loss_d - self.loss_d_floor
        winning = above_floor < limits.d_loss_near_zero and d_fake < limits.d_fake_near_zero
        self._wins_streak = self._wins_streak + 1 if winning else 0
        alarm = None
        if self._wins_streak >= limits.wins_intervals:
            floor = f" (label smoothing's floor {self.loss_d_floor:.3g})" if self.loss_d_floor else ""
            alarm = Alarm(DISCRIMINATOR_WINS, step,
                          f"D loss {loss_d:.3g}{floor} and D(G(z)) {d_fake:.3g} (D(x) {d_real:.2f}) for "
                          f"{self._wins_streak} log intervals: D tells every generated sample from a real one",
                          "a lower discriminator learning rate (--lr-d, half of --lr)" + (
                              ", or one-sided label smoothing (--label-smoothing 0.1)"
                              if self.loss in SMOOTHED_LOSSES else ""))
        recovered = above_floor > 2 * limits.d_loss_near_zero or d_fake > 2 * limits.d_fake_near_zero
        return self._latch(DISCRIMINATOR_WINS, alarm, recovered)

    def _check_divergence(self, step: int, norms: Mapping[str, float]) -> Alarm | None:
        """Exploding: never seen before by an order of magnitude (a D whose gradients sank to ~0 while it
        saturated and then came back is no explosion, so the reference is the peak, not a running level)."""
        limits = self.limits
        warm = self._norm_count >= limits.warmup_intervals
        self._norm_count += 1
        alarm, recovered = None, True
        for name, norm in norms.items():
            peak = self._norm_peaks[name]
            finite = math.isfinite(norm)
            far_above = warm and peak > 0 and finite and norm > limits.explode_factor * peak
            exploding = not finite or norm > limits.explode_absolute or far_above
            if exploding and alarm is None:
                which = "D" if name.endswith("_d") else "G"
                if far_above:
                    seen = f"{norm / peak:.0f}× the largest before it, {peak:.3g}"
                else:
                    seen = "not finite" if not finite else f"above {limits.explode_absolute:.0e}"
                alarm = Alarm(DIVERGENCE, step, f"{which}'s gradient norm reached {norm:.3g} ({seen})",
                              "a lower --lr (half or less), or --loss wgan-gp")
            if exploding or (warm and peak > 0 and norm > limits.explode_recovered * peak):
                recovered = False
            if finite and not exploding:
                self._norm_peaks[name] = max(peak, norm)
        return self._latch(DIVERGENCE, alarm, recovered)

    def _check_oscillation(self, step: int, losses: Mapping[str, float]) -> Alarm | None:
        limits = self.limits
        alarm, recovered = None, True
        for name, value in losses.items():
            window, level = self._windows[name], self._spread_levels[name]
            if not math.isfinite(value):
                continue
            window.append(value)
            if len(window) < window.maxlen:
                continue
            mean = sum(window) / len(window)
            spread = math.sqrt(sum((v - mean) ** 2 for v in window) / (len(window) - 1))
            warm = level.count >= limits.warmup_intervals and level.value is not None
            ratio = spread / max(level.value, 1e-12) if warm else 0.0
            spiking = warm and spread > limits.min_spread and ratio > limits.spike_factor
            if spiking and alarm is None:
                alarm = Alarm(OSCILLATION, step,
                              f"{name} swings by ±{spread:.2g} over the last {len(window)} log intervals, "
                              f"{ratio:.0f}× its usual spread",
                              "a lower --lr (half), or --betas 0.5,0.999 to damp Adam's momentum")
            if spiking or (warm and spread > limits.min_spread and ratio > limits.spike_recovered):
                recovered = False
            level.update(spread, spiking)
        return self._latch(OSCILLATION, alarm, recovered)

    # ---- per evaluation -----------------------------------------------------------------------------
    def observe_eval(self, step: int, row: Mapping[str, float | None], num_classes: int | None = None
                     ) -> list[Alarm]:
        """Check an evaluation (an eval.csv row: coverage, diversity, …; None where not measured).

        Class coverage where the classifier measured it, else recall and coverage in the random embedding.
        """
        self.cleared = []
        limits = self.limits
        coverage, diversity = row.get("coverage"), row.get("diversity")
        recall, manifold = (None, None) if coverage is not None else (row.get("recall_rand"), row.get("coverage_rand"))
        seen = []
        if coverage is not None and coverage < limits.min_coverage:
            classes = f"{round(coverage * num_classes)}/{num_classes} classes" if num_classes else \
                f"{coverage:.0%} of the classes"
            seen.append(f"only {classes} among the generated samples")
        if recall is not None and manifold is not None and recall < limits.min_recall \
                and manifold < limits.min_embedding_coverage:
            seen.append(f"recall {recall:.2f} and coverage {manifold:.2f} of the real pictures (random embedding)")
        if diversity is not None and diversity < limits.min_diversity:
            seen.append(f"diversity {diversity:.2f} of the real data's")
        alarm = None
        if seen:
            alarm = Alarm(MODE_COLLAPSE, step, " and ".join(seen),
                          "a lower --lr, or --loss wgan-gp (a critic keeps every mode in play)")
        recovered = (coverage is None or coverage >= limits.coverage_recovered) and \
            (diversity is None or diversity >= limits.diversity_recovered) and \
            (recall is None or manifold is None or recall >= limits.recall_recovered
             or manifold >= limits.embedding_coverage_recovered)
        fired = self._latch(MODE_COLLAPSE, alarm, recovered)
        return [fired] if fired else []
