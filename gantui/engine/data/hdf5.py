"""Pictures in an HDF5 file: one stacked uint8 dataset, or a group of one H×W×C dataset per picture (seed 003)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from gantui.engine.data.base import DataInfo
from gantui.engine.data.hdf5_layout import Hdf5Images, find_images, read_labels, split_path
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource, fit_center_crop
from gantui.engine.errors import UserError

IN_MEMORY_BYTES = 1 << 30  # smaller datasets are read once into memory
READ_CHUNK = 1024


def read_picture(file: h5py.File, table: Hdf5Images, index: int) -> np.ndarray:
    """Picture `index` as uint8 (C, H, W), alpha dropped."""
    if table.layout == "group":
        array = file[table.key][table.members[index]][()].transpose(2, 0, 1)
    elif table.layout == "nhwc":
        array = file[table.key][index].transpose(2, 0, 1)
    elif table.layout == "nchw":
        array = file[table.key][index]
    else:
        array = file[table.key][index][None]
    return np.ascontiguousarray(array[:3])


def read_block(file: h5py.File, table: Hdf5Images, start: int, stop: int) -> np.ndarray:
    """Pictures start..stop of a stacked dataset as uint8 (B, C, H, W), alpha dropped."""
    block = file[table.key][start:stop]
    if table.layout == "nhwc":
        block = block.transpose(0, 3, 1, 2)
    elif table.layout == "nhw":
        block = block[:, None]
    return np.ascontiguousarray(block[:, :3])


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
    channels = min(table.channels, 3)
    out = torch.empty((table.count, channels, height, width), dtype=torch.uint8)
    with h5py.File(table.file, "r") as file:
        if table.layout == "group":
            for index in range(table.count):
                out[index] = _fit(torch.from_numpy(read_picture(file, table, index)), height, width)
            return out
        for start in range(0, table.count, READ_CHUNK):
            block = torch.from_numpy(read_block(file, table, start, start + READ_CHUNK))
            out[start : start + len(block)] = fit_center_crop(block, height, width)
    return out


@dataclass(frozen=True)
class _Plan:
    table: Hdf5Images
    labels: np.ndarray | None
    class_names: tuple[str, ...]


def _plan(path: str) -> _Plan:
    file_path, key = split_path(path)
    if not file_path.is_file():
        raise UserError(f"hdf5: {file_path} is not a file")
    if not h5py.is_hdf5(file_path):
        raise UserError(f"hdf5: {file_path} is not an HDF5 file")
    with h5py.File(file_path, "r") as file:
        table = find_images(file, key)
        labels, class_names = read_labels(file, table)
    return _Plan(replace(table, file=str(file_path)), labels, class_names)


def check_hdf5_path(path: str) -> str | None:
    """Why `path` (FILE.h5 or FILE.h5:KEY) holds no usable pictures, or None; reads metadata only."""
    try:
        _plan(path)
    except UserError as error:
        return str(error).removeprefix("hdf5: ")
    except OSError as error:
        return f"{path}: {error}"
    return None


def load_hdf5(
    path: str | None, image_size: int | None, download: bool, in_memory_bytes: int = IN_MEMORY_BYTES
) -> TensorSource | StreamSource:
    """Pictures from FILE.h5[:KEY], resized when image_size is given; small files are read into memory."""
    if not path:
        raise UserError("hdf5 needs --data FILE.h5 (or FILE.h5:KEY)")
    plan = _plan(path)
    table = plan.table
    height, width = (image_size, image_size) if image_size else (table.height, table.width)
    channels = min(table.channels, 3)
    info = DataInfo(
        name="hdf5", kind="image", shape=(channels, height, width), size=table.count,
        num_classes=len(plan.class_names) or None,
        source=f"{table.file}:{table.key}", class_names=plan.class_names,
    )
    labels = None if plan.labels is None else torch.from_numpy(plan.labels)
    largest = table.count * channels * max(height * width, table.height * table.width)
    if largest < in_memory_bytes:
        return TensorSource(read_all(table, height, width), labels, info)
    return StreamSource(Hdf5Dataset(table, plan.labels, height, width), table.count, info)

