"""The sentences an architecture answers with when the data does not fit it (None when it does)."""

from __future__ import annotations

from gantui.engine.data.base import DataInfo


def describe(info: DataInfo) -> str:
    """'1×28×28 images from mnist' or 'vectors of 4 values from pattern1010'."""
    if info.is_image:
        return f"{'×'.join(str(n) for n in info.shape)} images from {info.name}"
    return f"vectors of {info.shape[0]} values from {info.name}"


def image_problem(
    arch: str, info: DataInfo, *, size: int | None = None, labelled: bool = False
) -> str | None:
    """Why `arch` (wanting images: square `size`×`size` if given, labelled if asked) can't use `info`."""
    if not info.is_image:
        return f"{arch} needs images, but {info.name} gives {describe(info)}; pick an image dataset (mnist)"
    if labelled and not info.num_classes:
        return (f"{arch} needs labelled data, but {info.name} has no labels; use mnist, fashion-mnist, "
                "cifar10 or an imagefolder with one sub-folder per class")
    if size is not None and info.image_size != (size, size):
        height, width = info.image_size or (0, 0)
        return (f"{arch} needs {size}×{size} images (got {height}×{width}); pass --image-size {size} "
                "with an image dataset that can be resized")
    return None


def vector_problem(arch: str, info: DataInfo, *, length: int, dataset: str) -> str | None:
    """Why `arch` (which wants flat vectors of `length` values, like `dataset`'s) can't use `info`."""
    if info.is_image or info.shape != (length,):
        return (f"{arch} needs vectors of {length} values like {dataset}'s (got {describe(info)}); "
                f"use --dataset {dataset}")
    return None
