"""Fashion-MNIST and CIFAR-10 through torchvision, from a folder the user names (downloaded only on request)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gantui.engine.data.mnist import datasets_dir, source_from_arrays
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError


@dataclass(frozen=True)
class TorchvisionSet:
    """How one torchvision dataset is laid out under its root folder."""

    name: str
    class_name: str  # the torchvision.datasets class
    folder: str  # what torchvision creates under ROOT


FASHION_MNIST = TorchvisionSet("fashion-mnist", "FashionMNIST", "FashionMNIST")
CIFAR10 = TorchvisionSet("cifar10", "CIFAR10", "cifar-10-batches-py")


def download_root() -> Path:
    """Where --download puts data when no --data ROOT is given."""
    return datasets_dir() / "downloads"


def _root_for(dataset: TorchvisionSet, path: Path) -> Path:
    """Accept ROOT as torchvision means it, or the dataset's own folder inside it."""
    return path.parent if path.name == dataset.folder else path


def check_torchvision_path(dataset: TorchvisionSet, path: str) -> str | None:
    """Why `path` holds no copy of `dataset` (looks for its folder only), or None when it looks right."""
    root = _root_for(dataset, Path(path).expanduser())
    if not root.is_dir():
        return f"{root} is not a folder"
    if not (root / dataset.folder).is_dir():
        return f"no {dataset.folder}/ under {root}; pass --download to fetch {dataset.name} there"
    return None


def _open(dataset: TorchvisionSet, root: Path, download: bool) -> Any:
    import torchvision.datasets

    reader = getattr(torchvision.datasets, dataset.class_name)
    problems = []
    for train in (True, False):  # the training split when present, else the test split
        try:
            return reader(str(root), train=train, download=download)
        except RuntimeError as error:
            problems.append(str(error).split("\n")[0])
            if download:
                break
        except Exception as error:  # network, disk and archive errors come in many types
            if not download:
                raise UserError(f"{dataset.name}: cannot read {root / dataset.folder}: {error}") from None
            raise UserError(f"{dataset.name}: could not download into {root}: {error}".replace("\n", " ")) from None
    raise UserError(f"{dataset.name}: no readable copy under {root} ({problems[-1]}); pass --data ROOT or --download")


def load_torchvision_set(
    dataset: TorchvisionSet, path: str | None, image_size: int | None, download: bool
) -> TensorSource:
    """`dataset` from ROOT (or the download folder) as an in-memory uint8 source."""
    if not path and not download:
        root = download_root()
        if not (root / dataset.folder).is_dir():
            raise UserError(f"{dataset.name} is not bundled: pass --data ROOT (a torchvision root) or --download")
    else:
        root = _root_for(dataset, Path(path).expanduser()) if path else download_root()
    if not download:
        reason = check_torchvision_path(dataset, str(root))
        if reason is not None:
            raise UserError(f"{dataset.name}: {reason}")
    opened = _open(dataset, root, download)
    images = np.asarray(opened.data)  # FashionMNIST: (N, 28, 28) tensor; CIFAR10: (N, 32, 32, 3) array
    if images.ndim == 4:
        images = images.transpose(0, 3, 1, 2)
    labels = np.asarray(opened.targets, dtype=np.int64)
    where = str(root / dataset.folder)
    return source_from_arrays(dataset.name, images, labels, where, image_size, tuple(opened.classes))


def load_fashion_mnist(path: str | None, image_size: int | None, download: bool) -> TensorSource:
    """Fashion-MNIST (10 clothing classes, 28×28 grey) from a torchvision root."""
    return load_torchvision_set(FASHION_MNIST, path, image_size, download)


def load_cifar10(path: str | None, image_size: int | None, download: bool) -> TensorSource:
    """CIFAR-10 (10 classes, 32×32 colour) from a torchvision root."""
    return load_torchvision_set(CIFAR10, path, image_size, download)
