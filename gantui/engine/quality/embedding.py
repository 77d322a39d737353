"""A download-free feature space for any pictures: a small CNN with fixed random weights (Naeem et al. 2020).

Naeem et al., "Reliable Fidelity and Diversity Metrics for Generative Models" (ICML 2020), found that a
randomly initialised network's features give usable density and coverage away from ImageNet. Here the
weights come from one fixed seed on the CPU's generator, so the embedding is the same on every run and
machine, needs no training and nothing from the internet, and works for colour or grey, labelled or not.
Its numbers are comparable between runs on the same data, never with published Inception FIDs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

EMBEDDING_NAME = "rand"  # the suffix of the eval.csv columns measured in this space: fid_rand, recall_rand, …
EMBEDDING_VERSION = 2  # part of the reference cache's key: a change of weights, architecture or sizes re-embeds
EMBEDDING_SEED = 20_200_712  # ICML 2020's opening day: the weights, the same everywhere
SMALL_SIZE, INPUT_SIZE = 32, 64  # pictures up to 32 px a side are embedded at their own size, larger ones at 64×64
MIN_SIZE = 16  # four 2× pools need at least 16 px; smaller pictures are enlarged to 16×16
WIDTHS = (16, 32, 64, 128)  # four conv 3×3 → ReLU → max-pool blocks; the last width is the feature size
FEATURE_DIM = WIDTHS[-1]


class RandomEmbedding(nn.Module):
    """Conv 3×3 blocks of `WIDTHS` with fixed random (He-uniform) weights, then a global average pool."""

    def __init__(self, seed: int = EMBEDDING_SEED) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width in WIDTHS:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            channels = width
        self.net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        rng = torch.Generator().manual_seed(seed)
        with torch.no_grad():  # drawn here, not by nn.init: independent of the caller's random stream
            for layer in self.net:
                if isinstance(layer, nn.Conv2d):
                    fan_in = layer.in_channels * 9
                    bound = math.sqrt(6.0 / fan_in)
                    layer.weight.copy_(torch.rand(layer.weight.shape, generator=rng) * 2 * bound - bound)
                    layer.bias.zero_()
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features (B, FEATURE_DIM) of unit-range pictures (B, C, H, W) of any size and 1 or 3 channels."""
        return self.net(prepare(images))


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
