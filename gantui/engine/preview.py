"""What the launcher shows of a dataset before a run starts: a few real samples and how each architecture fits.

Plain values only (a uint8 picture, lists of floats), so that a remote host's agent can make the preview
where the data is and send it (`to_wire` / `from_wire`); the launcher shows it the same either way.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gantui.engine.errors import UserError

PREVIEW_COUNT = 16


@dataclass(frozen=True)
class ArchRow:
    """One architecture in the launcher's menu, as it fits the chosen data."""

    name: str
    description: str
    problem: str | None  # None when it can train on the data
    params_g: int | None = None
    params_d: int | None = None
    image_size: int | None = None  # the pictures are resized to this for it (None: it takes them as they come)


@dataclass(frozen=True)
class DataPreview:
    """A few real samples: a picture (H×W×C uint8) for images, vectors for toy data, or why not."""

    dataset: str
    data_path: str | None
    image_size: int | None = None  # the image size asked for (None: the architecture's)
    download: bool = False  # fetched by torchvision first
    summary: str = ""
    picture: Any = None  # numpy uint8 array
    vectors: list[list[float]] | None = None
    archs: tuple[ArchRow, ...] = ()
    error: str | None = None
    place: str = ""  # where the data was read: "" this machine, else the host's place (`gpu1:runs`)

    @property
    def key(self) -> tuple[str, str | None, int | None, bool, str]:
        """What this preview answers: the dataset, its path, the image size, whether to fetch it, and where."""
        return (self.dataset, self.data_path, self.image_size, self.download, self.place)

    def to_wire(self) -> dict[str, Any]:
        """As JSON values (the picture as its shape and base64 bytes), for the agent's reply."""
        from gantui.engine.remote.protocol import pack_bytes

        wire = asdict(self)
        wire["archs"] = [asdict(row) for row in self.archs]
        if self.picture is not None:
            picture = np.ascontiguousarray(self.picture, dtype=np.uint8)
            wire["picture"] = {"shape": list(picture.shape), "data": pack_bytes(picture.tobytes())}
        return wire

    @classmethod
    def from_wire(cls, wire: dict[str, Any], place: str) -> DataPreview:
        from gantui.engine.remote.protocol import unpack_bytes

        picture = wire.get("picture")
        if isinstance(picture, dict):
            shape = tuple(int(n) for n in picture.get("shape") or ())
            picture = np.frombuffer(unpack_bytes(str(picture.get("data", ""))), dtype=np.uint8).reshape(shape)
        archs = tuple(ArchRow(**row) for row in wire.get("archs") or ())
        fields = {name: wire.get(name) for name in ("dataset", "data_path", "image_size", "summary", "vectors",
                                                     "error")}
        return cls(**fields, download=bool(wire.get("download")), picture=picture, archs=archs, place=place)


def load_preview(dataset: str, path: str | None, image_size: int | None = None, download: bool = False) -> DataPreview:
    """A few real samples of `dataset` (fetched first when `download`) and how every architecture fits it;
    never raises."""
    try:
        return _load_preview(dataset, path, image_size, download)
    except UserError as error:
        return DataPreview(dataset, path, image_size, download, error=str(error))
    except Exception as error:  # a broken file must not take the launcher (or the agent) down
        return DataPreview(dataset, path, image_size, download,
                           error=f"{type(error).__name__}: {error}".splitlines()[0])


@functools.lru_cache(maxsize=1)
def _source(dataset: str, path: str | None, download: bool) -> Any:
    """The dataset as it comes, kept while only the image size is being typed (each try reloaded it before)."""
    from gantui.engine.data import load_dataset

    return load_dataset(dataset, path, download=download)


def _load_preview(dataset: str, path: str | None, image_size: int | None, download: bool) -> DataPreview:
    from gantui.engine.models import build_models, count_parameters, get_arch
    from gantui.engine.models.fit import fits
    from gantui.engine.samples import image_grid

    source = _source(dataset, path, download)
    info = source.info
    samples, _labels = source.preview(PREVIEW_COUNT)
    rows = []
    for fitted in fits(dataset, info, image_size):  # the same rule `gantui train` applies
        spec = get_arch(fitted.arch)
        params_g = params_d = None
        if fitted.usable:
            generator, discriminator = build_models(spec.name, fitted.info, spec.defaults.latent_dim)
            params_g, params_d = count_parameters(generator), count_parameters(discriminator)
        resized = fitted.image_size if fitted.image_size and info.image_size != (fitted.image_size,) * 2 else None
        rows.append(ArchRow(spec.name, spec.description, fitted.problem, params_g, params_d, resized))
    shape = "×".join(str(n) for n in info.shape)
    size = f"{info.size:,} samples" if info.size else "endless"
    summary = f"{shape} · {size}" + (f" · {info.num_classes} classes" if info.num_classes else "")
    if info.is_image:
        return DataPreview(dataset, path, image_size, download, summary,
                           picture=image_grid(samples, "unit", columns=4), archs=tuple(rows))
    return DataPreview(dataset, path, image_size, download, summary, vectors=samples.tolist(), archs=tuple(rows))
