"""The two toy datasets of the tutorials: the 1010 pattern (seed 003) and the quadratic curve (seed 002)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import steps_for
from gantui.engine.distributed import SINGLE, World

SAMPLES_PER_EPOCH = 1000  # toys are endless; an "epoch" is this many samples
PREVIEW_SEED = 0
CURVE_POINTS = 15


class ToySource:
    """Endless procedural vectors: each call to `draw` makes a fresh batch from a generator."""

    def __init__(self, info: DataInfo) -> None:
        self.info = info
        self.warnings: list[str] = []
        self.skipped = 0

    def draw(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` real samples as a (count, n) float tensor on the generator's device."""
        raise NotImplementedError

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches per epoch: a fixed number of samples split into batches."""
        return steps_for(SAMPLES_PER_EPOCH, batch_size)

    def epoch(
        self, batch_size: int, device: torch.device, generator: torch.Generator, world: World = SINGLE
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """`steps_per_epoch` fresh batches of `batch_size` samples on `device` (each rank its slice)."""
        for _ in range(self.steps_per_epoch(batch_size)):
            yield world.split(self.draw(batch_size, generator)).to(device), None

    def preview(self, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`count` samples from a fixed seed, so previews are the same every time."""
        generator = torch.Generator().manual_seed(PREVIEW_SEED)
        return self.draw(count, generator), None


class PatternSource(ToySource):
    """Four values in the 1010 pattern: U(0.8, 1), U(0, 0.2), U(0.8, 1), U(0, 0.2)."""

    def __init__(self) -> None:
        super().__init__(DataInfo(name="pattern1010", kind="vector", shape=(4,), source="procedural"))

    def draw(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` patterns: high, low, high, low, each uniform within a band 0.2 wide."""
        low_edges = torch.tensor([0.8, 0.0, 0.8, 0.0], device=generator.device)
        return low_edges + 0.2 * torch.rand(count, 4, generator=generator, device=generator.device)


class QuadraticSource(ToySource):
    """The curve y = 2x² + 1 sampled at 15 evenly spaced x in [-1, 1], as seed 002's `real_points()`.

    The tutorial's real data is the same curve every time (x = linspace(-1, 1, 15)), so every sample is too.
    """

    def __init__(self) -> None:
        super().__init__(DataInfo(name="quadratic", kind="vector", shape=(CURVE_POINTS,), source="procedural"))

    def draw(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """`count` copies of the curve's 15 y values."""
        x = torch.linspace(-1.0, 1.0, CURVE_POINTS, device=generator.device)
        return (2.0 * x.pow(2) + 1.0).expand(count, CURVE_POINTS).clone()


def load_pattern1010(path: str | None, image_size: int | None, download: bool) -> PatternSource:
    """The 1010 pattern (takes no path)."""
    return PatternSource()


def load_quadratic(path: str | None, image_size: int | None, download: bool) -> QuadraticSource:
    """The quadratic curve (takes no path)."""
    return QuadraticSource()
