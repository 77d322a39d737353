"""Procedural colour pictures: a circle, square or triangle on a plain background, the same every time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError

CLASS_NAMES = ("circle", "square", "triangle")
DEFAULT_COUNT = 6000
DEFAULT_SIZE = 64
SEED = 20240601  # fixed: the dataset is identical on every machine and every run
CHUNK = 500
MIN_CONTRAST = 0.45  # foreground and background colours at least this far apart (Euclidean, RGB in 0..1)


def _circle(dx: np.ndarray, dy: np.ndarray, radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.sqrt(dx * dx + dy * dy) - radius


def _square(dx: np.ndarray, dy: np.ndarray, radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    return np.maximum(np.abs(cos * dx + sin * dy), np.abs(cos * dy - sin * dx)) - 0.8 * radius


def _triangle(dx: np.ndarray, dy: np.ndarray, radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # equilateral: the furthest of the three edge normals; the inradius is half the circumradius
    edges = [np.cos(angle + turn) * dx + np.sin(angle + turn) * dy for turn in (0.0, 2 * np.pi / 3, 4 * np.pi / 3)]
    return np.maximum(np.maximum(edges[0], edges[1]), edges[2]) - 0.5 * radius


Distance = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (dx, dy, radius, angle)
DISTANCES = (_circle, _square, _triangle)  # signed distance in pixels to the edge, negative inside


def _colours(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Background and foreground RGB colours (count, 3) in 0..1 that stand apart from each other."""
    background = rng.random((count, 3), dtype=np.float32)
    foreground = rng.random((count, 3), dtype=np.float32)
    too_close = np.linalg.norm(foreground - background, axis=1) < MIN_CONTRAST
    foreground[too_close] = 1.0 - background[too_close]
    return background, foreground


def draw_shapes(count: int = DEFAULT_COUNT, size: int = DEFAULT_SIZE, seed: int = SEED,
                outlines: tuple[Distance, ...] = DISTANCES) -> tuple[np.ndarray, np.ndarray]:
    """`count` pictures as uint8 (count, 3, size, size) and their class indices, all from `seed`.

    `outlines` draws each class (a distance function per class); other outlines keep every colour, place,
    size and angle, e.g. every shape drawn as a circle (bench/embedding_outlines.py)."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(CLASS_NAMES), count)
    radius = size * rng.uniform(0.16, 0.34, count).astype(np.float32)
    centre_x = radius + rng.random(count, dtype=np.float32) * (size - 2 * radius)
    centre_y = radius + rng.random(count, dtype=np.float32) * (size - 2 * radius)
    angle = rng.uniform(0, 2 * np.pi, count).astype(np.float32)
    background, foreground = _colours(rng, count)
    grid = np.arange(size, dtype=np.float32) + 0.5
    pictures = np.empty((count, 3, size, size), dtype=np.uint8)
    column = (slice(None), None, None)
    for start in range(0, count, CHUNK):
        part = np.arange(start, min(start + CHUNK, count))
        distance = np.empty((len(part), size, size), dtype=np.float32)
        for index, shape_distance in enumerate(outlines):
            chosen = part[kind[part] == index]
            dx = grid[None, None, :] - centre_x[chosen][column]
            dy = grid[None, :, None] - centre_y[chosen][column]
            distance[chosen - start] = shape_distance(dx, dy, radius[chosen][column], angle[chosen][column])
        coverage = np.clip(0.5 - distance, 0.0, 1.0)[:, None]  # a one-pixel soft edge
        mixed = background[part][:, :, None, None] * (1 - coverage) + foreground[part][:, :, None, None] * coverage
        pictures[part] = np.rint(mixed * 255).astype(np.uint8)
    return pictures, kind.astype(np.int64)


def backgrounds_only(pictures: torch.Tensor) -> torch.Tensor:
    """Each picture (N, C, H, W) painted over with its commonest colour: a shapes picture's plain field without
    its shape (the background is most of the picture). What a generator that drew no shapes would draw."""
    fields = pictures.flatten(2).median(2).values
    return fields[:, :, None, None].expand_as(pictures).contiguous()


def load_shapes(path: str | None, image_size: int | None, download: bool, count: int = DEFAULT_COUNT
                ) -> TensorSource:
    """The shapes dataset: `count` labelled colour pictures, image_size² (default 64)."""
    size = image_size or DEFAULT_SIZE
    if not 8 <= size <= 512:
        raise UserError(f"shapes: image size {size} is out of range; use 8 to 512 (32 or 64 suit the models)")
    pictures, labels = draw_shapes(count, size)
    info = DataInfo(
        name="shapes", kind="image", shape=(3, size, size), num_classes=len(CLASS_NAMES), size=count,
        source="procedural", class_names=CLASS_NAMES,
    )
    return TensorSource(torch.from_numpy(pictures), torch.from_numpy(labels), info)
