"""MNIST from the original idx files (gzip or not): the embedded test set, or any folder the user names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

import gantui
from gantui.engine.data.base import DataInfo
from gantui.engine.data.files import read_bytes
from gantui.engine.data.tensor_source import TensorSource, fit_center_crop
from gantui.engine.errors import UserError

IDX_UBYTE = 0x08
SUBFOLDERS = ("", "raw", "MNIST/raw")  # flat, torchvision's root/raw, torchvision's root/MNIST/raw
DIGITS = tuple(str(digit) for digit in range(10))


def datasets_dir() -> Path:
    """The folder of bundled data: $GANTUI_DATASETS_DIR, else `datasets/` beside the package."""
    override = os.environ.get("GANTUI_DATASETS_DIR")
    return Path(override).expanduser() if override else Path(gantui.__file__).resolve().parent.parent / "datasets"


def embedded_mnist_dir() -> Path:
    """Where the MNIST test set that ships with gantui lives."""
    return datasets_dir() / "mnist"


def _idx_name(prefix: str, what: str) -> re.Pattern[str]:
    rank = "3" if what == "images" else "1"
    return re.compile(rf"{prefix}-{what}[-.]idx{rank}-ubyte(\.gz)?", re.IGNORECASE)


def find_idx_pair(folder: Path) -> tuple[Path, Path] | None:
    """The (images, labels) idx files in `folder`, its raw/ or MNIST/raw/, preferring train over t10k."""
    for prefix in ("train", "t10k"):
        for sub in SUBFOLDERS:
            where = folder / sub if sub else folder
            if not where.is_dir():
                continue
            names = sorted(entry.name for entry in where.iterdir() if entry.is_file())
            images = [name for name in names if _idx_name(prefix, "images").fullmatch(name)]
            labels = [name for name in names if _idx_name(prefix, "labels").fullmatch(name)]
            if images and labels:
                return where / images[0], where / labels[0]
    return None


def read_idx(path: Path, rank: int) -> np.ndarray:
    """An idx file of unsigned bytes with `rank` dimensions as a numpy array (checks magic and length)."""
    data = read_bytes(path)
    header_size = 4 + 4 * rank
    if len(data) < header_size:
        raise UserError(f"{path}: too short to be an idx file ({len(data)} bytes)")
    zeros, dtype_code, found_rank = data[:2], data[2], data[3]
    if zeros != b"\x00\x00" or dtype_code != IDX_UBYTE or found_rank != rank:
        magic = int.from_bytes(data[:4], "big")
        raise UserError(
            f"{path}: bad idx magic number 0x{magic:08x}, expected 0x{IDX_UBYTE << 8 | rank:08x} (unsigned bytes, "
            f"{rank} dimension{'s' if rank > 1 else ''})"
        )
    dims = tuple(int(value) for value in np.frombuffer(data, dtype=">u4", count=rank, offset=4))
    expected = int(np.prod(dims)) + header_size
    if len(data) < expected:
        raise UserError(f"{path}: {len(data)} bytes but the header {dims} needs {expected}; truncated? fetch it again")
    if len(data) > expected:
        raise UserError(f"{path}: {len(data) - expected} bytes more than the header {dims} describes; not an idx file?")
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def read_mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) and labels (N,) from an idx pair, checked against each other."""
    images = read_idx(images_path, rank=3)
    labels = read_idx(labels_path, rank=1)
    if len(images) != len(labels):
        raise UserError(f"{images_path}: {len(images)} images but {labels_path.name} has {len(labels)} labels")
    if len(images) == 0:
        raise UserError(f"{images_path}: holds no images")
    if labels.max() > 9:
        raise UserError(f"{labels_path}: label {int(labels.max())} is not a digit 0-9")
    return images, labels


def source_from_arrays(
    name: str, images: np.ndarray, labels: np.ndarray, where: str, image_size: int | None,
    class_names: tuple[str, ...] = DIGITS,
) -> TensorSource:
    """A labelled in-memory source from uint8 (N, H, W) or (N, C, H, W) arrays, resized when asked."""
    images = np.ascontiguousarray(images)
    samples = torch.from_numpy(images if images.flags.writeable else images.copy())
    if samples.ndim == 3:
        samples = samples.unsqueeze(1)
    if image_size is not None:
        samples = fit_center_crop(samples, image_size, image_size)
    info = DataInfo(
        name=name, kind="image", shape=tuple(samples.shape[1:]), num_classes=len(class_names),
        size=len(samples), source=where, class_names=class_names,
    )
    return TensorSource(samples, torch.from_numpy(labels.astype(np.int64)), info)


def download_mnist(root: Path) -> Path:
    """Fetch the full MNIST with torchvision into root/MNIST/raw (only when the user asked to download)."""
    from torchvision.datasets import MNIST

    try:
        MNIST(str(root), train=True, download=True)
    except Exception as error:  # network and disk errors come in many types
        raise UserError(f"could not download MNIST into {root}: {error}".replace("\n", " ")) from None
    return root


def check_mnist_path(path: str) -> str | None:
    """Why `path` cannot be read as MNIST idx files, or None when it looks right."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if find_idx_pair(folder) is None:
        return f"no train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte files in {folder} (or raw/, MNIST/raw/)"
    return None


def load_mnist(path: str | None, image_size: int | None, download: bool) -> TensorSource:
    """MNIST from `path` (a folder of idx files), or the embedded 10k test set when no path is given."""
    if download:
        folder = download_mnist(Path(path).expanduser() if path else datasets_dir() / "downloads")
    else:
        folder = Path(path).expanduser() if path else embedded_mnist_dir()
    if not folder.is_dir():
        raise UserError(f"mnist: {folder} is not a folder")
    pair = find_idx_pair(folder)
    if pair is None:
        raise UserError(f"mnist: {check_mnist_path(str(folder))}")
    images, labels = read_mnist_pair(*pair)
    return source_from_arrays("mnist", images, labels, str(pair[0].parent), image_size)
