"""Device: the run's own memory figures (from its metrics) as bars, plus NVML / psutil extras on this host.

A run of several processes on several GPUs adds one line per GPU it uses, from its ranks' latest rows.
"""

from __future__ import annotations

import math

from textual.content import Content

from gantui.app.format import meter, size
from gantui.app.runview.follow import RunPoll
from gantui.app.widgets.text_pane import TextPane


class DevicePane(TextPane):
    """GPU memory allocated / reserved / peak against the total; RSS and CPU for CPU runs."""

    DEFAULT_CSS = """
    DevicePane {
        height: auto;
        min-height: 2;
    }
    """

    TITLE = "Device"

    def _lines(self, poll: RunPoll) -> list[Content]:
        status, latest, host = poll.status, poll.metrics.latest, poll.host
        device = str(status.get("device") or "?")
        name = str(status.get("device_name") or "")
        lines = [Content.assemble((device, "bold"), "  ", name)]
        width = max(self.size.width, 24)
        if device.startswith("cuda"):
            total = _known(status.get("memory_total")) or (host.gpu_memory_total if host else None)
            for label, column in (("alloc", "mem_allocated"), ("reserved", "mem_reserved"), ("peak", "mem_peak")):
                lines.append(_memory_line(label, _known(latest.get(column)), total, width))
            lines += _gpu_lines(poll, total, width)
            if host is not None and host.gpu_util is not None:
                lines.append(Content(f"util {host.gpu_util:.0f}% · temp {host.gpu_temp:.0f}°C "
                                     f"· all processes {size(host.gpu_memory_used)}"))
        else:
            total = host.memory_total if host else None
            lines.append(_memory_line("rss", _known(latest.get("rss")), total, width))
            if host is not None and host.cpu_percent is not None:
                lines.append(Content(f"cpu {host.cpu_percent:.0f}% of one core"))
        return lines


def _gpu_lines(poll: RunPoll, total: float | None, width: int) -> list[Content]:
    """Memory allocated on each CUDA device the ranks use, when they use more than one."""
    gpus = list({(row.host, row.device): row for row in reversed(poll.ranks)
                 if row.device.startswith("cuda")}.values())[::-1]  # one line a device: its lowest rank's
    hosts = {row.host for row in gpus}
    if len(gpus) < 2:
        return []
    lines = []
    for row in gpus:
        label = row.device.removeprefix("cuda")
        label = f"{row.host[:8 - len(label)]}{label}" if len(hosts) > 1 else f"gpu{label}"
        lines.append(_memory_line(label, row.mem_allocated, total, width))
    return lines


def _known(value: object) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _memory_line(label: str, value: float | None, total: float | None, width: int) -> Content:
    """`label  ████░░░░ 9.1 GiB / 80.0 GiB`, the bar taking what the figures leave of `width`."""
    if value is None:
        return Content(f"{label:<9}–")
    if total:
        figures = f" {size(value)} / {size(total)}"
        bar = max(width - 9 - len(figures), 4)
        return Content.assemble(f"{label:<9}", (meter(value / total, bar), "$secondary"), figures)
    return Content(f"{label:<9}{size(value)}")
