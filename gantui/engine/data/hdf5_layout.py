"""Finding the pictures in an HDF5 file: which dataset or group holds them, and which axis is the channels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from gantui.engine.data.pixels import ACCEPTED, KINDS
from gantui.engine.errors import UserError

CHANNELS = (1, 3, 4)
LABEL_NAMES = ("labels", "label", "targets", "y")
EXPECTED = f"expected N×H×W×C, N×C×H×W or N×H×W (C = 1, 3 or 4), or a group of H×W×C pictures, as {ACCEPTED}"


@dataclass(frozen=True)
class Hdf5Images:
    """Where the pictures sit in an HDF5 file and how they are laid out."""

    file: str
    key: str  # the stacked dataset, or the group holding one dataset per picture
    layout: str  # "nhwc", "nchw", "nhw" or "group"
    count: int
    channels: int  # as stored: 1, 3 or 4, in a group the most any picture has (alpha is dropped when read)
    height: int  # of the first picture (of every one in a stacked dataset)
    width: int
    dtype: str = "uint8"  # the stored values' type, brought to uint8 by `scale` (see pixels.scale_for)
    members: tuple[str, ...] = ()  # a group's picture datasets, in natural order (2.jpg before 10.jpg)
    largest: int = 0  # the largest picture's height × width
    odd_size: tuple[str, int, int] | None = None  # a group's first picture (name, height, width) of another size
    scale: float = 1.0  # stored value × scale = 0-255; set once the values are known


def split_path(path: str) -> tuple[Path, str | None]:
    """FILE.h5:KEY as (file, key); a path that exists as it is, or has no colon, as (path, None)."""
    whole = Path(path).expanduser()
    if whole.exists() or ":" not in path:
        return whole, None
    name, key = path.rsplit(":", 1)
    return Path(name).expanduser(), key or None


def natural_key(name: str) -> list[int | str]:
    """Sort key that puts 2.jpg before 10.jpg."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def stacked_layout(shape: tuple[int, ...]) -> str | None:
    """Which layout a stacked uint8 dataset of this shape has, judged by the axis of size 1, 3 or 4."""
    if len(shape) == 4:
        if shape[1] in CHANNELS and shape[3] not in CHANNELS:
            return "nchw"
        if shape[3] in CHANNELS:
            return "nhwc"
    if len(shape) == 3 and shape[2] not in CHANNELS:
        return "nhw"
    return None


def _holds_pixels(dataset: h5py.Dataset) -> bool:
    return dataset.dtype.kind in KINDS


def _stacked(dataset: h5py.Dataset) -> Hdf5Images | None:
    layout = stacked_layout(dataset.shape) if _holds_pixels(dataset) else None
    if layout is None or dataset.shape[0] == 0:
        return None
    shape = dataset.shape
    if layout == "nhwc":
        count, height, width, channels = shape
    elif layout == "nchw":
        count, channels, height, width = shape
    else:
        (count, height, width), channels = shape, 1
    return Hdf5Images("", dataset.name, layout, count, channels, height, width, str(dataset.dtype),
                      largest=height * width)


def _is_picture(dataset: h5py.Dataset) -> bool:
    return dataset.ndim == 3 and dataset.shape[2] in CHANNELS and _holds_pixels(dataset)


def _picture_group(group: h5py.Group, datasets: list[tuple[str, h5py.Dataset]]) -> Hdf5Images | None:
    """The group as one picture per dataset: every picture counted, whatever its size (they are resized)."""
    pictures = sorted(((name, dataset) for name, dataset in datasets if _is_picture(dataset)),
                      key=lambda item: natural_key(item[0]))
    if not pictures:
        return None
    (first, dataset), shapes = pictures[0], [dataset.shape for _, dataset in pictures]
    height, width, _ = dataset.shape
    odd = next(((name, shape[0], shape[1]) for (name, _), shape in zip(pictures, shapes, strict=True)
                if shape[:2] != (height, width)), None)
    other_type = next(((name, item.dtype) for name, item in pictures if item.dtype != dataset.dtype), None)
    if other_type is not None:
        raise UserError(f"hdf5: {group.file.filename}:{group.name} holds pictures of type {dataset.dtype} "
                        f"({first}) and {other_type[1]} ({other_type[0]}); store them all as one type")
    return Hdf5Images(
        "", group.name, "group", len(pictures), max(shape[2] for shape in shapes), height, width,
        str(dataset.dtype), tuple(name for name, _ in pictures),
        largest=max(shape[0] * shape[1] for shape in shapes), odd_size=odd,
    )


