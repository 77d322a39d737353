"""What every architecture declares: defaults from its tutorial, what data it takes, how to build G and D."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from gantui.engine.data.base import DataInfo


@dataclass(frozen=True)
class ArchDefaults:
    """The tutorial's hyper-parameters for this architecture."""

    loss: str = "bce"  # bce | mse | hinge | wgan-gp
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 64
    latent_dim: int = 100
    latent: str = "normal"  # normal | uniform | fixed (the pattern tutorial's constant 0.5 input)
    epochs: int = 1
    image_size: int | None = None  # resize images to this (None: keep the data's size)
    default_dataset: str = "mnist"


@dataclass(frozen=True)
class ArchSpec:
    """One architecture of the registry.

    `build(info, latent_dim)` returns (generator, discriminator):
      generator(z, labels=None) -> (B, *info.shape) in `output_range`
      discriminator(x, labels=None) -> (B,) raw logits (the tutorial's final Sigmoid lives in the loss)
    `incompatibility(info)` returns None when the data fits, else one sentence saying what it needs.
    """

    name: str
    description: str
    defaults: ArchDefaults
    output_range: str  # "unit": G ends in Sigmoid, data in [0, 1]; "symmetric": Tanh, data in [-1, 1]
    conditional: bool
    build: Callable[[DataInfo, int], tuple[nn.Module, nn.Module]]
    incompatibility: Callable[[DataInfo], str | None]
    image_only: bool = True
