"""Picture sets for the quality tests: the shapes data, a colour photo folder, and ways to spoil pictures.

The photo is textual-image's `gracehopper.jpg` (installed with gantui: textual-image is a dependency), the
US Navy portrait of Grace Hopper, public domain (the same picture matplotlib and scipy ship). Its "modes" are
its four quadrants: every crop comes from one of them, with a random offset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import textual_image
import torch
import torch.nn.functional as F
from PIL import Image

from gantui.engine.data.shapes import draw_shapes

PHOTO = Path(textual_image.__file__).parent / "gracehopper.jpg"
CROP, SIDE = 96, 64  # crops of 96×96 pixels of the photo scaled to 256×300, resized to 64×64
QUADRANTS = (0, 1, 2, 3)


def shapes(count: int, start: int = 0) -> torch.Tensor:
    """`count` shapes pictures (unit range) from the dataset's fixed stream, from picture `start` on."""
    pictures, _ = draw_shapes(start + count, SIDE)
    return torch.from_numpy(pictures[start:]).float() / 255


def photo_crops(count: int, seed: int, quadrants: tuple[int, ...] = QUADRANTS) -> torch.Tensor:
    """`count` 64×64 crops of the photo (unit range), taken in turn from `quadrants` (0 top left … 3 bottom right)."""
    photo = Image.open(PHOTO).convert("RGB").resize((256, 300))
    pixels = torch.from_numpy(np.asarray(photo).copy()).permute(2, 0, 1).float() / 255
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        row, column = divmod(quadrants[index % len(quadrants)], 2)
        top = row * 150 + int(rng.integers(0, 150 - CROP + 1))
        left = column * 128 + int(rng.integers(0, 128 - CROP + 1))
        crops.append(pixels[:, top:top + CROP, left:left + CROP])
    return F.interpolate(torch.stack(crops), size=(SIDE, SIDE), mode="bilinear", antialias=True)


def write_folder(pictures: torch.Tensor, folder: Path) -> Path:
    """The pictures as PNG files in `folder` (an unlabelled image folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, picture in enumerate(pictures):
        array = picture.mul(255).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(array).save(folder / f"{index:04d}.png")
    return folder


def blurred(pictures: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of standard deviation `sigma` pixels."""
    half = int(round(3 * sigma))
    taps = torch.exp(-torch.arange(-half, half + 1).float() ** 2 / (2 * sigma * sigma))
    taps = (taps / taps.sum()).repeat(pictures.shape[1], 1)
    channels = pictures.shape[1]
    padded = F.pad(pictures, (half, half, half, half), mode="reflect")
    across = F.conv2d(padded, taps.view(channels, 1, 1, -1), groups=channels)
    return F.conv2d(across, taps.view(channels, 1, -1, 1), groups=channels)


def noised(pictures: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian noise of standard deviation `sigma` (unit range), from a fixed seed."""
    noise = torch.randn(pictures.shape, generator=torch.Generator().manual_seed(1))
    return (pictures + sigma * noise).clamp(0, 1)


def colour_shifted(pictures: torch.Tensor, amount: float) -> torch.Tensor:
    """Red up and blue down by `amount`."""
    return (pictures + torch.tensor([amount, 0.0, -amount]).view(1, 3, 1, 1)).clamp(0, 1)


