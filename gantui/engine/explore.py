"""The latent explorer's pictures: a run's generator on two seeds, the interpolation between them, seed
arithmetic and, for conditional models, one latent as every class.

`StripMaker` loads the generator once (its last checkpoint, weights_only) and makes `Strips`: plain uint8
pictures. The app's explorer asks the run's place for one, so a remote run's strips are made on its host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Strips:
    """uint8 H×W×C pictures by strip name ("interpolation", "arithmetic", "classes"), and what made them."""

    pictures: dict[str, np.ndarray] = field(default_factory=dict)
    step: int = 0  # the checkpoint's step
    num_classes: int = 0  # 0: not conditional
    is_image: bool = True

    def to_wire(self) -> dict[str, Any]:
        from gantui.engine.remote.protocol import pack_bytes

        return {"step": self.step, "num_classes": self.num_classes, "is_image": self.is_image,
                "pictures": {name: {"shape": list(picture.shape), "data": pack_bytes(picture.tobytes())}
                             for name, picture in self.pictures.items()}}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Strips:
        from gantui.engine.remote.protocol import unpack_bytes

        pictures = {str(name): np.frombuffer(unpack_bytes(item["data"]), dtype=np.uint8).reshape(item["shape"])
                    for name, item in (data.get("pictures") or {}).items()}
        return cls(pictures, int(data.get("step", 0)), int(data.get("num_classes", 0)), bool(data.get("is_image")))


class StripMaker:
    """The strips of the run `path`'s generator (loaded on first use, then kept)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._loaded: Any = None

    def make(self, seed_a: int, seed_b: int, steps: int, label: int | None = None) -> Strips:
        from gantui.engine.generate import arithmetic_strip, class_strip, interpolation_strip, load_generator

        if self._loaded is None:
            self._loaded = load_generator(self.path)
        loaded = self._loaded
        conditional = bool(loaded.arch.conditional)
        pictures = {"interpolation": interpolation_strip(loaded, seed_a, seed_b, steps, label),
                    "arithmetic": arithmetic_strip(loaded, seed_a, seed_b, label)}
        if conditional:
            pictures["classes"] = class_strip(loaded, seed_a)
        return Strips(pictures, int(loaded.step), int(loaded.info.num_classes or 0) if conditional else 0,
                      bool(loaded.info.is_image))
