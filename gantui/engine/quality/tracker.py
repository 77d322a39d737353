"""The trainer's side of quality: when to evaluate, which score is best so far, and turning alarms into events.

The trainer holds one `QualityTracker`, feeds it each MetricsLogged and asks it whether an evaluation is due
(schedule.py: every `eval_every` steps, or spaced by their cost when the interval was left to the default);
it emits EvalLogged, Notice("alarm"/"info") and AlarmStatus events to the run's sinks and says when the
generator just reached its best score (the trainer then writes checkpoints/best.pt).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from gantui.engine.data.base import DataSource
from gantui.engine.events import EMBEDDING_COLUMNS, AlarmStatus, EvalLogged, MetricsLogged, Notice, Sink
from gantui.engine.models.base import ArchSpec
from gantui.engine.quality import embedding
from gantui.engine.quality.alarms import Alarm, AlarmMonitor
from gantui.engine.quality.classifier import evaluation_applies
from gantui.engine.quality.schedule import EvalSchedule

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig
    from gantui.engine.quality.evaluator import Evaluator

SCORE_COLUMNS = ("fid", "fid_rand")  # what best.pt follows, in order of preference (then the diversity ratio)
_RANKS = {name: rank for rank, name in enumerate((*SCORE_COLUMNS, "diversity"))}


class QualityTracker:
    """Evaluations (built on first use: short runs never train the classifier) and alarms of one run."""

    def __init__(self, config: TrainConfig, source: DataSource, arch: ArchSpec, device: torch.device, events: Sink,
                 run_path: Path | None = None, start_step: int = 0,
                 make_evaluator: Callable[[], Evaluator] | None = None, start_seconds: float = 0.0) -> None:
        self.config, self.source, self.arch, self.device, self.events = config, source, arch, device, events
        self.every = int(config.eval_every or 0)
        self.applies = self.every > 0 and evaluation_applies(source.info)
        self.schedule = EvalSchedule.start(self.every, config.eval_auto, config.log_every, start_step)
        self._ended_at = start_seconds  # the run's seconds when the latest evaluation ended (or training began)
        self.monitor = AlarmMonitor(config.loss, label_smoothing=config.label_smoothing)
        self.evaluator: Evaluator | None = None
        self._make_evaluator = make_evaluator or self._build_evaluator
        self.best_score = _best_so_far(run_path, start_step)
        self._step = start_step

    # ---- alarms from the log interval ---------------------------------------------------------------
    def observe_metrics(self, event: MetricsLogged) -> None:
        fired = self.monitor.observe_metrics(event.step, event.loss_d, event.loss_g, event.d_real, event.d_fake,
                                             event.grad_norm_d, event.grad_norm_g)
        self._report(event.step, fired)

    def _report(self, step: int, fired: list[Alarm]) -> None:
        for alarm in fired:
            self.events.handle(Notice("alarm", alarm.message, step))
        for kind in self.monitor.cleared:
            self.events.handle(Notice("info", f"{kind} cleared at step {step}", step))
        if fired or self.monitor.cleared:
            self.events.handle(AlarmStatus(step, tuple(alarm.message for alarm in self.monitor.active)))

    # ---- evaluations --------------------------------------------------------------------------------
    def due(self, step: int, total_steps: int) -> bool:
        """Whether to evaluate after `step` (see EvalSchedule.due)."""
        return self.applies and self.schedule.due(step, total_steps)

    def _build_evaluator(self) -> Evaluator:
        from gantui.engine.quality.evaluator import Evaluator  # torchmetrics loads only when evaluating

        def tell(message: str) -> None:
            self.events.handle(Notice("info", message, self._step))

        return Evaluator.from_config(self.source, self.arch, self.config, self.device, on_notice=tell)

    def evaluate(self, generator: nn.Module, step: int, training_seconds: float) -> bool:
        """Evaluate, emit EvalLogged and any collapse alarm; True when this is the best score so far.

        A failure of the evaluation (it is secondary to training) turns evaluation off with a warning.
        """
        self._step = step
        start = time.perf_counter()
        one_off = 0.0  # training the classifier the first time (then cached for every run): not the schedule's
        setup = 0.0  # building the evaluator: once a run
        try:
            if self.evaluator is None:
                self.evaluator = self._make_evaluator()
                setup = time.perf_counter() - start
                if self.evaluator.classifier is not None:
                    trained = self.evaluator.classifier
                    one_off = 0.0 if trained.from_cache else min(float(trained.train_seconds), setup)
                    origin = "from the cache" if trained.from_cache else f"trained in {trained.train_seconds:.1f} s"
                    self.events.handle(Notice("info", f"quality classifier for {self.source.info.name} ({origin}): "
                                                      f"{trained.accuracy:.2%} accuracy on {trained.holdout:,} "
                                                      f"held-out images", step))
            report = self.evaluator.evaluate(generator)
        except Exception as error:  # never let a metric end a training run
            self.applies = False
            first = (str(error).strip().splitlines() or [""])[0]
            self.events.handle(Notice("warning", f"quality evaluation turned off: {type(error).__name__}: {first}",
                                      step))
            return False
        seconds = time.perf_counter() - start
        next_step = self.schedule.record(step, max(training_seconds - self._ended_at, 0.0), seconds - setup,
                                         setup - one_off)
        self._ended_at = training_seconds + seconds
        event = EvalLogged(step=step, time=round(training_seconds + seconds, 3), eval_seconds=round(seconds, 3),
                           num_classes=self.source.info.num_classes, next_step=next_step, **report.as_dict())
        self.events.handle(event)
        self._report(step, self.monitor.observe_eval(step, event.row(), self.source.info.num_classes))
        score = _score(event.row())
        if score is None or not _better(score, self.best_score):
            return False
        self.best_score = score
        return True


Score = tuple[str, float]  # (what was measured, value): lower is better, only like compared with like


def _score(row: Mapping[str, float | None]) -> Score | None:
    """The classifier's FID where it exists, else the random embedding's (of this version of it: a row measured
    in an older one does not count), else |log diversity ratio|."""
    for column in SCORE_COLUMNS:
        if column in EMBEDDING_COLUMNS and _cell(row.get("embedding_version")) != embedding.EMBEDDING_VERSION:
            continue
        value = _cell(row.get(column))
        if value is not None:
            return column, value
    diversity = _cell(row.get("diversity"))
    if diversity is not None and diversity > 0:
        return "diversity", abs(math.log(diversity))
    return None


def _better(score: Score, best: Score | None) -> bool:
    """Lower of the same kind, or a preferred kind (an older run resumed that now measures FID in the embedding)."""
    if best is None or score[0] == best[0]:
        return best is None or score[1] < best[1]
    return _RANKS[score[0]] < _RANKS[best[0]]


def _best_so_far(run_path: Path | None, step: int) -> Score | None:
    """On resume: the best score in eval.csv up to the checkpoint's step, so best.pt is not overwritten by worse."""
    if run_path is None or step == 0:
        return None
    from gantui.engine.run.layout import RunLayout
    from gantui.engine.run.tails import load_eval  # pandas: only on resume

    frame = load_eval(RunLayout(run_path).evals)
    if frame.empty:
        return None
    frame = frame[frame["step"] <= step]
    best = None
    for row in frame.to_dict("records"):
        score = _score(row)
        if score is not None and _better(score, best):
            best = score
    return best


def _cell(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
