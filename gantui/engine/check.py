"""The tutorial's pre-flight checks (seed 003): look at the data, make sure D can tell real data from
random noise, make sure the untrained G produces the data's shape. Run them before a long training."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gantui.engine.config import TrainConfig
from gantui.engine.samples import from_unit_range

NOISE_CHECK_STEPS = 150
NOISE_CHECK_ACCURACY = 0.9


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


def run_checks(config: TrainConfig) -> list[CheckResult]:
    """Build the run's parts (UserError if they can't be built) and check them; nothing is written."""
    from gantui.engine.prepare import build_parts

    source, arch, generator, discriminator, device = build_parts(config)
    info = source.info
    real, labels = source.preview(min(config.batch_size, 64) if info.size is None else
                                  min(config.batch_size, 64, info.size))
    results = [CheckResult(
        "data", bool(torch.isfinite(real).all()),
        f"{info.name}: {info.size if info.size is not None else 'endless'} samples of shape "
        f"{tuple(info.shape)}, values {real.min():.3f}..{real.max():.3f} (mean {real.mean():.3f})"
        + (f", {info.num_classes} classes" if info.num_classes else ""))]
    labels = labels.to(device) if labels is not None and arch.conditional else None
    real = real.to(device)
    if info.is_image:
        real = from_unit_range(real, arch.output_range)
    results.append(_discriminator_check(discriminator, real, labels, arch.output_range, info.is_image))
    with torch.no_grad():
        z = torch.randn(real.shape[0], config.latent_dim, device=device)
        fake = generator(z, labels)
    shape_ok = tuple(fake.shape[1:]) == tuple(info.shape)
    results.append(CheckResult("generator shape", shape_ok,
                               f"G(z) gives {tuple(fake.shape[1:])}, the data is {tuple(info.shape)}"))
    return results


def _discriminator_check(discriminator, real, labels, output_range: str, is_image: bool) -> CheckResult:
    """Train a fresh D briefly on real vs uniform noise; it should then tell them apart."""
    optimizer = torch.optim.Adam(discriminator.parameters(), lr=1e-3)
    low, high = (-1.0, 1.0) if (is_image and output_range == "symmetric") else (
        (0.0, 1.0) if is_image else (float(real.min()), float(real.max())))
    ones, zeros = torch.ones(real.shape[0], device=real.device), torch.zeros(real.shape[0], device=real.device)
    for _ in range(NOISE_CHECK_STEPS):
        noise = torch.rand_like(real) * (high - low) + low
        optimizer.zero_grad(set_to_none=True)
        loss = (F.binary_cross_entropy_with_logits(discriminator(real, labels), ones)
                + F.binary_cross_entropy_with_logits(discriminator(noise, labels), zeros))
        loss.backward()
        optimizer.step()
    discriminator.eval()
    with torch.no_grad():
        noise = torch.rand_like(real) * (high - low) + low
        right = (discriminator(real, labels) > 0).float().mean() + (discriminator(noise, labels) < 0).float().mean()
    discriminator.train()
    accuracy = float(right) / 2
    return CheckResult("D real vs noise", accuracy >= NOISE_CHECK_ACCURACY,
                       f"after {NOISE_CHECK_STEPS} steps D tells real from uniform noise with accuracy "
                       f"{accuracy:.1%} (want ≥ {NOISE_CHECK_ACCURACY:.0%})")
