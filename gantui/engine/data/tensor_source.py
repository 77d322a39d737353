"""The fast path: a whole dataset held as one uint8 tensor, moved to the device once, batched by slicing."""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from gantui.engine.data.base import DataInfo
from gantui.engine.distributed import SINGLE, World

DEVICE_SHARE = 0.25  # data larger than this share of a GPU's memory stays on the host, copied per batch


def steps_for(count: int, batch_size: int) -> int:
    """Batches in one epoch: the last partial batch is dropped unless the data is smaller than one batch."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    return max(1, count // batch_size)


def batch_slices(count: int, batch_size: int) -> Iterator[slice]:
    """The index ranges of one epoch's batches, in the order `steps_for` counts them."""
    size = min(batch_size, count)
    for step in range(steps_for(count, batch_size)):
        yield slice(step * size, (step + 1) * size)


def random_order(count: int, generator: torch.Generator) -> torch.Tensor:
    """A permutation of range(count) drawn from `generator` (on the generator's own device)."""
    return torch.randperm(count, generator=generator, device=generator.device)


def fit_center_crop(images: torch.Tensor, height: int, width: int, chunk: int = 2048) -> torch.Tensor:
    """Scale uint8 (N, C, H, W) images so they cover height×width, then cut out the centre (uint8 result)."""
    count, _, old_height, old_width = images.shape
    if (old_height, old_width) == (height, width):
        return images
    scale = max(height / old_height, width / old_width)
    scaled = (max(height, round(old_height * scale)), max(width, round(old_width * scale)))
    top, left = (scaled[0] - height) // 2, (scaled[1] - width) // 2
    parts = []
    for start in range(0, count, chunk):
        part = images[start : start + chunk].float()
        part = F.interpolate(part, size=scaled, mode="bilinear", antialias=True, align_corners=False)
        part = part[:, :, top : top + height, left : left + width]
        parts.append(part.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(parts) if parts else images.new_zeros((0, images.shape[1], height, width))


class TensorSource:
    """A dataset in memory: uint8 images (N, C, H, W) or float vectors (N, n), with optional int64 labels."""

    def __init__(
        self,
        samples: torch.Tensor,
        labels: torch.Tensor | None,
        info: DataInfo,
        warnings: list[str] | None = None,
        skipped: int = 0,
    ) -> None:
        if labels is not None and len(labels) != len(samples):
            raise ValueError(f"{len(samples)} samples but {len(labels)} labels")
        self.info = info
        self.samples = samples
        self.labels = None if labels is None else labels.to(torch.int64)
        self.warnings = list(warnings or [])
        self.skipped = skipped
        self._on_device: dict[str, tuple[torch.Tensor, torch.Tensor | None]] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches per epoch for this batch size."""
        return steps_for(len(self.samples), batch_size)

    def epoch(
        self, batch_size: int, device: torch.device, generator: torch.Generator, world: World = SINGLE
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """One pass in a random order from `generator`; batches are sliced and converted on `device`
        (no host round trip or sync per step; data too big for the GPU is gathered on the host instead).
        Each rank of several keeps its slice of every global batch."""
        device = torch.device(device)
        samples, labels = self._copy_on(device)
        staged = samples.device.type != device.type
        order = random_order(len(samples), generator).to(samples.device)
        for part in batch_slices(len(samples), batch_size):
            indices = world.split(order[part])
            batch = samples.index_select(0, indices)
            batch_labels = None if labels is None else labels.index_select(0, indices)
            if staged:  # uint8 crosses the bus (4x fewer bytes than float), then is normalised on the device
                batch = batch.pin_memory().to(device, non_blocking=True)
                batch_labels = None if batch_labels is None else batch_labels.to(device, non_blocking=True)
            yield self._as_float(batch), batch_labels

    def preview(self, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The first `count` samples on the CPU, in the same format as `epoch`."""
        head = self.samples[:count]
        return self._as_float(head), None if self.labels is None else self.labels[:count].clone()

    def _as_float(self, batch: torch.Tensor) -> torch.Tensor:
        if batch.dtype == torch.uint8:
            return batch.float().div_(255.0)
        return batch.float()

    def _copy_on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The samples and labels on `device`, copied there the first time only."""
        if device.type == "cuda" and device.index is None:  # "cuda" and "cuda:0" share one copy
            device = torch.device("cuda", torch.cuda.current_device())
        key = str(device)
        if key not in self._on_device:
            if device.type == "cuda" and self.samples.nbytes > DEVICE_SHARE * _device_memory(device):
                self._on_device[key] = (self.samples, self.labels)
            else:
                labels = None if self.labels is None else self.labels.to(device)
                self._on_device[key] = (self.samples.to(device), labels)
        return self._on_device[key]


def _device_memory(device: torch.device) -> int:
    return torch.cuda.get_device_properties(device).total_memory
