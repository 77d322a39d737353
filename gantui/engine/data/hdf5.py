"""Pictures in an HDF5 file: one stacked dataset, or a group of one H×W×C dataset per picture (seed 003).

Values are kept as uint8 whatever their stored type (uint16, floats in 0-1 or 0-255: see pixels.py); a group
of pictures of several sizes is resized to the one size asked, or refused when none is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from gantui.engine.data.base import DataInfo
from gantui.engine.data.files import unreadable
from gantui.engine.data.hdf5_layout import Hdf5Images, find_images, read_labels, split_path
from gantui.engine.data.pixels import ValueStats, needs_stats, scale_for, stats_of, to_uint8
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource, fit_center_crop
from gantui.engine.errors import UserError

IN_MEMORY_BYTES = 1 << 30  # smaller datasets are read once into memory
READ_BYTES = 64 << 20  # stored bytes read at a time from a stacked dataset


def channels_of(table: Hdf5Images) -> int:
    """Channels as loaded: grey stays grey, colour is RGB (alpha dropped)."""
    return min(table.channels, 3)


def _as_loaded(table: Hdf5Images, array: np.ndarray) -> np.ndarray:
    """Stored (…, C, H, W) values as uint8 with the table's channels: alpha dropped, grey spread in colour data."""
    array = array[..., :3, :, :]
    if array.shape[-3] < channels_of(table):
        array = np.repeat(array, channels_of(table), axis=-3)
    return np.ascontiguousarray(to_uint8(array, table.scale))


def _stored_picture(file: h5py.File, table: Hdf5Images, index: int) -> np.ndarray:
    if table.layout == "group":
        return file[table.key][table.members[index]][()].transpose(2, 0, 1)
    if table.layout == "nhwc":
        return file[table.key][index].transpose(2, 0, 1)
    if table.layout == "nchw":
        return file[table.key][index]
    return file[table.key][index][None]


def read_picture(file: h5py.File, table: Hdf5Images, index: int) -> np.ndarray:
    """Picture `index` as uint8 (C, H, W)."""
    return _as_loaded(table, _stored_picture(file, table, index))


def _stored_block(file: h5py.File, table: Hdf5Images, start: int, stop: int) -> np.ndarray:
    block = file[table.key][start:stop]
    if table.layout == "nhwc":
        return block.transpose(0, 3, 1, 2)
    return block[:, None] if table.layout == "nhw" else block


def read_block(file: h5py.File, table: Hdf5Images, start: int, stop: int) -> np.ndarray:
    """Pictures start..stop of a stacked dataset as uint8 (B, C, H, W)."""
    return _as_loaded(table, _stored_block(file, table, start, stop))


