"""The big-data path: samples read from disk by DataLoader workers, for datasets too large to hold in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from gantui.engine.data.base import DataInfo
from gantui.engine.data.tensor_source import batch_slices, random_order, steps_for
from gantui.engine.distributed import SINGLE, World


def worker_count() -> int:
    """DataLoader workers to use: one core stays with the training process; eight decode fast enough for a GPU."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


class _EpochBatches(Sampler[list[int]]):
    """Hands the DataLoader the batches of the current epoch; swapped before each epoch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class StreamSource:
    """A dataset whose items are uint8 (C, H, W) tensors and int64 labels (-1 when unlabelled), read lazily.

    The DataLoader is built once per pin-memory setting and keeps its workers between epochs.
    """

    def __init__(
        self,
        dataset: Dataset,
        count: int,
        info: DataInfo,
        warnings: list[str] | None = None,
        skipped: int = 0,
        num_workers: int | None = None,
    ) -> None:
        self.info = info
        self.dataset = dataset
        self.count = count
        self.warnings = list(warnings or [])
        self.skipped = skipped
        self.num_workers = worker_count() if num_workers is None else num_workers
        self._sampler = _EpochBatches()
        self._loaders: dict[bool, DataLoader] = {}

    def __len__(self) -> int:
        return self.count

    def steps_per_epoch(self, batch_size: int) -> int:
        """Batches per epoch for this batch size."""
        return steps_for(self.count, batch_size)

    def epoch(
        self, batch_size: int, device: torch.device, generator: torch.Generator, world: World = SINGLE
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """One pass in a random order from `generator`; workers decode, the main process copies to `device`.
        Several ranks share the epoch through torch's DistributedSampler, seeded from `generator`."""
        device = torch.device(device)
        if world.is_distributed:
            self._sampler.batches = self._rank_batches(batch_size, generator, world)
        else:
            order = random_order(self.count, generator).cpu().tolist()
            self._sampler.batches = [order[part] for part in batch_slices(self.count, batch_size)]
        pin = device.type == "cuda"
        for images, labels in self._loader(pin):
            x = images.to(device, non_blocking=pin).float().div_(255.0)
            yield x, self._labels_on(labels, device, pin)

    def _rank_batches(self, batch_size: int, generator: torch.Generator, world: World) -> list[list[int]]:
        """This rank's batches of one epoch: its DistributedSampler share, in batches of its part of the
        global batch (as many batches as `steps_per_epoch`, the same on every rank)."""
        seed = int(torch.randint(0, 2**31, (1,), generator=generator, device=generator.device))
        sampler = DistributedSampler(range(self.count), num_replicas=world.world_size, rank=world.rank,
                                     shuffle=True, seed=seed, drop_last=True)
        order = list(sampler)
        local = max(1, min(world.local_batch(batch_size), len(order)))
        return [order[step * local:(step + 1) * local] for step in range(self.steps_per_epoch(batch_size))]

    def preview(self, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The first `count` samples on the CPU, read in this process."""
        items = [self.dataset[index] for index in range(min(count, self.count))]
        if not items:
            return torch.zeros((0, *self.info.shape)), None
        images = torch.stack([image for image, _ in items]).float().div_(255.0)
        labels = torch.tensor([int(label) for _, label in items], dtype=torch.int64)
        return images, labels if self.info.num_classes is not None else None

    def _labels_on(self, labels: torch.Tensor, device: torch.device, pin: bool) -> torch.Tensor | None:
        if self.info.num_classes is None:
            return None
        return labels.to(device, non_blocking=pin)

    def _loader(self, pin: bool) -> DataLoader:
        if pin not in self._loaders:
            self._loaders[pin] = DataLoader(
                self.dataset,
                batch_sampler=self._sampler,
                num_workers=self.num_workers,
                persistent_workers=self.num_workers > 0,
                pin_memory=pin,  # page-locked batches let the copy to the GPU run asynchronously
                prefetch_factor=4 if self.num_workers > 0 else None,  # absorbs slow files (JPEG, HDF5 gzip)
            )
        return self._loaders[pin]
