"""The dataset registry: every dataset gantui can train on, by name, and one way to load each."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from gantui.engine.data.base import DataInfo, DataSource
from gantui.engine.data.csv import check_csv_path, load_mnist_csv
from gantui.engine.data.files import printable
from gantui.engine.data.hdf5 import check_hdf5_path, load_hdf5
from gantui.engine.data.imagefolder import check_imagefolder_path, load_imagefolder
from gantui.engine.data.mnist import check_mnist_path, load_mnist
from gantui.engine.data.shapes import CLASS_NAMES as SHAPE_KINDS
from gantui.engine.data.shapes import DEFAULT_SIZE as SHAPES_SIZE
from gantui.engine.data.shapes import load_shapes
from gantui.engine.data.torchvision_sets import (
    CIFAR10,
    FASHION_MNIST,
    check_torchvision_path,
    load_cifar10,
    load_fashion_mnist,
)
from gantui.engine.data.toy import CURVE_POINTS, load_pattern1010, load_quadratic
from gantui.engine.errors import UserError

__all__ = [
    "DATASETS", "DataInfo", "DataSource", "DatasetSpec", "describe_datasets", "load_dataset", "validate_data_path",
]

Loader = Callable[[str | None, int | None, bool], DataSource]
PathCheck = Callable[[str], str | None]


EVAL_EVERY_PICTURES = 500  # steps between quality evaluations of picture data unless --eval-every says otherwise


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the registry: what it is, what it needs, what it gives, and how to load it."""

    name: str
    description: str
    loader: Loader  # loader(path, image_size, download) -> DataSource
    needs_path: bool = False  # --data is required (else optional or not taken: see takes_path)
    check_path: PathCheck | None = None  # cheap check of a --data value; None: the dataset takes no path
    kind: str = "image"  # "image" or "vector"
    downloadable: bool = False  # --download may fetch it
    shape: tuple[int, ...] | None = None  # one sample's shape, where known without loading (C, H, W) or (n,)
    num_classes: int | None = None  # where every copy of the data has labels
    free_size: bool = False  # pictures come at any size asked (--image-size), none of their own

    @property
    def takes_path(self) -> bool:
        """Whether --data means anything for this dataset."""
        return self.check_path is not None

    @property
    def image_size(self) -> int | None:
        """The side of the square pictures this data comes as, when it has one of its own."""
        if self.kind != "image" or self.free_size or self.shape is None:
            return None
        return self.shape[-1]

    @property
    def eval_every(self) -> int:
        """Steps between quality evaluations by default: on for pictures, off for the toy vectors."""
        return EVAL_EVERY_PICTURES if self.kind == "image" else 0


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("pattern1010", "four values in the 1010 pattern (seed 003 toy)", load_pattern1010,
                    kind="vector", shape=(4,)),
        DatasetSpec("quadratic", "15 points of the curve y = 2x²+1 (seed 002 toy)", load_quadratic,
                    kind="vector", shape=(CURVE_POINTS,)),
        DatasetSpec("mnist", "handwritten digits 28×28; the 10k test set is built in, --data DIR for idx files",
                    load_mnist, check_path=check_mnist_path, downloadable=True, shape=(1, 28, 28), num_classes=10),
        DatasetSpec("mnist-csv", "MNIST as CSV: label then 784 pixels per row (--data FILE.csv)", load_mnist_csv,
                    needs_path=True, check_path=check_csv_path, shape=(1, 28, 28), num_classes=10),
        DatasetSpec("hdf5", "pictures in an HDF5 file, e.g. the tutorial's CelebA (--data FILE.h5[:KEY])", load_hdf5,
                    needs_path=True, check_path=check_hdf5_path, free_size=True),
        DatasetSpec("imagefolder", "a folder of pictures; class subfolders become labels (--data DIR)",
                    load_imagefolder, needs_path=True, check_path=check_imagefolder_path, free_size=True),
        DatasetSpec("fashion-mnist", "Zalando clothing 28×28 grey, 10 classes (--data ROOT or --download)",
                    load_fashion_mnist, needs_path=True, check_path=partial(check_torchvision_path, FASHION_MNIST),
                    downloadable=True, shape=(1, 28, 28), num_classes=10),
        DatasetSpec("cifar10", "CIFAR-10 colour 32×32, 10 classes (--data ROOT or --download)", load_cifar10,
                    needs_path=True, check_path=partial(check_torchvision_path, CIFAR10), downloadable=True,
                    shape=(3, 32, 32), num_classes=10),
        DatasetSpec("shapes", "generated colour circles, squares and triangles, 64×64 (or --image-size 32)",
                    load_shapes, shape=(3, SHAPES_SIZE, SHAPES_SIZE), num_classes=len(SHAPE_KINDS), free_size=True),
    )
}


def describe_datasets() -> list[DatasetSpec]:
    """Every registered dataset, in a stable order."""
    return list(DATASETS.values())


def _spec(name: str) -> DatasetSpec:
    spec = DATASETS.get(name.strip().lower())
    if spec is None:
        close = difflib.get_close_matches(name, DATASETS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UserError(f"unknown dataset '{name}'; {hint}choose from {', '.join(DATASETS)}")
    return spec


def validate_data_path(name: str, path: str | None, download: bool = False) -> str | None:
    """A reason why `path` will not load as dataset `name` (fetched into it when `download`), or None; cheap
    (never reads the whole data)."""
    try:
        spec = _spec(name)
    except UserError as error:
        return str(error)
    path = (path or "").strip() or None
    if download and spec.downloadable:  # torchvision fetches it: a folder to put it in is all it needs
        return None if path is None or Path(path).expanduser().is_dir() else f"{path} is not a folder"
    if path is None:
        if spec.needs_path:
            return f"{spec.name} needs --data" + (" (or --download)" if spec.downloadable else "")
        return None
    if spec.check_path is None:
        return f"{spec.name} is generated and takes no --data"
    try:
        return spec.check_path(path)
    except OSError as error:
        return printable(f"{path}: {error.strerror or error}")


def load_dataset(
    name: str, path: str | None = None, image_size: int | None = None, download: bool = False
) -> DataSource:
    """The dataset `name`, ready for training; every problem with the input is a one-line UserError."""
    spec = _spec(name)
    path = (path or "").strip() or None
    if path is not None and spec.check_path is None:
        raise UserError(f"{spec.name} is generated and takes no --data (got {path})")
    if image_size is not None and spec.kind == "vector":
        raise UserError(f"{spec.name} is a vector dataset; --image-size does not apply")
    if image_size is not None and not 1 <= image_size <= 4096:
        raise UserError(f"image size {image_size} is out of range (1 to 4096 pixels)")
    if download and not spec.downloadable:
        raise UserError(f"{spec.name} cannot be downloaded; --download works for mnist, fashion-mnist, cifar10")
    if path is None and spec.needs_path and not download:
        raise UserError(f"{spec.name} needs --data" + (" ROOT or --download" if spec.downloadable else " PATH"))
    try:
        return spec.loader(path, image_size, download)
    except (OSError, MemoryError) as error:
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        where = getattr(error, "filename", None) or path or spec.name
        raise UserError(printable(f"{spec.name}: cannot read {where}: {detail}")) from None
