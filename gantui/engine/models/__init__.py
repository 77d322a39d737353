"""The architectures of the tutorials, by name, and the few functions that pick and build them."""

from __future__ import annotations

from torch import nn

from gantui.engine.data.base import DataInfo
from gantui.engine.errors import UserError
from gantui.engine.models.base import ArchSpec
from gantui.engine.models.conv import CONV
from gantui.engine.models.dcgan28 import CDCGAN, DCGAN28
from gantui.engine.models.dcgan64 import DCGAN64
from gantui.engine.models.fit import data_problem
from gantui.engine.models.mlp import CGAN, MLP
from gantui.engine.models.toy import CURVE_MLP, PATTERN_MLP

__all__ = ["ARCHS", "ArchSpec", "build_models", "compatible_archs", "count_parameters", "get_arch"]

# In the order the tutorials meet them (and the SPEC lists them).
ARCHS: dict[str, ArchSpec] = {
    spec.name: spec for spec in (PATTERN_MLP, CURVE_MLP, MLP, DCGAN28, CONV, DCGAN64, CGAN, CDCGAN)
}


def get_arch(name: str) -> ArchSpec:
    """The architecture called `name`; UserError listing the known ones otherwise."""
    try:
        return ARCHS[name]
    except KeyError:
        raise UserError(f"unknown architecture {name!r}; known: {', '.join(ARCHS)}") from None


def compatible_archs(info: DataInfo) -> list[str]:
    """Names of the architectures that can train on data described by `info` as it is (no resizing)."""
    return [name for name, spec in ARCHS.items() if data_problem(spec, info) is None]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values (BatchNorm's running statistics are buffers and don't count)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def build_models(arch_name: str, info: DataInfo, latent_dim: int) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) of `arch_name` for `info`; UserError saying why if the data doesn't fit."""
    spec = get_arch(arch_name)
    problem = data_problem(spec, info)
    if problem is not None:
        raise UserError(problem)
    if latent_dim < 1:
        raise UserError(f"--latent-dim must be at least 1 (got {latent_dim})")
    return spec.build(info, latent_dim)
