"""GAN losses from the discriminator's raw logits: the tutorials' BCE and MSE, plus hinge and WGAN-GP.

The discriminators end without a Sigmoid; it lives here, so BCE can use the numerically safe
`binary_cross_entropy_with_logits` and every loss is computed in float32 even under autocast.

`loss_d` is the MEAN of the real term and the fake term (as seed 001's Keras code reports it), so each
term's ideal from the tutorials - ln 2 ≈ 0.693 for BCE, 0.25 for MSE - is also the ideal of `loss_d` and
`loss_g`, and one reference line serves both curves. (pytorch's dcgan example and seed 002 report the sum,
whose ideal is 2 ln 2 ≈ 1.386.) WGAN-GP's `loss_d` is the usual E[D(fake)] - E[D(real)] + λ·penalty.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gantui.engine.config import LOSSES
from gantui.engine.errors import UserError


def _check(name: str) -> None:
    if name not in LOSSES:
        raise UserError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def discriminator_loss(
    name: str,
    logits_real: Tensor,
    logits_fake: Tensor,
    *,
    real: Tensor | None = None,
    fake: Tensor | None = None,
    discriminator: nn.Module | None = None,
    labels: Tensor | None = None,
    gp_weight: float = 10.0,
    real_target: float = 1.0,
) -> Tensor:
    """D's loss for one batch (a float32 scalar). wgan-gp also needs `real`, `fake`, `discriminator` (and
    `labels` for a conditional D) to compute the gradient penalty. `real_target` below 1 is one-sided label
    smoothing (bce and mse: the losses that have a target)."""
    _check(name)
    logits_real, logits_fake = logits_real.float(), logits_fake.float()
    if name == "bce":
        loss_real = F.binary_cross_entropy_with_logits(logits_real, torch.full_like(logits_real, real_target))
        loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    elif name == "mse":
        loss_real = ((torch.sigmoid(logits_real) - real_target) ** 2).mean()
        loss_fake = (torch.sigmoid(logits_fake) ** 2).mean()
    elif name == "hinge":
        loss_real = F.relu(1 - logits_real).mean()
        loss_fake = F.relu(1 + logits_fake).mean()
    else:  # wgan-gp
        if real is None or fake is None or discriminator is None:
            raise ValueError("wgan-gp needs real, fake and discriminator for its gradient penalty")
        penalty = gradient_penalty(discriminator, real, fake, labels)
        return logits_fake.mean() - logits_real.mean() + gp_weight * penalty
    return (loss_real + loss_fake) / 2


def generator_loss(name: str, logits_fake: Tensor) -> Tensor:
    """G's loss for one batch: how far D is from calling the fakes real (float32 scalar)."""
    _check(name)
    logits_fake = logits_fake.float()
    if name == "bce":  # non-saturating: target 1, as every tutorial trains G
        return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))
    if name == "mse":
        return ((torch.sigmoid(logits_fake) - 1) ** 2).mean()
    return -logits_fake.mean()  # hinge and wgan-gp


def gradient_penalty(
    discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None
) -> Tensor:
    """Mean of (‖∇ D(x̂)‖ - 1)² over random interpolates x̂ of real and fake samples (always ≥ 0).

    Built with create_graph so it can be back-propagated into D. BatchNorm in D mixes samples, which the
    penalty assumes it doesn't: it is best used with the LayerNorm / plain architectures.
    """
    real, fake = real.detach().float(), fake.detach().float()
    weight = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device)
    mixed = (weight * real + (1 - weight) * fake).requires_grad_(True)
    scores = discriminator(mixed, labels).float()
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grads.float().flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def equilibrium(name: str) -> dict[str, float | None]:
    """Where the curves should settle when D can no longer tell real from fake (None: no single value).

    Keys: loss_d, loss_g, d_prob (D(x) = D(G(z)) as a probability).
    """
    _check(name)
    if name == "bce":
        return {"loss_d": math.log(2), "loss_g": math.log(2), "d_prob": 0.5}
    if name == "mse":
        return {"loss_d": 0.25, "loss_g": 0.25, "d_prob": 0.5}
    if name == "hinge":  # any undecided critic output in [-1, 1] gives loss_d = 1; loss_g is not fixed
        return {"loss_d": 1.0, "loss_g": None, "d_prob": None}
    return {"loss_d": 0.0, "loss_g": None, "d_prob": None}  # wgan-gp: the Wasserstein estimate goes to 0


def probability(name: str, logits: Tensor) -> Tensor:
    """D's output as a number in [0, 1] for the D(x) / D(G(z)) plots.

    For bce and mse this is the tutorial's Sigmoid output. For hinge and wgan-gp the logit is a critic
    score, not a probability: the sigmoid only squashes it onto the same axis.
    """
    _check(name)
    return torch.sigmoid(logits.float())
