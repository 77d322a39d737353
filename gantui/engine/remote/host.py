"""What the agent tells about its host: a one-line device summary (NVML when present, else the CPU)."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id")


def machine_id() -> str:
    """What tells this machine from another with the same host name ("" when nothing does)."""
    for name in _MACHINE_ID_FILES:
        with contextlib.suppress(OSError):
            text = Path(name).read_text(encoding="ascii", errors="replace").strip()
            if text:
                return text
    return ""


def device_summary() -> str:
    """`gpu1: 2× NVIDIA H100 · 31.0/79.6 GiB · 87%` from NVML; the CPU's cores and memory without it."""
    host = socket.gethostname()
    gpus = _nvml_gpus()
    if gpus:
        names = sorted({name for name, _, _, _ in gpus})
        used = sum(u for _, u, _, _ in gpus) / 2**30
        total = sum(t for _, _, t, _ in gpus) / 2**30
        util = sum(p for _, _, _, p in gpus) / len(gpus)
        return f"{host}: {len(gpus)}× {', '.join(names)} · {used:.1f}/{total:.1f} GiB · {util:.0f}%"
    import psutil

    memory = psutil.virtual_memory()
    return (f"{host}: no GPU · {psutil.cpu_count(logical=True)} cores · "
            f"{memory.used / 2**30:.1f}/{memory.total / 2**30:.1f} GiB · {psutil.cpu_percent(None):.0f}% CPU")


def _nvml_gpus() -> list[tuple[str, int, int, float]]:
    """(name, memory used, memory total, utilisation %) of each GPU NVML sees; [] without NVML."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no library, no driver
        return []
    gpus = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            util = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            gpus.append((name.decode() if isinstance(name, bytes) else str(name), int(memory.used),
                         int(memory.total), float(util)))
    except Exception:  # NVML raises its own error types for every missing feature
        pass
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    return gpus
