"""The fit rule: can architecture A train on dataset D with these settings, and if not, why.

`gantui archs`, `gantui train` (through `resolve_config` and `build_models`), the launcher's menu and its
preview all ask here, so they give the same answer.
- `image_size_for` decides the picture size a run trains at before any data is loaded: what the user
  asked, else the size the architecture needs (pictures are resized to it), else the data's own.
- `data_problem` says why loaded data (already at that size) does not fit, or None.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gantui.engine.data import DATASETS, DatasetSpec
from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec


def image_size_for(arch: ArchSpec, dataset: DatasetSpec, requested: int | None = None) -> int | None:
    """The square size pictures are brought to for `arch` (None: as the data comes)."""
    if requested is not None or dataset.kind != "image":
        return requested
    if arch.image_size is not None and (dataset.free_size or dataset.image_size != arch.image_size):
        return arch.image_size
    return None


def describe(info: DataInfo) -> str:
    """'1×28×28 images from mnist' or 'vectors of 4 values from pattern1010'."""
    if info.is_image:
        return f"{'×'.join(str(n) for n in info.shape)} images from {info.name}"
    return f"vectors of {info.shape[0]} values from {info.name}"


def data_problem(arch: ArchSpec, info: DataInfo) -> str | None:
    """Why `arch` cannot train on `info` (the data as the run will see it), in one sentence; None if it can."""
    name = arch.name
    if not arch.takes_images:
        if info.is_image or info.shape != (arch.vector_length,):
            return (f"{name} needs vectors of {arch.vector_length} values like {arch.default_dataset}'s "
                    f"(got {describe(info)}); use --dataset {arch.default_dataset}")
        return None
    if not info.is_image:
        return f"{name} needs images, but {info.name} gives {describe(info)}; pick an image dataset (mnist)"
    if arch.conditional and not info.num_classes:
        return (f"{name} needs labelled data, but {info.name} has no labels; use mnist, fashion-mnist, "
                "cifar10 or an imagefolder with one sub-folder per class")
    size = arch.image_size
    if size is not None and info.image_size != (size, size):
        height, width = info.image_size or (0, 0)
        return (f"{name} needs {size}×{size} images (got {height}×{width}); pass --image-size {size} "
                "or leave the image size unset")
    return None


def resized(info: DataInfo, size: int | None) -> DataInfo:
    """`info` as the loader gives it when asked for `size`×`size` pictures (as it comes when None)."""
    if size is None or not info.is_image:
        return info
    return dataclasses.replace(info, shape=(info.shape[0], size, size))


def nominal_info(dataset: DatasetSpec, size: int | None = None) -> DataInfo | None:
    """What `dataset` gives without loading it (None when only loading tells, e.g. a user's folder)."""
    if dataset.shape is None:
        return None
    info = DataInfo(dataset.name, dataset.kind, dataset.shape, num_classes=dataset.num_classes)
    return resized(info, size)


@dataclass(frozen=True)
class Fit:
    """How one architecture fits one dataset: the picture size it trains at and why not, if it can't."""

    arch: str
    image_size: int | None
    problem: str | None  # None: it trains
    info: DataInfo | None  # the data as the run will see it (None when not known without loading)

    @property
    def usable(self) -> bool:
        return self.problem is None


def fit(arch: ArchSpec, dataset: DatasetSpec, info: DataInfo | None = None,
        image_size: int | None = None) -> Fit:
    """How `arch` fits `dataset`: `info` is the loaded data as it comes (else the dataset's nominal facts)."""
    size = image_size_for(arch, dataset, image_size)
    seen = resized(info, size) if info is not None else nominal_info(dataset, size)
    problem = data_problem(arch, seen) if seen is not None else None
    return Fit(arch.name, size, problem, seen)


def fits(dataset: str, info: DataInfo | None = None, image_size: int | None = None) -> list[Fit]:
    """Every architecture's fit to dataset `dataset`, loaded as `info` when given (the launcher's menu)."""
    from gantui.engine.models import ARCHS

    return [fit(arch, DATASETS[dataset], info, image_size) for arch in ARCHS.values()]
