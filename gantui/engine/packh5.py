"""`gantui pack-h5`: a folder of pictures into one compressed HDF5 file that the hdf5 dataset reads fast."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from gantui.engine.data.files import printable
from gantui.engine.data.imagefolder import check_imagefolder_path, decode_batches, scan_images
from gantui.engine.errors import UserError

COMPRESSION_LEVEL = 4  # gzip: a fair trade of file size against decode speed


def _temporary_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


def _cannot_write(out: Path, error: OSError) -> UserError:
    return UserError(f"pack-h5: cannot write {out}: {printable(error.strerror or str(error))}")


def _start_temporary(out: Path) -> Path:
    """An empty temporary file beside `out`, renamed over it once written; a UserError when none can be made
    (a missing or read-only folder, a folder named as the file), before any picture is decoded."""
    try:
        if out.is_dir():
            raise UserError(f"pack-h5: {out} is a folder; name the .h5 file to write")
        if not out.parent.is_dir():
            raise UserError(f"pack-h5: the folder for {out} does not exist; create it or name another")
        temporary = _temporary_path(out)
        temporary.open("wb").close()
    except OSError as error:  # e.g. a folder that cannot be searched, a read-only place
        raise _cannot_write(out, error) from None
    return temporary


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
    if on_skip is not None:
        for folder, reason in found.unreadable_folders:
            on_skip(f"skipped folder {folder}: {reason}")
    for indices, pixels, failures in decode_batches(found.paths, size):
        for path, reason in failures:
            if on_skip is not None:
                on_skip(f"skipped image {path}: {reason}")
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
    if not 1 <= size <= 4096:
        raise UserError(f"pack-h5: size {size} is out of range (1 to 4096 pixels)")
    try:
        reason = check_imagefolder_path(str(source))
    except OSError as error:
        raise UserError(f"pack-h5: cannot read {source}: {printable(error.strerror or str(error))}") from None
    if reason is not None:
        raise UserError(f"pack-h5: {reason}")
    temporary = _start_temporary(out)
    try:
        with h5py.File(temporary, "w") as handle:
            count = _write(handle, source, size, on_skip)
        os.replace(temporary, out)
    except OSError as error:
        raise _cannot_write(out, error) from None
    finally:
        with contextlib.suppress(OSError):  # nothing to remove after the rename; a failed removal is no news
            temporary.unlink(missing_ok=True)
    return count
