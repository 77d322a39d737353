"""What every architecture declares: its tutorial's training values, what data it takes, how to build G and D.

Whether an architecture can train on a dataset is decided in one place, `models/fit.py`, from these fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from gantui.engine.config import TrainConfig
from gantui.engine.data.base import DataInfo


@dataclass(frozen=True)
class ArchSpec:
    """One architecture of the registry.

    `build(info, latent_dim)` returns (generator, discriminator):
      generator(z, labels=None) -> (B, *info.shape) in `output_range`
      discriminator(x, labels=None) -> (B,) raw logits (the tutorial's final Sigmoid lives in the loss)
    """

    name: str
    description: str
    output_range: str  # "unit": G ends in Sigmoid, data in [0, 1]; "symmetric": Tanh, data in [-1, 1]; "raw"
    conditional: bool  # takes a class label, so it needs labelled data
    build: Callable[[DataInfo, int], tuple[nn.Module, nn.Module]]
    default_dataset: str = "mnist"  # the data its tutorial trains on
    tutorial: dict[str, Any] = field(default_factory=dict)  # the tutorial's values of TrainConfig options
    image_size: int | None = None  # square pictures of exactly this size (None: any size)
    vector_length: int | None = None  # flat vectors of this many values (the toys) instead of pictures

    @property
    def takes_images(self) -> bool:
        return self.vector_length is None

    @property
    def defaults(self) -> TrainConfig:
        """The whole configuration this architecture trains with when the user sets nothing."""
        return TrainConfig(dataset=self.default_dataset, arch=self.name, **self.tutorial)
