"""The convolutional CelebA GAN of seed 003 ("Make Your First GAN With PyTorch", §3.1) on 128×128 images."""

from __future__ import annotations

from torch import Tensor, nn

from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec

IMAGE_SIZE = 128
KERNEL, STRIDE = 8, 2


def conv_out(size: int, padding: int = 0) -> int:
    """Side of a Conv2d(k=8, s=2) output: 128 → 61 → 27 → 10."""
    return (size + 2 * padding - KERNEL) // STRIDE + 1


def deconv_out(size: int, padding: int = 0) -> int:
    """Side of a ConvTranspose2d(k=8, s=2) output: 11 → 28 → 62 → 128 (the last with padding 1)."""
    return (size - 1) * STRIDE - 2 * padding + KERNEL


# The tutorial's layers land exactly on 128×128 (tests/test_models.py checks the arithmetic).
FLAT_SIDE = conv_out(conv_out(conv_out(IMAGE_SIZE)))  # 10: D flattens 3·10·10 = 300 values


class ConvGenerator(nn.Module):
    """Linear 100 → C·11·11 LReLU → (C, 11, 11) → three ConvTranspose k8 s2 with BN → Sigmoid."""

    def __init__(self, latent_dim: int = 100, channels: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, channels * 11 * 11),
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (channels, 11, 11)),
            nn.ConvTranspose2d(channels, 256, KERNEL, STRIDE),  # 11 → 28
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(256, 256, KERNEL, STRIDE),  # 28 → 62
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(256, channels, KERNEL, STRIDE, padding=1),  # 62 → 128
            nn.BatchNorm2d(channels),
            nn.Sigmoid(),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)


class ConvDiscriminator(nn.Module):
    """Three Conv k8 s2 (128 → 61 → 27 → 10), BN on the first two, LReLU 0.2 → flatten C·10·10 → 1 logit."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 256, KERNEL, STRIDE),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2),
            nn.Conv2d(256, 256, KERNEL, STRIDE),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2),
            nn.Conv2d(256, channels, KERNEL, STRIDE),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(channels * FLAT_SIDE * FLAT_SIDE, 1),  # the tutorial's Linear(300, 1) for colour
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()


def build_conv(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return ConvGenerator(latent_dim, info.channels), ConvDiscriminator(info.channels)


CONV = ArchSpec(
    name="conv",
    description="the CelebA CNN GAN (seed 003): Linear→3×11×11→3 ConvTranspose k8 s2→128×128 Sigmoid; "
                "D 3 Conv k8 s2→300→1; 128×128 images, any channels",
    # Seed 003: BCE and Adam(lr=0.0001), one face at a time; batches of 16 keep BatchNorm's statistics
    # meaningful while staying close to the tutorial. The CelebA HDF5 file is optional, so the default
    # data is the procedural colour shapes at 128×128.
    default_dataset="shapes",
    tutorial={"loss": "bce", "optimizer": "adam", "lr": 1e-4, "batch_size": 16, "latent_dim": 100, "epochs": 1},
    image_size=IMAGE_SIZE,
    output_range="unit",
    conditional=False,
    build=build_conv,
)
