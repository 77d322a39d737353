"""A folder of pictures (torchvision ImageFolder semantics, but forgiving): class subfolders become labels."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from gantui.engine.data.base import DataInfo
from gantui.engine.data.files import printable
from gantui.engine.data.pixels import UINT16_SCALE, scale_for, stats_of, to_uint8
from gantui.engine.data.stream_source import StreamSource
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
DEFAULT_SIZE = 64
IN_MEMORY_IMAGES = 20_000  # folders up to this many images are decoded once and kept in memory
DECODE_BATCH = 256
# Pictures up to this many pixels are decoded, though Pillow warns past 89M by default (they are the user's own,
# not an attack); larger ones are skipped with a reason.
MAX_PICTURE_PIXELS = 1 << 28


@dataclass(frozen=True)
class ImageList:
    """The image files under a folder, with class indices when they sit in two or more class subfolders."""

    root: Path
    paths: tuple[Path, ...]
    labels: tuple[int, ...] | None
    class_names: tuple[str, ...]
    unreadable_folders: tuple[tuple[Path, str], ...] = ()  # (folder, reason) that could not be listed


def is_image_name(name: str) -> bool:
    """Whether a file name looks like a picture gantui reads (hidden files such as ._x.jpg excluded)."""
    return not name.startswith(".") and Path(name).suffix.lower() in SUFFIXES


def walk_images(root: Path, unreadable: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """Every picture file under `root` in a stable order (a folder's files before its subfolders'), hidden
    names left out. Symbolic links are followed, but each real folder is walked once and each real file given
    once, so a link loop or a second link to the same place adds nothing. Folders that cannot be listed go
    to `unreadable`; a link to nowhere with a picture's name is given (it is then skipped as unreadable)."""
    walked: set[str] = set()
    given: set[str] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        real = os.path.realpath(folder)
        if real in walked:
            continue
        walked.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            if unreadable is not None:
                unreadable.append((folder, error.strerror or str(error)))
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                subfolders.append(Path(entry.path))
                continue
            if not is_image_name(entry.name):
                continue
            real_file = os.path.realpath(entry.path) if entry.is_symlink() else os.path.join(real, entry.name)
            if real_file not in given:
                given.add(real_file)
                yield Path(entry.path)
        pending.extend(reversed(subfolders))


def scan_images(root: Path) -> ImageList:
    """Every image file under `root`, recursively, each real file once, in a stable order."""
    unreadable: list[tuple[Path, str]] = []
    paths = list(walk_images(root, unreadable))
    tops = [path.relative_to(root).parts for path in paths]
    class_names = tuple(sorted({parts[0] for parts in tops if len(parts) > 1}))
    if len(class_names) < 2 or any(len(parts) == 1 for parts in tops):
        return ImageList(root, tuple(paths), None, (), tuple(unreadable))
    index = {name: position for position, name in enumerate(class_names)}
    labels = tuple(index[parts[0]] for parts in tops)
    return ImageList(root, tuple(paths), labels, class_names, tuple(unreadable))


