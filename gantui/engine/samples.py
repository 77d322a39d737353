"""Turning generator output into pictures and plain values (off the graph, on the CPU)."""

from __future__ import annotations

import numpy as np
import torch

from gantui.engine.grid import GridLayout, tile_grid


def to_unit_range(images: torch.Tensor, output_range: str) -> torch.Tensor:
    """Map generator output to [0, 1] for display."""
    if output_range == "symmetric":
        images = (images + 1) / 2
    return images.clamp(0, 1)


def from_unit_range(images: torch.Tensor, output_range: str) -> torch.Tensor:
    """Map data in [0, 1] to the range the generator produces."""
    return images * 2 - 1 if output_range == "symmetric" else images


def grid_layout(images: torch.Tensor, columns: int | None = None) -> GridLayout:
    """How `image_grid` lays out a (B, C, H, W) batch."""
    return GridLayout.about_square(images.shape[0], images.shape[3], images.shape[2], columns)


def image_grid(images: torch.Tensor, output_range: str, columns: int | None = None) -> np.ndarray:
    """A (B, C, H, W) batch as one H×W×C uint8 picture with a 2-pixel border, about square."""
    images = to_unit_range(images.detach().float().cpu(), output_range)
    tiles = images.permute(0, 2, 3, 1).mul(255).round().to(torch.uint8).numpy()
    return tile_grid(list(tiles), grid_layout(images, columns))
