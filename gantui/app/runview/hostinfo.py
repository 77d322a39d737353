"""Live figures about the machine a run trains on, when it is this machine: NVML for GPUs, psutil for CPU.

A run watched from elsewhere shows only what its own metrics say; these extras need the same host.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HostReading:
    """What the host says about the run's device right now (None: not known here)."""

    gpu_util: float | None = None  # percent
    gpu_temp: float | None = None  # °C
    gpu_memory_total: int | None = None  # bytes
    gpu_memory_used: int | None = None  # bytes, every process on the GPU
    cpu_percent: float | None = None  # the training process, percent of one core
    memory_total: int | None = None  # bytes of RAM


class HostProbe:
    """Reads NVML / psutil for one run's pid and device; silent (all None) where it cannot."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._nvml_failed = False
        self._process: Any = None
        self._pid: int | None = None

    def read(self, status: dict[str, Any]) -> HostReading | None:
        if status.get("host") != socket.gethostname():
            return None
        device = str(status.get("device") or "")
        if device.startswith("cuda"):
            return self._gpu(device)
        return self._cpu(status.get("pid"))

    def _gpu(self, device: str) -> HostReading | None:
        nvml = self._load_nvml()
        if nvml is None:
            return None
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(_nvml_index(device))
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            util = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
            temp = nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
        except Exception:  # NVML raises its own error types for every missing feature
            return None
        return HostReading(gpu_util=float(util), gpu_temp=float(temp), gpu_memory_total=int(memory.total),
                           gpu_memory_used=int(memory.used))

    def _load_nvml(self) -> Any:
        if self._nvml is None and not self._nvml_failed:
            try:
                import pynvml

                pynvml.nvmlInit()
                self._nvml = pynvml
            except Exception:  # no driver, no library: no NVML figures
                self._nvml_failed = True
        return self._nvml

    def _cpu(self, pid: Any) -> HostReading | None:
        import psutil

        if not isinstance(pid, int):
            return None
        if pid != self._pid:
            self._pid, self._process = pid, None
            with contextlib.suppress(psutil.Error):
                self._process = psutil.Process(pid)
                self._process.cpu_percent(None)  # the first reading is always 0: prime it
        percent = None
        if self._process is not None:
            with contextlib.suppress(psutil.Error):
                percent = self._process.cpu_percent(None)
        return HostReading(cpu_percent=percent, memory_total=psutil.virtual_memory().total)

    def close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
            self._nvml = None


def _nvml_index(device: str) -> int:
    """NVML counts every GPU; CUDA counts the visible ones: map cuda:K through CUDA_VISIBLE_DEVICES."""
    index = int(device.partition(":")[2] or 0)
    visible = [part.strip() for part in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if part.strip()]
    if visible and index < len(visible) and visible[index].isdigit():
        return int(visible[index])
    return index
