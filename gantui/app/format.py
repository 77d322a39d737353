"""Small text helpers shared by the panes: counts, bytes, durations, times."""

from __future__ import annotations

import math
import time


def count(value: float | int | None) -> str:
    """12,345 for whole numbers, '?' when unknown."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "?"
    return f"{int(value):,}"


def short_count(value: int | None) -> str:
    """Parameter counts the way people say them: 1.2M, 35.1k, 312."""
    if value is None:
        return "?"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


def size(value: float | None) -> str:
    """Bytes as GiB / MiB / KiB."""
    if value is None or not math.isfinite(value):
        return "?"
    for limit, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= limit:
            return f"{value / limit:.1f} {suffix}"
    return f"{int(value)} B"


def duration(seconds: float | None) -> str:
    """1h02m, 4m05s, 12s; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def clock(timestamp: float | None) -> str:
    """HH:MM:SS local time of a Unix timestamp."""
    if timestamp is None or not math.isfinite(timestamp):
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


def number(value: float | None, digits: int = 4) -> str:
    """A float with `digits` significant digits; '–' when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}g}"


def meter(fraction: float | None, width: int) -> str:
    """A text bar ████░░░░ of `width` cells filled to `fraction` (eighths for a smooth edge)."""
    width = max(width, 1)
    if fraction is None or not math.isfinite(fraction):
        return "░" * width
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = int(round(fraction * width * 8))
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
    return bar + "░" * (width - len(bar))


def processes(world_size: int, nodes: int = 1) -> str:
    """How a run of several processes says so: `2 processes`, `8 processes on 2 nodes`."""
    text = f"{world_size} process" + ("es" if world_size != 1 else "")
    return f"{text} on {nodes} nodes" if nodes > 1 else text


def world_mark(world_size: int) -> str:
    """`×2` beside a run's device in the lists; '' for a run of one process (its rows stay as they were)."""
    return f"×{world_size}" if world_size > 1 else ""
