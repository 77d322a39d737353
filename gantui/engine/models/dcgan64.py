"""The 64×64 DCGAN of seed 004 (anime faces), the same networks as pytorch/examples dcgan/main.py."""

from __future__ import annotations

from torch import Tensor, nn

from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec


class Dcgan64Generator(nn.Module):
    """ConvTranspose 100 → 512 (4×4) → 256 (8) → 128 (16) → 64 (32) → C (64) → Tanh; BN ReLU between."""

    def __init__(self, latent_dim: int = 100, channels: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Unflatten(1, (latent_dim, 1, 1)),  # the tutorial draws its noise as (B, 100, 1, 1)
            nn.ConvTranspose2d(latent_dim, 512, 4, 1, 0, bias=False),  # 1 → 4
            nn.BatchNorm2d(512),
            nn.ReLU(),
            nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False),  # 4 → 8
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),  # 8 → 16
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),  # 16 → 32
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False),  # 32 → 64
            nn.Tanh(),
        )
        init_dcgan_weights(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)


class Dcgan64Discriminator(nn.Module):
    """Conv C → 64 (32) → 128 (16) → 256 (8) → 512 (4) → 1 logit; LReLU 0.2, BN from the second, no bias."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1, bias=False),  # 64 → 32
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),  # 32 → 16
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 256, 4, 2, 1, bias=False),  # 16 → 8
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2),
            nn.Conv2d(256, 512, 4, 2, 1, bias=False),  # 8 → 4
            nn.BatchNorm2d(512),
            nn.LeakyReLU(0.2),
            nn.Conv2d(512, 1, 4, 1, 0, bias=False),  # 4 → 1; the tutorial's Sigmoid is the loss's job
        )
        init_dcgan_weights(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()


def init_dcgan_weights(module: nn.Module) -> None:
    """The DCGAN paper's initialisation, as pytorch's example does: conv N(0, 0.02), BN scale N(1, 0.02)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def build_dcgan64(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return Dcgan64Generator(latent_dim, info.channels), Dcgan64Discriminator(info.channels)


DCGAN64 = ArchSpec(
    name="dcgan64",
    description="the 64×64 DCGAN of seed 004 / pytorch's example: 5 ConvTranspose→Tanh, 5 Conv, BN, no bias; "
                "64×64 images, any channels",
    # Seed 004: batch 128, Adam(lr=0.0002, betas=(0.5, 0.999)), BCE, 20 epochs over images resized to 64×64.
    default_dataset="shapes",
    tutorial={"loss": "bce", "optimizer": "adam", "lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 128,
              "latent_dim": 100, "epochs": 20},
    image_size=64,
    output_range="symmetric",
    conditional=False,
    build=build_dcgan64,
)
