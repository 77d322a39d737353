"""GAN losses on raw logits: the tutorials' ideal values, gradients, autocast and the WGAN-GP penalty."""

from __future__ import annotations

import math

import pytest
import torch

from gantui.engine.data.base import DataInfo
from gantui.engine.errors import UserError
from gantui.engine.losses import (
    LOSSES,
    discriminator_loss,
    equilibrium,
    generator_loss,
    gradient_penalty,
    probability,
)
from gantui.engine.models import build_models

MNIST = DataInfo(name="mnist", kind="image", shape=(1, 28, 28), num_classes=10)


def test_loss_names() -> None:
    assert list(LOSSES) == ["bce", "mse", "hinge", "wgan-gp"]


def test_bce_undecided_discriminator_gives_ln2() -> None:
    zeros = torch.zeros(8)  # sigmoid(0) = 0.5: D cannot tell
    assert discriminator_loss("bce", zeros, zeros).item() == pytest.approx(math.log(2))
    assert generator_loss("bce", zeros).item() == pytest.approx(math.log(2))
    assert equilibrium("bce") == {
        "loss_d": pytest.approx(0.693, abs=1e-3), "loss_g": pytest.approx(math.log(2)), "d_prob": 0.5
    }


def test_bce_matches_the_tutorial_formula() -> None:
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = (-torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()) / 2
    torch.testing.assert_close(discriminator_loss("bce", real, fake), expected)
    torch.testing.assert_close(generator_loss("bce", fake), -torch.log(torch.sigmoid(fake)).mean())


def test_mse_undecided_discriminator_gives_a_quarter() -> None:
    zeros = torch.zeros(5)
    assert discriminator_loss("mse", zeros, zeros).item() == pytest.approx(0.25)
    assert generator_loss("mse", zeros).item() == pytest.approx(0.25)
    assert equilibrium("mse") == {"loss_d": 0.25, "loss_g": 0.25, "d_prob": 0.5}


def test_perfect_discriminator_has_small_loss() -> None:
    sure_real, sure_fake = torch.full((4,), 20.0), torch.full((4,), -20.0)
    for name in ("bce", "mse", "hinge"):
        assert discriminator_loss(name, sure_real, sure_fake).item() < 1e-6
    assert generator_loss("bce", sure_fake).item() > 10


def test_hinge_values() -> None:
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, 1.0])
    # real terms relu(1 - r): 0.5, 0; fake terms relu(1 + f): 0.5, 2
    assert discriminator_loss("hinge", real, fake).item() == pytest.approx((0.25 + 1.25) / 2)
    assert generator_loss("hinge", fake).item() == pytest.approx(-0.25)
    undecided = discriminator_loss("hinge", torch.zeros(3), torch.zeros(3))
    assert undecided.item() == equilibrium("hinge")["loss_d"]


@pytest.mark.parametrize("name", ["bce", "mse", "hinge"])
def test_gradients_flow(name: str) -> None:
    real = torch.randn(6, requires_grad=True)
    fake = torch.randn(6, requires_grad=True)
    discriminator_loss(name, real, fake).backward()
    generator_loss(name, fake).backward()
    assert real.grad is not None and real.grad.abs().sum() > 0
    assert fake.grad is not None and fake.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["bce", "mse"])
def test_losses_under_cpu_autocast(name: str) -> None:
    torch.manual_seed(0)
    generator, discriminator = build_models("mlp", MNIST, 100)
    real = torch.rand(4, 1, 28, 28)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fake = generator(torch.randn(4, 100))
        loss_d = discriminator_loss(name, discriminator(real), discriminator(fake.detach()))
        loss_g = generator_loss(name, discriminator(fake))
    assert loss_d.dtype == torch.float32 and torch.isfinite(loss_d)
    loss_d.backward()
    loss_g.backward()
    assert all(p.grad is not None for p in generator.parameters())


def test_wgan_gp_penalty_is_non_negative_and_differentiable() -> None:
    torch.manual_seed(0)
    generator, discriminator = build_models("cgan", MNIST, 100)
    labels = torch.tensor([1, 2, 3])
    real, fake = torch.rand(3, 1, 28, 28), generator(torch.randn(3, 100), labels).detach()
    penalty = gradient_penalty(discriminator, real, fake, labels)
    assert penalty.item() >= 0
    loss = discriminator_loss("wgan-gp", discriminator(real, labels), discriminator(fake, labels), real=real,
                              fake=fake, discriminator=discriminator, labels=labels)
    loss.backward()
    assert all(p.grad is not None for p in discriminator.parameters())
    assert generator_loss("wgan-gp", torch.tensor([1.0, 3.0])).item() == pytest.approx(-2.0)


def test_wgan_gp_penalty_of_a_unit_slope_critic_is_zero() -> None:
    critic = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0]]))  # gradient norm exactly 1 everywhere

    def discriminator(x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return critic(x).flatten()

    penalty = gradient_penalty(discriminator, torch.rand(5, 4), torch.rand(5, 4))  # type: ignore[arg-type]
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)


def test_wgan_gp_without_the_pieces_is_an_error() -> None:
    with pytest.raises(ValueError, match="gradient penalty"):
        discriminator_loss("wgan-gp", torch.zeros(2), torch.zeros(2))


def test_probability_is_the_sigmoid() -> None:
    logits = torch.tensor([-2.0, 0.0, 3.0])
    for name in LOSSES:
        torch.testing.assert_close(probability(name, logits), torch.sigmoid(logits))


def test_equilibrium_has_every_key() -> None:
    for name in LOSSES:
        assert set(equilibrium(name)) == {"loss_d", "loss_g", "d_prob"}
    assert equilibrium("wgan-gp")["loss_g"] is None


def test_unknown_loss_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown loss 'l1'"):
        generator_loss("l1", torch.zeros(1))


@pytest.mark.parametrize("name", ["bce", "mse"])
def test_one_sided_label_smoothing_moves_only_the_real_target(name: str) -> None:
    real, fake = torch.tensor([2.0, -1.0, 0.3]), torch.tensor([0.5, -3.0, 1.0])
    smoothed = discriminator_loss(name, real, fake, real_target=0.9)
    p_real, p_fake = torch.sigmoid(real), torch.sigmoid(fake)
    if name == "bce":
        real_term = -(0.9 * torch.log(p_real) + 0.1 * torch.log(1 - p_real)).mean()
        fake_term = -torch.log(1 - p_fake).mean()
    else:
        real_term, fake_term = ((p_real - 0.9) ** 2).mean(), (p_fake ** 2).mean()
    torch.testing.assert_close(smoothed, (real_term + fake_term) / 2)
    # a D sure of the real samples is now pushed back towards 0.9: the real term's gradient changes sign
    sure = torch.full((4,), 6.0, requires_grad=True)
    discriminator_loss(name, sure, torch.full((4,), -6.0), real_target=0.9).backward()
    assert (sure.grad > 0).all()
