"""What the trainer reports: small frozen dataclasses of plain values (never tensors, never UI calls).

Sinks receive them in order. The run directory is one sink; the CLI progress bar and the app are others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gantui.engine.grid import GridLayout
from gantui.engine.run.state import RunState

# The metrics.csv columns, in order. Memory in bytes; None (an empty cell) where not applicable.
METRIC_COLUMNS: tuple[str, ...] = (
    "step", "epoch", "time", "loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g",
    "samples_per_s", "mem_allocated", "mem_reserved", "mem_peak", "rss", "skipped_steps",
)
# The eval.csv columns, in order (the quality metrics of gantui.engine.quality); empty where not applicable.
# Those ending in _rand were measured in the random embedding, in the version that embedding_version names.
EVAL_COLUMNS: tuple[str, ...] = (
    "step", "fid", "kid", "inception_score", "coverage", "kl_uniform", "diversity", "duplicate_rate",
    "cond_accuracy", "fid_rand", "kid_rand", "precision_rand", "recall_rand", "density_rand", "coverage_rand",
    "embedding_version", "time", "eval_seconds",
)
EMBEDDING_NAME = "rand"  # the suffix of the columns measured in the random embedding (quality/embedding.py)
EMBEDDING_COLUMNS = tuple(name for name in EVAL_COLUMNS if name.endswith(f"_{EMBEDDING_NAME}"))
# The ranks.csv columns (runs of several processes), in order: one row per rank and log interval. Memory in
# bytes, empty where not applicable; time is the unix time of that rank's figures.
RANK_COLUMNS: tuple[str, ...] = (
    "step", "rank", "host", "device", "samples_per_s", "mem_allocated", "mem_peak", "rss", "time",
)


@dataclass(frozen=True)
class RunStarted:
    config: dict[str, Any]
    device: str
    device_name: str
    step: int  # 0 for a new run, the checkpoint's step on resume
    total_steps: int
    steps_per_epoch: int
    params_g: int
    params_d: int
    resumed: bool = False


@dataclass(frozen=True)
class MetricsLogged:
    """One log interval: means over the interval's steps (losses, D outputs), figures at its end."""

    step: int
    epoch: int
    time: float  # seconds of training since the run began (continues across resume)
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float
    grad_norm_d: float
    grad_norm_g: float
    samples_per_s: float
    mem_allocated: int | None
    mem_reserved: int | None
    mem_peak: int | None
    rss: int | None
    total_steps: int = 0
    skipped_steps: int | None = None  # fp16: steps the GradScaler skipped (inf/NaN gradients)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in METRIC_COLUMNS}


@dataclass(frozen=True)
class RankFigures:
    """One rank's own figures over a log interval (its local samples per second, its memory)."""

    rank: int
    host: str
    device: str
    samples_per_s: float
    mem_allocated: int | None
    mem_peak: int | None
    rss: int | None
    time: float  # unix seconds when the rank measured them


@dataclass(frozen=True)
class RanksLogged:
    """Every rank's figures for the log interval ending at `step`, in rank order (ranks.csv)."""

    step: int
    ranks: tuple[RankFigures, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [{"step": self.step, **{name: getattr(rank, name) for name in RANK_COLUMNS[1:]},
                 "time": f"{rank.time:.3f}"} for rank in self.ranks]  # to the millisecond, not 6 digits


@dataclass(frozen=True)
class EvalLogged:
    """One quality evaluation of the generator (see gantui.engine.quality); None where a metric does not apply."""

    step: int
    time: float  # seconds of training since the run began, as in MetricsLogged
    eval_seconds: float  # what this evaluation cost
    fid: float | None = None
    kid: float | None = None
    inception_score: float | None = None
    coverage: float | None = None  # fraction of the classes holding at least 2% of the samples
    kl_uniform: float | None = None
    diversity: float | None = None  # mean pairwise distance of generated samples / of real ones
    duplicate_rate: float | None = None
    cond_accuracy: float | None = None
    fid_rand: float | None = None  # *_rand: in the fixed random embedding, for any pictures
    kid_rand: float | None = None
    precision_rand: float | None = None
    recall_rand: float | None = None
    density_rand: float | None = None
    coverage_rand: float | None = None
    embedding_version: int | None = None  # what the *_rand columns were measured in (embedding.EMBEDDING_VERSION)
    class_histogram: tuple[float, ...] = ()  # share of the generated samples the classifier puts in each class
    num_classes: int | None = None
    next_step: int | None = None  # when the next evaluation comes (status.json's next_eval_step; not in eval.csv)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in EVAL_COLUMNS}


@dataclass(frozen=True)
class AlarmStatus:
    """The alarms active now (their messages, oldest first), replacing the previous set; empty when all clear."""

    step: int
    active: tuple[str, ...] = ()


@dataclass(frozen=True)
class SampleGrid:
    """Generated images from the fixed latent batch, tiled into one uint8 H×W×C picture as `layout` says."""

    step: int
    image: np.ndarray = field(repr=False)
    layout: GridLayout | None = None


@dataclass(frozen=True)
class SampleValues:
    """Generated vectors for toy data (the 1010 pattern, the curve), with a few real ones to compare."""

    step: int
    fake: list[list[float]]
    real: list[list[float]]


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str


@dataclass(frozen=True)
class Notice:
    """Something the user should read: kind is info, warning, alarm or error."""

    kind: str
    message: str
    step: int


@dataclass(frozen=True)
class StateChanged:
    """running / paused; the final states come with RunEnded."""

    state: RunState
    step: int


@dataclass(frozen=True)
class RunEnded:
    state: RunState  # finished | stopped | failed | diverged
    step: int
    epoch: int
    message: str = ""
    generator_path: str | None = None
    failed_rank: int | None = None  # a run of several processes that failed: the rank that failed first


Event = (RunStarted | MetricsLogged | RanksLogged | EvalLogged | AlarmStatus | SampleGrid | SampleValues
         | CheckpointSaved | Notice | StateChanged | RunEnded)


class Sink(Protocol):
    def handle(self, event: Event) -> None: ...


class FanOut:
    """Sends each event to several sinks, in order."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = [s for s in sinks if s is not None]

    def handle(self, event: Event) -> None:
        for sink in self.sinks:
            sink.handle(event)
