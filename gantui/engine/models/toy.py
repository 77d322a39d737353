"""The two toy GANs: the 1010 pattern (seed 003, "Make Your First GAN") and the quadratic curve (seed 002)."""

from __future__ import annotations

from torch import Tensor, nn

from gantui.engine.data.base import DataInfo
from gantui.engine.models.base import ArchSpec

# --- pattern-mlp: seed 003 §2.2, learning four values that look like 1 0 1 0 ------------------------------


class PatternGenerator(nn.Module):
    """1 → 3 → 4 with a Sigmoid after each Linear; the tutorial feeds it the constant 0.5."""

    def __init__(self, latent_dim: int = 1, length: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 3),
            nn.Sigmoid(),
            nn.Linear(3, length),
            nn.Sigmoid(),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)


class PatternDiscriminator(nn.Module):
    """4 → 3 → 1 with a Sigmoid on the hidden layer; the final Sigmoid is the loss's job."""

    def __init__(self, length: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(length, 3),
            nn.Sigmoid(),
            nn.Linear(3, 1),
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()


def build_pattern(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return PatternGenerator(latent_dim, info.shape[0]), PatternDiscriminator(info.shape[0])


PATTERN_MLP = ArchSpec(
    name="pattern-mlp",
    description="the 1010 pattern GAN (seed 003): G 1→3→4, D 4→3→1, Sigmoids, MSE + SGD, fixed input 0.5",
    # The tutorial trains one sample at a time; small batches keep its feel, and batch 1 works too.
    default_dataset="pattern1010",
    tutorial={"loss": "mse", "optimizer": "sgd", "lr": 0.01, "batch_size": 16, "latent_dim": 1, "latent": "fixed"},
    vector_length=4,
    output_range="unit",
    conditional=False,
    build=build_pattern,
)

# --- curve-mlp: seed 002, 15 noise values in, 15 points of y = 2x² + 1 out --------------------------------


class CurveGenerator(nn.Module):
    """15 noise values → 128 ReLU → 15 points; no final activation, as the curve's values are 1..3."""

    def __init__(self, latent_dim: int = 15, length: int = 15) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 128),
            nn.ReLU(),
            nn.Linear(128, length),
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)


class CurveDiscriminator(nn.Module):
    """15 points → 128 ReLU → 1 logit (the tutorial's Sigmoid is the loss's job)."""

    def __init__(self, length: int = 15) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(length, 128),
            nn.ReLU(),
            nn.Linear(128, 1),
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()


def build_curve(info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    return CurveGenerator(latent_dim, info.shape[0]), CurveDiscriminator(info.shape[0])


CURVE_MLP = ArchSpec(
    name="curve-mlp",
    description="the quadratic curve GAN (seed 002): G 15 noise→128 ReLU→15, D 15→128 ReLU→1, BCE, Adam",
    # Seed 002: BATCH_SIZE 64, torch.randn noise of G_IN_SIZE 15, Adam(lr=0.0001) for both networks.
    default_dataset="quadratic",
    tutorial={"loss": "bce", "optimizer": "adam", "lr": 1e-4, "batch_size": 64, "latent_dim": 15},
    vector_length=15,
    output_range="raw",
    conditional=False,
    build=build_curve,
)