def block_starts(table: Hdf5Images) -> range:
    """Where each block of a stacked dataset starts, blocks of about READ_BYTES stored bytes."""
    picture_bytes = table.largest * table.channels * np.dtype(table.dtype).itemsize
    return range(0, table.count, max(1, READ_BYTES // max(1, picture_bytes)))


def value_scale(file: h5py.File, table: Hdf5Images) -> float:
    """The factor that brings every stored value to 0-255, deciding from all values when the type needs it."""
    stats: ValueStats | None = None
    if needs_stats(np.dtype(table.dtype)):
        if table.layout == "group":
            parts = (stats_of(file[table.key][member][()]) for member in table.members)
        else:
            starts = block_starts(table)
            parts = (stats_of(file[table.key][start : start + starts.step]) for start in starts)
        for part in parts:
            stats = part if stats is None else stats.merged(part)
    try:
        return scale_for(np.dtype(table.dtype), stats)
    except ValueError as error:
        raise UserError(f"hdf5: {table.file}:{table.key}: {error}") from None


def _fit(picture: torch.Tensor, height: int, width: int) -> torch.Tensor:
    return fit_center_crop(picture.unsqueeze(0), height, width)[0]


class Hdf5Dataset(Dataset):
    """One picture per item; the file is opened on first use in each process (DataLoader workers included)."""

    def __init__(self, table: Hdf5Images, labels: np.ndarray | None, height: int, width: int) -> None:
        self.table = table
        self.labels = labels
        self.height, self.width = height, width
        self._file: h5py.File | None = None
        self._pid = -1

    def __len__(self) -> int:
        return self.table.count

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if self._file is None or self._pid != os.getpid():
            self._file, self._pid = h5py.File(self.table.file, "r"), os.getpid()
        picture = _fit(torch.from_numpy(read_picture(self._file, self.table, index)), self.height, self.width)
        return picture, -1 if self.labels is None else int(self.labels[index])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_file": None, "_pid": -1}


def read_all(table: Hdf5Images, height: int, width: int) -> torch.Tensor:
    """Every picture as one uint8 (N, C, height, width) tensor."""
    out = torch.empty((table.count, channels_of(table), height, width), dtype=torch.uint8)
    with h5py.File(table.file, "r") as file:
        if table.layout == "group":
            for index in range(table.count):
                out[index] = _fit(torch.from_numpy(read_picture(file, table, index)), height, width)
            return out
        starts = block_starts(table)
        for start in starts:
            block = torch.from_numpy(read_block(file, table, start, start + starts.step))
            out[start : start + len(block)] = fit_center_crop(block, height, width)
    return out


@dataclass(frozen=True)
class _Plan:
    table: Hdf5Images
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    notes: list[str]


def _plan(path: str, read_values: bool) -> _Plan:
    """Where the pictures and labels are; with `read_values`, also how their values map to 0-255 (reads all
    values of types whose mapping depends on them) and a read of the first picture, which finds missing filters."""
    file_path, key = split_path(path)
    if not file_path.is_file():
        raise UserError(f"hdf5: {file_path} is not a file")
    if not h5py.is_hdf5(file_path):
        raise UserError(f"hdf5: {file_path} is not an HDF5 file")
    try:
        with h5py.File(file_path, "r") as file:
            table = replace(find_images(file, key), file=str(file_path))
            labels, class_names, notes = read_labels(file, table)
            if read_values:
                table = replace(table, scale=value_scale(file, table))
                read_picture(file, table, 0)
    except OSError as error:  # h5py's word for a cut-short file, a broken chunk, a filter it lacks
        raise UserError(f"hdf5: {unreadable(file_path, None, error)}") from None
    return _Plan(table, labels, class_names, notes)


def check_hdf5_path(path: str) -> str | None:
    """Why `path` (FILE.h5 or FILE.h5:KEY) holds no usable pictures, or None; reads metadata only."""
    try:
        _plan(path, read_values=False)
    except UserError as error:
        return str(error).removeprefix("hdf5: ")
    return None


def _size_problem(table: Hdf5Images) -> str | None:
    if table.odd_size is None:
        return None
    name, height, width = table.odd_size
    return (f"hdf5: {table.file}:{table.key} holds pictures of different sizes ({table.height}×{table.width} in "
            f"{table.members[0]}, {height}×{width} in {name}); pass --image-size N to resize them all to N×N")


def load_hdf5(
    path: str | None, image_size: int | None, download: bool, in_memory_bytes: int = IN_MEMORY_BYTES
) -> TensorSource | StreamSource:
    """Pictures from FILE.h5[:KEY], resized when image_size is given; small files are read into memory."""
    if not path:
        raise UserError("hdf5 needs --data FILE.h5 (or FILE.h5:KEY)")
    plan = _plan(path, read_values=True)
    table = plan.table
    problem = _size_problem(table)
    if problem is not None and image_size is None:
        raise UserError(problem)
    height, width = (image_size, image_size) if image_size else (table.height, table.width)
    channels = channels_of(table)
    info = DataInfo(
        name="hdf5", kind="image", shape=(channels, height, width), size=table.count,
        num_classes=len(plan.class_names) or None,
        source=f"{table.file}:{table.key}", class_names=plan.class_names,
    )
    labels = None if plan.labels is None else torch.from_numpy(plan.labels)
    largest = table.count * channels * max(height * width, table.largest)
    if largest < in_memory_bytes:
        return TensorSource(read_all(table, height, width), labels, info, warnings=plan.notes)
    return StreamSource(Hdf5Dataset(table, plan.labels, height, width), table.count, info, warnings=plan.notes)
