"""Making the training step fast on the device it runs on: mixed precision, memory layout, fused optimisers,
torch.compile. Each helper picks a sensible setting per device and falls back quietly where one is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_amp(mode: str, device: torch.device) -> str:
    """The precision `--amp MODE` means on `device`: `auto` is bf16 on a GPU that has it, else off."""
    if mode != "auto":
        return mode
    if device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False):
        return "bf16"
    return "off"  # CPUs gain little from autocast and MPS's bf16 support varies


def has_convolutions(module: nn.Module) -> bool:
    return any(isinstance(layer, nn.modules.conv._ConvNd) for layer in module.modules())


def tune_for_device(modules: Iterable[nn.Module], device: torch.device) -> None:
    """On CUDA: let cuDNN pick the fastest kernels and lay conv models out as channels_last (NHWC)."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = True  # batch shapes are fixed, so the search pays once
    for module in modules:
        if has_convolutions(module):
            module.to(memory_format=torch.channels_last)


def make_optimizer(name: str, module: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """Adam or SGD over `module`'s parameters, fused into one kernel per step where this torch has it."""
    params = list(module.parameters())
    build: Callable[..., torch.optim.Optimizer]
    if name == "sgd":
        def build(**fast): return torch.optim.SGD(params, lr=lr, **fast)
    else:
        def build(**fast): return torch.optim.Adam(params, lr=lr, betas=betas, **fast)
    try:
        return build(fused=True)  # also lets a GradScaler skip its per-step host sync
    except (RuntimeError, TypeError, ValueError):  # a device or dtype without the fused kernel
        return build()


def compile_module(module: nn.Module, on_failure: Callable[[Exception], None]) -> nn.Module:
    """`torch.compile(module)`, or `module` itself (after calling `on_failure`) when compiling is refused."""
    try:
        return torch.compile(module)
    except Exception as error:  # no compiler for this platform, an unsupported Python, ...
        on_failure(error)
        return module
