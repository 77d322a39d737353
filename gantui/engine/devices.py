"""Devices: resolving --device, listing what this machine has, and reading memory figures."""

from __future__ import annotations

from dataclasses import dataclass

import psutil
import torch

from gantui.engine.errors import UserError


@dataclass(frozen=True)
class DeviceOption:
    name: str  # what --device takes: cpu, cuda:0, mps
    label: str  # for menus: "cuda:0  NVIDIA H100 80GB (79.1 GiB)"
    total_memory: int | None = None


def available_devices() -> list[DeviceOption]:
    """Each CUDA GPU with its name and memory, MPS when present, and the CPU."""
    options = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gib = props.total_memory / 2**30
            options.append(DeviceOption(f"cuda:{index}", f"cuda:{index}  {props.name} ({gib:.1f} GiB)",
                                        props.total_memory))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        options.append(DeviceOption("mps", "mps  Apple GPU"))
    cores = psutil.cpu_count(logical=True) or 1
    options.append(DeviceOption("cpu", f"cpu  {cores} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
                                psutil.virtual_memory().total))
    return options


def resolve_device(name: str) -> torch.device:
    """Turn --device into a torch.device, refusing what this machine does not have."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise UserError("--device mps asked for, but this machine has no MPS (Apple GPU) device")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name} asked for, but CUDA is not available on this machine")
        index_text = name.partition(":")[2] or "0"
        if not index_text.isdigit() or int(index_text) >= torch.cuda.device_count():
            raise UserError(f"--device {name}: no such GPU (this machine has {torch.cuda.device_count()})")
        return torch.device("cuda", int(index_text))
    raise UserError(f"unknown --device {name!r}; use auto, cpu, cuda, cuda:K or mps")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({psutil.cpu_count(logical=True)} cores)"


def memory_figures(device: torch.device) -> tuple[int | None, int | None, int | None, int]:
    """(allocated, reserved, peak) on CUDA, None elsewhere; and this process's resident memory."""
    rss = psutil.Process().memory_info().rss
    if device.type == "cuda":
        return (torch.cuda.memory_allocated(device), torch.cuda.memory_reserved(device),
                torch.cuda.max_memory_allocated(device), rss)
    return None, None, None, rss
