"""A folder of pictures (torchvision ImageFolder semantics, but forgiving): class subfolders become labels."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from gantui.engine.data.base import DataInfo
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
DEFAULT_SIZE = 64
IN_MEMORY_IMAGES = 20_000  # folders up to this many images are decoded once and kept in memory
DECODE_BATCH = 256


@dataclass(frozen=True)
class ImageList:
    """The image files under a folder, with class indices when they sit in two or more class subfolders."""

    root: Path
    paths: tuple[Path, ...]
    labels: tuple[int, ...] | None
    class_names: tuple[str, ...]


def is_image_name(name: str) -> bool:
    """Whether a file name looks like a picture gantui reads (hidden files such as ._x.jpg excluded)."""
    return not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES


def scan_images(root: Path) -> ImageList:
    """Every image file under `root`, recursively, in a stable order."""
    paths: list[Path] = []
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        paths.extend(Path(folder) / name for name in sorted(names) if is_image_name(name))
    tops = [path.relative_to(root).parts for path in paths]
    class_names = tuple(sorted({parts[0] for parts in tops if len(parts) > 1}))
    if len(class_names) < 2 or any(len(parts) == 1 for parts in tops):
        return ImageList(root, tuple(paths), None, ())
    index = {name: position for position, name in enumerate(class_names)}
    return ImageList(root, tuple(paths), tuple(index[parts[0]] for parts in tops), class_names)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparent pixels laid over white and 16-bit grey scaled down to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I") and np.asarray(image).max() > 255:
        image = Image.fromarray((np.asarray(image, dtype=np.uint32) >> 8).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def decode_image(path: Path, size: int) -> np.ndarray:
    """One picture as (size, size, 3) uint8: scaled so its shorter side is `size`, centre cropped."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # JPEG decodes straight to a smaller scale: much faster
        try:
            image = ImageOps.exif_transpose(image) or image
        except Exception:  # a broken EXIF block should not lose the picture
            pass
        image = _to_rgb(image)
        width, height = image.size
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        box = (left, top, left + side, top + side)
        image = image.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
        return np.array(image, dtype=np.uint8)  # a writable copy, as torch.from_numpy wants


def _try_decode(path: Path, size: int) -> tuple[np.ndarray | None, str]:
    try:
        return decode_image(path, size), ""
    except Exception as error:  # PIL raises many types for broken files
        return None, str(error) or type(error).__name__


def _threads() -> int:
    return min(8, os.cpu_count() or 1)


def decode_batches(
    paths: Sequence[Path], size: int
) -> Iterator[tuple[list[int], np.ndarray, list[tuple[Path, str]]]]:
    """Decode in threads, a batch at a time: (indices of good files, their pixels, (path, reason) failures)."""
    with ThreadPoolExecutor(_threads()) as pool:
        for start in range(0, len(paths), DECODE_BATCH):
            chunk = paths[start : start + DECODE_BATCH]
            results = list(pool.map(lambda path: _try_decode(path, size), chunk))
            good = [start + offset for offset, (array, _) in enumerate(results) if array is not None]
            pixels = np.stack([array for array, _ in results if array is not None]) if good else None
            failures = [(path, reason) for path, (array, reason) in zip(chunk, results, strict=True) if array is None]
            yield good, pixels if pixels is not None else np.empty((0, size, size, 3), np.uint8), failures


def skip_warnings(failures: Sequence[tuple[Path, str]]) -> list[str]:
    """One log line about the unreadable files, naming the first few."""
    if not failures:
        return []
    named = ", ".join(f"{path} ({reason})" for path, reason in failures[:3])
    more = f" and {len(failures) - 3} more" if len(failures) > 3 else ""
    plural = "s" if len(failures) > 1 else ""
    return [f"skipped {len(failures)} unreadable image{plural}: {named}{more}"]


class ImageFileDataset(Dataset):
    """Decodes one picture per item, in DataLoader workers; a file broken since the scan gives its neighbour."""

    def __init__(self, paths: Sequence[Path], labels: Sequence[int] | None, size: int) -> None:
        self.paths = [str(path) for path in paths]
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        for attempt in range(len(self.paths)):
            candidate = (index + attempt) % len(self.paths)
            array, _ = _try_decode(Path(self.paths[candidate]), self.size)
            if array is not None:
                label = -1 if self.labels is None else int(self.labels[candidate])
                return torch.from_numpy(array).permute(2, 0, 1).contiguous(), label
        raise RuntimeError(f"no image under {Path(self.paths[0]).parent} can be read any more")


def _header_problem(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            image.size  # noqa: B018 - reading the header is the check
        return None
    except Exception as error:  # PIL raises many types for broken files
        return str(error) or type(error).__name__


def check_imagefolder_path(path: str) -> str | None:
    """Why `path` cannot be an image folder (stops at the first picture file), or None when it looks right."""
    root = Path(path).expanduser()
    if not root.is_dir():
        return f"{root} is not a folder"
    for _, _, names in os.walk(root, followlinks=True):
        if any(is_image_name(name) for name in names):
            return None
    return f"no .png/.jpg/.jpeg/.bmp/.gif/.webp files under {root}"


def _info(images: ImageList, count: int, size: int) -> DataInfo:
    return DataInfo(
        name="imagefolder", kind="image", shape=(3, size, size), size=count, source=str(images.root),
        num_classes=len(images.class_names) or None, class_names=images.class_names,
    )


def _in_memory(images: ImageList, size: int) -> TensorSource:
    good: list[int] = []
    parts: list[np.ndarray] = []
    failures: list[tuple[Path, str]] = []
    for indices, pixels, failed in decode_batches(images.paths, size):
        good += indices
        parts.append(pixels)
        failures += failed
    if not good:
        raise UserError(f"imagefolder: none of the {len(images.paths)} image files under {images.root} can be read")
    samples = torch.from_numpy(np.concatenate(parts)).permute(0, 3, 1, 2).contiguous()
    labels = None if images.labels is None else torch.tensor([images.labels[i] for i in good])
    info = _info(images, len(good), size)
    return TensorSource(samples, labels, info, warnings=skip_warnings(failures), skipped=len(failures))


def _streaming(images: ImageList, size: int) -> StreamSource:
    with ThreadPoolExecutor(_threads()) as pool:
        problems = list(pool.map(_header_problem, images.paths))
    failures = [(path, reason) for path, reason in zip(images.paths, problems, strict=True) if reason is not None]
    good = [index for index, reason in enumerate(problems) if reason is None]
    if not good:
        raise UserError(f"imagefolder: none of the {len(images.paths)} image files under {images.root} can be read")
    labels = None if images.labels is None else [images.labels[index] for index in good]
    dataset = ImageFileDataset([images.paths[index] for index in good], labels, size)
    info = _info(images, len(good), size)
    return StreamSource(dataset, len(good), info, warnings=skip_warnings(failures), skipped=len(failures))


def load_imagefolder(
    path: str | None, image_size: int | None, download: bool, max_in_memory: int = IN_MEMORY_IMAGES
) -> TensorSource | StreamSource:
    """Pictures under `path` as RGB image_size² (default 64); small folders are decoded once into memory."""
    if not path:
        raise UserError("imagefolder needs --data FOLDER")
    reason = check_imagefolder_path(path)
    if reason is not None:
        raise UserError(f"imagefolder: {reason}")
    images = scan_images(Path(path).expanduser())
    size = image_size or DEFAULT_SIZE
    if len(images.paths) <= max_in_memory:
        return _in_memory(images, size)
    return _streaming(images, size)