def problem(dataset: h5py.Dataset) -> str:
    """Why one dataset holds no pictures gantui can read."""
    if not _holds_pixels(dataset):
        return f"{dataset.name} is {dataset.dtype}, not a picture type"
    if dataset.ndim and dataset.shape[0] == 0:
        return f"{dataset.name} is empty"
    return f"{dataset.name} has shape {dataset.shape}"


def _search(group: h5py.Group, problems: list[str]) -> Hdf5Images | None:
    """The first stacked dataset here, else this group as one dataset per picture, else the same in subgroups."""
    items = sorted(group.items(), key=lambda item: natural_key(item[0]))
    datasets = [(name, item) for name, item in items if isinstance(item, h5py.Dataset)]
    for _, dataset in datasets:
        found = _stacked(dataset)
        if found is not None:
            return found
    found = _picture_group(group, datasets)
    if found is not None:
        return found
    problems.extend(problem(dataset) for name, dataset in datasets if name not in LABEL_NAMES)
    for _, item in items:
        if isinstance(item, h5py.Group):
            found = _search(item, problems)
            if found is not None:
                return found
    return None


def find_images(file: h5py.File, key: str | None) -> Hdf5Images:
    """The pictures under `key` (or anywhere in the file), or a UserError saying what was found instead."""
    where = f"{file.filename}:{key}" if key else file.filename
    if key is not None and key not in file:
        top = ", ".join(list(file.keys())[:8]) or "nothing"
        raise UserError(f"hdf5: {file.filename} has no '{key}' (top level holds: {top})")
    target = file[key] if key is not None else file
    if isinstance(target, h5py.Dataset):
        found = _stacked(target)
        if found is None:
            raise UserError(f"hdf5: {where}: {problem(target)}; {EXPECTED}")
        return found
    problems: list[str] = []
    found = _search(target, problems)
    if found is None:
        seen = "; ".join(problems[:4]) or "no datasets"
        raise UserError(f"hdf5: no pictures in {where} ({seen}); {EXPECTED}")
    return found


def _label_problem(item: h5py.Dataset, count: int) -> str | None:
    """Why a dataset named like labels cannot label these `count` pictures, or None."""
    if item.ndim != 1 or item.dtype.kind not in "iuf":
        return f"it is {item.dtype} of shape {item.shape}, not one whole number per picture"
    if len(item) != count:
        return f"{len(item)} values for {count} pictures"
    return None


def read_labels(file: h5py.File, table: Hdf5Images) -> tuple[np.ndarray | None, tuple[str, ...], list[str]]:
    """Whole-number labels (one per picture) stored beside the pictures as `labels`/`label`/`targets`/`y`,
    their class names, and a note for each dataset of such a name that cannot be used (so goes unused)."""
    target = file[table.key]
    places = [target, target.parent] if table.layout == "group" else [target.parent]
    notes: list[str] = []
    for place in places:
        for name in LABEL_NAMES:
            item = place.get(name)
            if not isinstance(item, h5py.Dataset):
                continue
            reason = _label_problem(item, table.count)
            if reason is not None:
                notes.append(f"{file.filename}:{item.name} is not used as labels: {reason}")
                continue
            values = item[()]
            if values.dtype.kind == "f" and not (np.isfinite(values).all() and (values == np.floor(values)).all()):
                notes.append(f"{file.filename}:{item.name} is not used as labels: its values are not whole numbers")
                continue
            labels = values.astype(np.int64)
            if labels.min() < 0:
                raise UserError(f"hdf5: {file.filename}:{item.name} holds negative labels")
            stored = item.attrs.get("class_names")
            if stored is None:
                names = tuple(str(index) for index in range(int(labels.max()) + 1))
            else:
                names = tuple(name.decode() if isinstance(name, bytes) else str(name) for name in stored)
            if int(labels.max()) >= len(names):
                raise UserError(f"hdf5: {file.filename}:{item.name} has label {labels.max()} but {len(names)} classes")
            return labels, names, []
    return None, (), notes
