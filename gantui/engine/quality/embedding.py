"""A download-free feature space for any pictures: small CNNs with fixed random weights (Naeem et al. 2020).

Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative Models" (ICML 2020), found that a
randomly initialised network's features give usable density and coverage away from ImageNet. Here the
weights come from one fixed seed on the CPU's generator, so the embedding is the same on every run and
machine, needs no training and nothing from the internet, and works for colour or grey, labelled or not.
Two branches see the colours and the edges apart, so a small subject on a large background counts (which
outline it has, circle or square, they barely tell: docs/quality.md).
Its numbers are comparable between runs on the same data in the same version, never with published
Inception FIDs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gantui.engine.events import EMBEDDING_NAME  # noqa: F401 (the suffix of its eval.csv columns: fid_rand, …)

EMBEDDING_VERSION = 3  # in eval.csv's embedding_version and the reference cache's key: only like compares with like
EMBEDDING_SEED = 20_200_712  # ICML 2020's opening day: the weights, the same everywhere
SMALL_SIZE, INPUT_SIZE = 32, 64  # pictures up to 32 px a side are embedded at their own size, larger ones at 64×64
MIN_SIZE = 16  # four 2× pools need at least 16 px; smaller pictures are enlarged to 16×16
WIDTHS = (16, 32, 64, 64)  # each branch: four conv 3×3 → ReLU → max-pool blocks; the last width is its features
FEATURE_GROUPS = (WIDTHS[-1], WIDTHS[-1])  # colour's features, then edges': each scaled by its own spread
FEATURE_DIM = sum(FEATURE_GROUPS)


class RandomEmbedding(nn.Module):
    """Two small CNNs with fixed random (He-uniform) weights, each ending in a global average pool, side by side.

    `colour`'s first filters are as drawn: they answer to flat colour, so its features hold the pictures'
    colours, where the background, most of a picture, weighs most. `edges`' first filters have their mean
    taken out: blind to flat colour, they answer only where the picture changes (edges, texture), so its
    features hold how much of the picture is edge. A generator that paints the right backgrounds with no
    subject reads real in `colour` and far off in `edges`; one that draws every subject as a circle of the
    right size reads real in both (docs/quality.md).
    """

    def __init__(self, seed: int = EMBEDDING_SEED) -> None:
        super().__init__()
        rng = torch.Generator().manual_seed(seed)  # drawn here, not by nn.init: independent of the caller's stream
        self.colour, self.edges = _random_branch(rng), _random_branch(rng)
        with torch.no_grad():
            first = self.edges[0].weight
            first -= first.mean((2, 3), keepdim=True)  # each 3×3 filter of each colour channel sums to 0
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features (B, FEATURE_DIM) of unit-range pictures (B, C, H, W) of any size and 1 or 3 channels:
        `colour`'s, then `edges'`."""
        return self.features(prepare(images))

    def features(self, prepared: torch.Tensor) -> torch.Tensor:
        """`forward` of pictures already `prepare`d."""
        return torch.cat([self.colour(prepared), self.edges(prepared)], 1)


def _random_branch(rng: torch.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for width in WIDTHS:
        conv = nn.Conv2d(channels, width, 3, padding=1)
        bound = math.sqrt(6.0 / (channels * 9))
        with torch.no_grad():
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=rng) * 2 * bound - bound)
            conv.bias.zero_()
        layers += [conv, nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def prepare(images: torch.Tensor) -> torch.Tensor:
    """Unit-range pictures as three channels, square, centred on 0 (grey ones repeated).

    Up to `SMALL_SIZE` a side they keep their own size (28×28 MNIST is embedded at 28×28, a quarter cheaper
    than enlarged to 32×32), larger ones become `INPUT_SIZE`²: the size is a property of the data set, so
    every run on the same data embeds alike.
    """
    images = images.float()
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    elif images.shape[1] != 3:
        images = images[:, :3] if images.shape[1] > 3 else images.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    longest = max(images.shape[-2:])
    side = max(longest, MIN_SIZE) if longest <= SMALL_SIZE else INPUT_SIZE
    if images.shape[-2:] != (side, side):
        images = F.interpolate(images, size=(side, side), mode="bilinear", antialias=True,
                               align_corners=False)
    return (images - 0.5) / 0.5


@torch.no_grad()
def embed(model: nn.Module, images: torch.Tensor, device: torch.device, batch: int = 500) -> torch.Tensor:
    """Features of unit-range pictures, in batches on `device`, returned as float CPU rows."""
    model.to(device)
    return torch.cat([model(images[first:first + batch].to(device)).float().cpu()
                      for first in range(0, len(images), batch)])
