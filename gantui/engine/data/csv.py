"""MNIST as CSV (the Kaggle / "Make Your First GAN" layout): a label then 784 pixel values per row."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from gantui.engine.data.mnist import source_from_arrays
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError

PIXELS = 28 * 28
COLUMNS = 1 + PIXELS


def _is_number(text: str) -> bool:
    try:
        float(text.strip().strip('"'))
    except ValueError:
        return False
    return True


def _first_line(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        return handle.readline().strip()


def has_header(first_line: str) -> bool:
    """Whether a CSV's first line is a header ("label,pixel0,…") rather than data: its first cell is not a number."""
    return bool(first_line) and not _is_number(first_line.split(",")[0])


def _column_count_problem(count: int) -> str:
    hint = "; a test file without labels?" if count == PIXELS else ""
    return f"{count} columns, expected {COLUMNS} (a label then 28×28 pixel values){hint}"


def check_csv_path(path: str) -> str | None:
    """Why `path` cannot be an MNIST CSV (from its first data line only), or None when it looks right."""
    file = Path(path).expanduser()
    if not file.is_file():
        return f"{file} is not a file"
    with file.open("r", encoding="utf-8", errors="replace") as handle:
        line = handle.readline().strip()
        if has_header(line):
            line = handle.readline().strip()
    if not line:
        return f"{file} has no data rows"
    count = len(line.split(","))
    return None if count == COLUMNS else f"{file}: {_column_count_problem(count)}"


def _read_frame(path: Path, header: bool) -> pd.DataFrame:
    try:
        return pd.read_csv(path, header=None, skiprows=1 if header else 0, low_memory=False)
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: no data rows") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = found.groups()
            raise UserError(f"{path}: line {line} has {saw} values, expected {expected}") from None
        raise UserError(f"{path}: not a readable CSV ({str(error).strip()})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text CSV file") from None


def _first_bad(mask: np.ndarray) -> int:
    return int(np.argmax(mask.any(axis=1) if mask.ndim == 2 else mask))


def _check_cells(frame: pd.DataFrame, path: Path, line_offset: int) -> np.ndarray:
    """The table as numbers, after naming the first non-numeric, missing or fractional cell."""
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series):
            bad = (pd.to_numeric(series, errors="coerce").isna() & series.notna()).to_numpy()
            row = _first_bad(bad)
            raise UserError(
                f"{path}: line {row + line_offset}, column {column + 1}: {series.iloc[row]!r} is not a number"
            )
    values = frame.to_numpy()
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        if missing.any():
            line = _first_bad(missing) + line_offset
            raise UserError(f"{path}: line {line} has empty cells or fewer than {COLUMNS} values")
        fractional = values != np.floor(values)
        if fractional.any():
            row = _first_bad(fractional)
            value = values[row][fractional[row]][0]
            raise UserError(f"{path}: line {row + line_offset}: {value:g} is not a whole number")
    return values


def read_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) from an MNIST CSV, every cell checked."""
    header = has_header(_first_line(path))
    frame = _read_frame(path, header)
    if frame.shape[1] != COLUMNS:
        raise UserError(f"{path}: {_column_count_problem(frame.shape[1])}")
    line_offset = 2 if header else 1
    values = _check_cells(frame, path, line_offset)
    labels, pixels = values[:, 0], values[:, 1:]
    bad_labels = (labels < 0) | (labels > 9)
    if bad_labels.any():
        row = _first_bad(bad_labels)
        raise UserError(f"{path}: line {row + line_offset}: label {labels[row]:g} is not a digit 0-9")
    bad_pixels = (pixels < 0) | (pixels > 255)
    if bad_pixels.any():
        row = _first_bad(bad_pixels)
        value = pixels[row][bad_pixels[row]][0]
        raise UserError(f"{path}: line {row + line_offset}: pixel value {value:g} is outside 0-255")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int64)


def load_mnist_csv(path: str | None, image_size: int | None, download: bool) -> TensorSource:
    """MNIST digits from a CSV file (label + 784 pixels per row, optional header)."""
    if not path:
        raise UserError("mnist-csv needs --data FILE.csv")
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserError(f"mnist-csv: {file} is not a file")
    images, labels = read_mnist_csv(file)
    return source_from_arrays("mnist-csv", images, labels, str(file), image_size)
