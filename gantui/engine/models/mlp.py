"""Fully connected GANs on images: the MNIST / CelebA MLP GAN (seeds 000 and 003) and its conditional form."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec
from gantui.engine.models.conditioning import append_one_hot


@dataclass(frozen=True)
class MlpWidths:
    """Hidden layer sizes and LeakyReLU slope: the tutorials use one set for MNIST and another for CelebA."""

    generator: int
    discriminator: int
    slope: float


MNIST_WIDTHS = MlpWidths(generator=200, discriminator=200, slope=0.02)  # seed 000/003: 100→200→784, 784→200→1
CELEBA_WIDTHS = MlpWidths(generator=300, discriminator=100, slope=0.01)  # seed 003 CelebA: nn.LeakyReLU()


def widths_for(info: DataInfo) -> MlpWidths:
    """Greyscale images get the MNIST widths, colour images the CelebA ones."""
    return MNIST_WIDTHS if info.channels == 1 else CELEBA_WIDTHS


class MlpGenerator(nn.Module):
    """latent → hidden LeakyReLU LayerNorm → C·H·W Sigmoid, reshaped to (C, H, W).

    With `num_classes` set it is the conditional generator: the label's one-hot vector is
    concatenated to the seed, (100 + 10) → 200 → 784 for MNIST.
    """

    def __init__(
        self, latent_dim: int, shape: tuple[int, ...], widths: MlpWidths, num_classes: int = 0
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            nn.Linear(latent_dim + num_classes, widths.generator),
            nn.LeakyReLU(widths.slope),
            nn.LayerNorm(widths.generator),
            nn.Linear(widths.generator, math.prod(shape)),
            nn.Sigmoid(),
            nn.Unflatten(1, shape),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(append_one_hot(z, labels, self.num_classes, "generator"))


class MlpDiscriminator(nn.Module):
    """C·H·W (+ one-hot label when conditional) → hidden LeakyReLU LayerNorm → 1 logit."""

    def __init__(self, shape: tuple[int, ...], widths: MlpWidths, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            nn.Linear(math.prod(shape) + num_classes, widths.discriminator),
            nn.LeakyReLU(widths.slope),
            nn.LayerNorm(widths.discriminator),
            nn.Linear(widths.discriminator, 1),
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        x = append_one_hot(x.flatten(1), labels, self.num_classes, "discriminator")
        return self.net(x).flatten()


def build_mlp(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    widths = widths_for(info)
    return MlpGenerator(latent_dim, info.shape, widths), MlpDiscriminator(info.shape, widths)


def build_cgan(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    widths, classes = widths_for(info), info.num_classes or 0
    return (MlpGenerator(latent_dim, info.shape, widths, classes),
            MlpDiscriminator(info.shape, widths, classes))


# The tutorials train one image at a time with Adam(lr=0.0001) and BCE (seed 003's improved MNIST GAN);
# gantui trains in batches of 64 (batch 1 works: LayerNorm does not depend on the batch).
MLP_TUTORIAL = {"loss": "bce", "optimizer": "adam", "lr": 1e-4, "batch_size": 64, "latent_dim": 100, "epochs": 20}

MLP = ArchSpec(
    name="mlp",
    description=("the MLP GAN (seeds 000/003): latent→hidden LeakyReLU LayerNorm→pixels Sigmoid; "
                 "any image size; greyscale uses MNIST widths G 200 / D 200, "
                 "colour the CelebA widths G 300 / D 100"),
    tutorial=MLP_TUTORIAL,
    output_range="unit",
    conditional=False,
    build=build_mlp,
)

CGAN = ArchSpec(
    name="cgan",
    description=("the conditional MLP GAN (seed 003): the label's one-hot vector joins G's seed and "
                 "D's pixels; (100+10)→200→784 and (784+10)→200→1 on MNIST"),
    tutorial=MLP_TUTORIAL,
    output_range="unit",
    conditional=True,
    build=build_cgan,
)
