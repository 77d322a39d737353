"""The Keras DCGAN on 28×28 MNIST of seed 001, written in PyTorch, and its conditional form (cdcgan)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec
from gantui.engine.models.conditioning import append_one_hot, one_hot

# Keras BatchNormalization(momentum=0.8) keeps 0.8 of the old running mean; torch's momentum is the weight of
# the new batch, so the same rule is momentum=0.2. Keras's epsilon default is 1e-3 (torch's 1e-5).
KERAS_BN = {"eps": 1e-3, "momentum": 0.2}


class Dcgan28Generator(nn.Module):
    """Dense 128·7·7 ReLU → 7×7 → upsample 14 → conv 128 → upsample 28 → conv 64 → conv C → Tanh.

    With `num_classes` set, the label's one-hot vector is concatenated to the latent (cdcgan).
    """

    def __init__(self, latent_dim: int = 100, channels: int = 1, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            nn.Linear(latent_dim + num_classes, 128 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.Upsample(scale_factor=2.0, mode="nearest"),  # Keras UpSampling2D: 7 → 14
            nn.Conv2d(128, 128, 3, padding=1),  # padding="same" at stride 1 is 1 on every side
            nn.BatchNorm2d(128, **KERAS_BN),
            nn.ReLU(),
            nn.Upsample(scale_factor=2.0, mode="nearest"),  # 14 → 28
            nn.Conv2d(128, 64, 3, padding=1),
            nn.BatchNorm2d(64, **KERAS_BN),
            nn.ReLU(),
            nn.Conv2d(64, channels, 3, padding=1),
            nn.Tanh(),
        )
        init_keras_style(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(append_one_hot(z, labels, self.num_classes, "generator"))


class Dcgan28Discriminator(nn.Module):
    """Conv 32 s2 → conv 64 s2 → pad → conv 128 s2 → conv 256 s1 → Dense 1 logit; LReLU 0.2 and Dropout .25.

    With `num_classes` set, the one-hot label enters as that many constant input planes (cdcgan).
    """

    def __init__(self, channels: int = 1, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            # Keras padding="same" at stride 2 on an even size pads one row/column at the bottom/right only.
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.Conv2d(channels + num_classes, 32, 3, stride=2),  # 28 → 14
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.Conv2d(32, 64, 3, stride=2),  # 14 → 7
            nn.ZeroPad2d((0, 1, 0, 1)),  # the tutorial's ZeroPadding2D(((0, 1), (0, 1))): 7 → 8
            nn.BatchNorm2d(64, **KERAS_BN),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.Conv2d(64, 128, 3, stride=2),  # 8 → 4
            nn.BatchNorm2d(128, **KERAS_BN),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Conv2d(128, 256, 3, stride=1, padding=1),  # 4 → 4
            nn.BatchNorm2d(256, **KERAS_BN),
            nn.LeakyReLU(0.2),
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(256 * 4 * 4, 1),  # the tutorial's Dense(1, activation="sigmoid"), Sigmoid in the loss
        )
        init_keras_style(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.num_classes > 0:
            planes = one_hot(labels, self.num_classes, "discriminator", x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, x.shape[2], x.shape[3])], dim=1)
        return self.net(x).flatten()


def init_keras_style(module: nn.Module) -> None:
    """Keras's defaults, which the tutorial relies on: Glorot-uniform kernels and zero biases."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def build_dcgan28(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return Dcgan28Generator(latent_dim, info.channels), Dcgan28Discriminator(info.channels)


def build_cdcgan(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    classes = info.num_classes or 0
    return Dcgan28Generator(latent_dim, info.channels, classes), Dcgan28Discriminator(info.channels, classes)


# Seed 001: Adam(0.0002, 0.5), binary cross-entropy, train(epochs, batch_size=32) where an "epoch" is one
# batch; its pictures go to 2,000 of those, about 7 passes over the 10,000 embedded MNIST digits.
DCGAN28_TUTORIAL = {"loss": "bce", "optimizer": "adam", "lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 32,
                    "latent_dim": 100, "epochs": 7}

DCGAN28 = ArchSpec(
    name="dcgan28",
    description="the Keras DCGAN of seed 001 in PyTorch: Dense→7×7→upsample/conv→28×28 Tanh; 4-conv D with "
                "Dropout; 28×28 images, any channels",
    tutorial=DCGAN28_TUTORIAL,
    image_size=28,
    output_range="symmetric",
    conditional=False,
    build=build_dcgan28,
)

CDCGAN = ArchSpec(
    name="cdcgan",
    description="conditional dcgan28: the one-hot label joins G's latent and enters D as extra input planes; "
                "labelled 28×28 images",
    tutorial=DCGAN28_TUTORIAL,
    image_size=28,
    output_range="symmetric",
    conditional=True,
    build=build_cdcgan,
)
