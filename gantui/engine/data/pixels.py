"""Stored pixel values of any common type (uint8, uint16, other integers, floats) brought to uint8 0-255.

Every loader keeps pictures as uint8; this decides, once per dataset (or per file), how its values map there,
and refuses ranges it cannot read with a sentence saying what would work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = "uif"  # numpy dtype kinds that can hold pictures: unsigned and signed integers, floats
UINT16_SCALE = 255 / 65535
ACCEPTED = "uint8, uint16, integers 0-255, or floats in 0-1 or 0-255"


@dataclass(frozen=True)
class ValueStats:
    """The range of a picture's (or a whole dataset's) values, and whether all are finite."""

    low: float
    high: float
    finite: bool = True

    def merged(self, other: ValueStats) -> ValueStats:
        return ValueStats(min(self.low, other.low), max(self.high, other.high), self.finite and other.finite)


def needs_stats(dtype: np.dtype) -> bool:
    """Whether the mapping of `dtype` depends on the values (uint8 and uint16 have a fixed one)."""
    return np.dtype(dtype) not in (np.dtype(np.uint8), np.dtype(np.uint16))


def stats_of(array: np.ndarray) -> ValueStats:
    """Min, max and finiteness of `array` (NaN and infinities are left out of min and max)."""
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        all_finite = bool(finite.all())
        values = array if all_finite else array[finite]
    else:
        all_finite, values = True, array
    if values.size == 0:
        return ValueStats(0.0, 0.0, all_finite)
    return ValueStats(float(values.min()), float(values.max()), all_finite)


def scale_for(dtype: np.dtype, stats: ValueStats | None) -> float:
    """The factor that brings values of `dtype` (in the range `stats`) to 0-255; a ValueError saying why not.

    uint8 as is, uint16 by 255/65535, other integers as is when within 0-255, floats by 255 when they stay
    within 0-1 and as is within 0-255. NaN, infinities and negative values are refused.
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 1.0
    if dtype == np.uint16:
        return UINT16_SCALE
    if dtype.kind not in KINDS or stats is None:
        raise ValueError(f"{dtype} is not a picture type; store pictures as {ACCEPTED}")
    if not stats.finite:
        raise ValueError("holds NaN or infinite values; replace them before training")
    span = f"values run from {stats.low:g} to {stats.high:g}"
    if stats.low < 0:
        raise ValueError(f"{span}; pixels are not negative: rescale them to 0-1 (e.g. (x + 1) / 2 for -1 to 1)")
    if dtype.kind == "f" and stats.high <= 1.0:
        return 255.0
    if stats.high <= 255:
        return 1.0
    raise ValueError(f"{span}; store pictures as {ACCEPTED}")


def to_uint8(array: np.ndarray, scale: float) -> np.ndarray:
    """`array` times `scale`, rounded and kept within 0-255, as uint8 (uint8 with scale 1 comes back as is)."""
    if array.dtype == np.uint8 and scale == 1.0:
        return array
    scaled = array.astype(np.float32) * np.float32(scale)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
