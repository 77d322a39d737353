"""What every dataset gives the trainer: a description and batches of real samples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch

from gantui.engine.distributed import SINGLE, World


@dataclass(frozen=True)
class DataInfo:
    """Plain facts about a dataset, enough to pick and build compatible models."""

    name: str
    kind: str  # "image" (C×H×W, values in [0, 1]) or "vector" (a flat float vector, e.g. pattern / curve)
    shape: tuple[int, ...]  # (C, H, W) for images, (n,) for vectors
    num_classes: int | None = None  # set when the data has labels
    size: int | None = None  # number of samples; None for endless procedural data (toys)
    source: str = ""  # the file or folder it came from, for messages and config.json
    class_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def channels(self) -> int:
        return self.shape[0] if self.is_image else 1

    @property
    def image_size(self) -> tuple[int, int] | None:
        return (self.shape[1], self.shape[2]) if self.is_image else None


class DataSource(Protocol):
    """A dataset ready for training.

    Image sources yield float tensors in [0, 1] of shape (B, C, H, W) on `device`; the trainer rescales to
    the generator's output range. Vector sources yield (B, n) floats as the tutorial defines them.
    Labels are int64 (B,) or None.
    """

    info: DataInfo

    def steps_per_epoch(self, batch_size: int) -> int: ...

    def epoch(self, batch_size: int, device: torch.device, generator: torch.Generator,
              world: World = SINGLE) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """One pass over the data in a random order drawn from `generator` (drops the last partial batch
        unless the dataset is smaller than one batch). In a run of several processes `batch_size` is the
        global batch and each rank gets its own share of every batch (`world.split`), every rank drawing the
        same order from the same `generator`."""
        ...

    def preview(self, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The first `count` samples (CPU, same format as `epoch`), for previews and checks."""
        ...