@contextmanager
def pillow_decisions() -> Iterator[None]:
    """While pictures decode (in this thread or its pool), Pillow's pixel limit is gantui's and its warnings
    stay unprinted: each picture is either used or skipped with a reason in the source's warnings.

    Enter it in the thread that starts the decoding, once per batch, never in the pool's threads: warning
    filters are process-wide, and nested entries from several threads would leave them changed."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS  # Pillow then refuses only past twice this; see _size_problem
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. DecompressionBombWarning, corrupt EXIF: decided here instead
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _size_problem(image: Image.Image) -> str | None:
    width, height = image.size
    if width * height <= MAX_PICTURE_PIXELS:
        return None
    return f"{width}×{height} pixels, more than the {MAX_PICTURE_PIXELS:,} gantui decodes; shrink it"


def _grey_as_uint8(image: Image.Image) -> Image.Image:
    """16-bit grey scaled by 65535 (32-bit integers taken as 16-bit), float grey by its own range."""
    values = np.asarray(image)
    if image.mode == "F":
        scale = scale_for(values.dtype, stats_of(values))  # a ValueError for NaN or odd ranges skips the file
    else:
        values, scale = np.clip(values, 0, 65535), UINT16_SCALE
    return Image.fromarray(to_uint8(values, scale))  # 2-D uint8: mode L


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparent pixels laid over white and 16-bit or float grey scaled down to 8 bits."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        image = _grey_as_uint8(image)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def decode_image(path: Path, size: int) -> np.ndarray:
    """One picture as (size, size, 3) uint8: scaled so its shorter side is `size`, centre cropped."""
    with Image.open(path) as image:
        problem = _size_problem(image)
        if problem is not None:
            raise ValueError(problem)
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


def _reason(path: Path, error: Exception) -> str:
    """Why a picture file cannot be used, in a few words fit for a one-line message."""
    if isinstance(error, Image.DecompressionBombError):
        return f"more than {2 * MAX_PICTURE_PIXELS:,} pixels; shrink it"
    try:
        if path.stat().st_size == 0:
            return "an empty file"
    except OSError as stat_error:
        return stat_error.strerror or type(stat_error).__name__  # e.g. a link to nowhere
    return printable(str(error) or type(error).__name__, limit=100)


def _try_decode(path: Path, size: int) -> tuple[np.ndarray | None, str]:
    try:
        return decode_image(path, size), ""
    except Exception as error:  # PIL raises many types for broken files
        return None, _reason(path, error)


def _threads() -> int:
    return min(8, os.cpu_count() or 1)


def decode_batches(
    paths: Sequence[Path], size: int
) -> Iterator[tuple[list[int], np.ndarray, list[tuple[Path, str]]]]:
    """Decode in threads, a batch at a time: (indices of good files, their pixels, (path, reason) failures)."""
    with ThreadPoolExecutor(_threads()) as pool:
        for start in range(0, len(paths), DECODE_BATCH):
            chunk = paths[start : start + DECODE_BATCH]
            with pillow_decisions():  # not across the yield: the caller's code runs between batches
                results = list(pool.map(lambda path: _try_decode(path, size), chunk))
            good = [start + offset for offset, (array, _) in enumerate(results) if array is not None]
            pixels = np.stack([array for array, _ in results if array is not None]) if good else None
            failures = [(path, reason) for path, (array, reason) in zip(chunk, results, strict=True) if array is None]
            yield good, pixels if pixels is not None else np.empty((0, size, size, 3), np.uint8), failures


def skip_warnings(failures: Sequence[tuple[Path, str]], folders: Sequence[tuple[Path, str]] = ()) -> list[str]:
    """One log line about the picture files not used, naming the first few, and one about unlisted folders."""
    lines = []
    for items, what in ((failures, "image"), (folders, "folder that cannot be read")):
        if items:
            named = ", ".join(f"{path} ({reason})" for path, reason in items[:3])
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            plural = "s" if len(items) > 1 else ""
            lines.append(printable(f"skipped {len(items)} {what}{plural}: {named}{more}", limit=1000))
    return lines


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
            with pillow_decisions():  # one picture at a time in this process (a DataLoader worker, or a preview)
                array, _ = _try_decode(Path(self.paths[candidate]), self.size)
            if array is not None:
                label = -1 if self.labels is None else int(self.labels[candidate])
                return torch.from_numpy(array).permute(2, 0, 1).contiguous(), label
        raise RuntimeError(f"no image under {Path(self.paths[0]).parent} can be read any more")


def _header_problem(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            return _size_problem(image)
    except Exception as error:  # PIL raises many types for broken files
        return _reason(path, error)


def check_imagefolder_path(path: str) -> str | None:
    """Why `path` cannot be an image folder (stops at the first picture file), or None when it looks right."""
    root = Path(path).expanduser()
    if not root.is_dir():
        return f"{root} is not a folder"
    unreadable: list[tuple[Path, str]] = []
    if next(walk_images(root, unreadable), None) is not None:
        return None
    if unreadable:
        folder, reason = unreadable[0]
        return printable(f"no picture files under {root}: cannot read {folder} ({reason})")
    return f"no {'/'.join(SUFFIXES)} files under {root}"


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
    notes = skip_warnings(failures, images.unreadable_folders)
    return TensorSource(samples, labels, info, warnings=notes, skipped=len(failures))


def _streaming(images: ImageList, size: int) -> StreamSource:
    with ThreadPoolExecutor(_threads()) as pool, pillow_decisions():
        problems = list(pool.map(_header_problem, images.paths))
    failures = [(path, reason) for path, reason in zip(images.paths, problems, strict=True) if reason is not None]
    good = [index for index, reason in enumerate(problems) if reason is None]
    if not good:
        raise UserError(f"imagefolder: none of the {len(images.paths)} image files under {images.root} can be read")
    labels = None if images.labels is None else [images.labels[index] for index in good]
    dataset = ImageFileDataset([images.paths[index] for index in good], labels, size)
    info = _info(images, len(good), size)
    notes = skip_warnings(failures, images.unreadable_folders)
    return StreamSource(dataset, len(good), info, warnings=notes, skipped=len(failures))


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
