"""Turning generator output into pictures and plain values (off the graph, on the CPU)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torchvision.utils import make_grid


def to_unit_range(images: torch.Tensor, output_range: str) -> torch.Tensor:
    """Map generator output to [0, 1] for display."""
    if output_range == "symmetric":
        images = (images + 1) / 2
    return images.clamp(0, 1)


def from_unit_range(images: torch.Tensor, output_range: str) -> torch.Tensor:
    """Map data in [0, 1] to the range the generator produces."""
    return images * 2 - 1 if output_range == "symmetric" else images


def image_grid(images: torch.Tensor, output_range: str, columns: int | None = None) -> np.ndarray:
    """A (B, C, H, W) batch as one H×W×C uint8 picture with a 2-pixel border, about square."""
    images = to_unit_range(images.detach().float().cpu(), output_range)
    columns = columns or max(1, math.ceil(math.sqrt(images.shape[0])))
    grid = make_grid(images, nrow=columns, padding=2, pad_value=0.0)
    if images.shape[1] == 1:
        grid = grid[:1]
    return (grid.permute(1, 2, 0).mul(255).round().to(torch.uint8)).numpy()
