"""`gantui pack-h5`: a folder of pictures into one compressed HDF5 file that the hdf5 dataset reads fast."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from gantui.engine.data.imagefolder import check_imagefolder_path, decode_batches, scan_images
from gantui.engine.errors import UserError

COMPRESSION_LEVEL = 4  # gzip: a fair trade of file size against decode speed


def _temporary_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


def _write(
    handle: h5py.File, image_dir: Path, size: int, on_skip: Callable[[str], None] | None
) -> int:
    """Decode every picture into the `images` dataset (and `labels` when there are class folders)."""
    found = scan_images(image_dir)
    images = handle.create_dataset(
        "images", shape=(0, size, size, 3), maxshape=(None, size, size, 3), dtype=np.uint8,
        chunks=(1, size, size, 3), compression="gzip", compression_opts=COMPRESSION_LEVEL,
    )
    images.attrs["source"] = str(image_dir)
    images.attrs["layout"] = "NHWC"
    kept: list[int] = []
    for indices, pixels, failures in decode_batches(found.paths, size):
        for path, reason in failures:
            if on_skip is not None:
                on_skip(f"skipped unreadable image {path}: {reason}")
        images.resize(len(kept) + len(indices), axis=0)
        images[len(kept) :] = pixels
        kept += indices
    if not kept:
        raise UserError(f"pack-h5: none of the {len(found.paths)} image files under {image_dir} can be read")
    if found.labels is not None:
        labels = handle.create_dataset("labels", data=np.asarray([found.labels[i] for i in kept], np.int64))
        labels.attrs["class_names"] = list(found.class_names)
    return len(kept)


def pack_h5(
    image_dir: str | Path, out_path: str | Path, size: int = 64, on_skip: Callable[[str], None] | None = None
) -> int:
    """Pack the pictures under `image_dir` into `out_path` as uint8 N×size×size×3 "images"; returns N."""
    source, out = Path(image_dir).expanduser(), Path(out_path).expanduser()
    reason = check_imagefolder_path(str(source))
    if reason is not None:
        raise UserError(f"pack-h5: {reason}")
    if not 1 <= size <= 4096:
        raise UserError(f"pack-h5: size {size} is out of range (1 to 4096 pixels)")
    if not out.parent.is_dir():
        raise UserError(f"pack-h5: the folder for {out} does not exist")
    if out.is_dir():
        raise UserError(f"pack-h5: {out} is a folder; name the .h5 file to write")
    temporary = _temporary_path(out)
    try:
        with h5py.File(temporary, "w") as handle:
            count = _write(handle, source, size, on_skip)
        os.replace(temporary, out)
    except OSError as error:
        raise UserError(f"pack-h5: cannot write {out}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return count
