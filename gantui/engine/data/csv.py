"""MNIST as CSV (the Kaggle / "Make Your First GAN" layout): a label then 784 pixel values per row.

The file is taken as it comes: gzip, bz2, xz or a one-file zip (by its bytes, whatever its name), UTF-8 with
or without a byte-order mark, UTF-16/32 with one, commas (or semicolons or tabs), a header row or none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gantui.engine.data.files import READ_ERRORS, TextFormat, first_lines, printable, text_format, unreadable
from gantui.engine.data.mnist import source_from_arrays
from gantui.engine.data.tensor_source import TensorSource
from gantui.engine.errors import UserError

PIXELS = 28 * 28
COLUMNS = 1 + PIXELS
SEPARATORS = (",", ";", "\t")


def _number(text: str) -> float | None:
    try:
        return float(text.strip().strip('"'))
    except ValueError:
        return None


def separator_of(line: str) -> str:
    """The separator a data line uses: a comma unless it has none and has semicolons or tabs instead."""
    return max(SEPARATORS, key=line.count) if line else ","


def cells_of(line: str, separator: str = ",") -> list[str]:
    """The cells of one line; a trailing separator ("1,2,3,") ends the row rather than adding an empty cell."""
    cells = line.split(separator)
    return cells[:-1] if len(cells) > 1 and not cells[-1].strip() else cells


def has_header(first_line: str) -> bool:
    """Whether a CSV's first line names the columns rather than holding a sample.

    It does when most of its cells are words ("label,pixel0,…", Kaggle's "label,1x1,…"), or when its cells
    after the first count the columns (0,1,…,783 as pandas writes an unnamed table): values past 255 that
    no row of pixels can hold. One stray word among numbers is a data row with a typo, reported as such.
    """
    cells = cells_of(first_line, separator_of(first_line))
    numbers = [_number(cell) for cell in cells]
    words = sum(number is None and bool(cell.strip()) for cell, number in zip(cells, numbers, strict=True))
    if 2 * words > len(cells):
        return True
    tail = numbers[1:]
    if len(tail) <= 256 or None in tail or tail[0] not in (0, 1):
        return False
    return tail == list(range(int(tail[0]), int(tail[0]) + len(tail)))


def _column_count_problem(count: int) -> str:
    hint = "; a test file without labels?" if count == PIXELS else ""
    return f"{count} columns, expected {COLUMNS} (a label then 28×28 pixel values){hint}"


@dataclass(frozen=True)
class CsvLayout:
    """How one CSV file is written, from its first lines: enough to hand the whole of it to pandas."""

    text: TextFormat
    separator: str
    skip: int  # lines before the first data row (blank lines and the header)
    first_row: tuple[int, str] | None  # the first data line (number, text); None when there is none


def csv_layout(path: Path) -> CsvLayout:
    """The layout of `path` from its first lines; a UserError for binary data or unmarked UTF-16."""
    text = text_format(path)
    lines = first_lines(path, text, 2)
    header = bool(lines) and has_header(lines[0][1])
    skip = lines[0][0] if header else 0
    rows = lines[1:] if header else lines
    first_row = rows[0] if rows else None
    return CsvLayout(text, separator_of(first_row[1] if first_row else ""), skip, first_row)


def check_csv_path(path: str) -> str | None:
    """Why `path` cannot be an MNIST CSV (from its first data line only), or None when it looks right."""
    file = Path(path).expanduser()
    if not file.is_file():
        return f"{file} is not a file"
    try:
        layout = csv_layout(file)
    except UserError as error:
        return str(error)
    if layout.first_row is None:
        return f"{file} has no data rows"
    count = len(cells_of(layout.first_row[1], layout.separator))
    return None if count == COLUMNS else f"{file}: {_column_count_problem(count)}"


def _read_frame(path: Path, layout: CsvLayout) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, header=None, skiprows=layout.skip, sep=layout.separator, low_memory=False,
            compression=layout.text.compression, encoding=layout.text.encoding, encoding_errors="replace",
        )
    except pd.errors.EmptyDataError:
        raise UserError(f"{path}: no data rows") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            expected, line, saw = found.groups()
            raise UserError(f"{path}: line {line} has {saw} values, expected {expected}") from None
        raise UserError(f"{path}: not a readable CSV ({printable(str(error).strip())})") from None
    except READ_ERRORS as error:
        raise unreadable(path, layout.text.compression, error) from None


def _without_trailing_separator(frame: pd.DataFrame) -> pd.DataFrame:
    """The table less the empty last column that a separator at the end of every row makes."""
    if frame.shape[1] > 1 and frame.iloc[:, -1].isna().all():
        return frame.iloc[:, :-1]
    return frame


def _first_bad(mask: np.ndarray) -> int:
    return int(np.argmax(mask.any(axis=1) if mask.ndim == 2 else mask))


def _check_cells(frame: pd.DataFrame, path: Path, line_offset: int) -> np.ndarray:
    """The table as numbers, after naming the first non-numeric, missing or fractional cell."""
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series):
            bad = (pd.to_numeric(series, errors="coerce").isna() & series.notna()).to_numpy()
            row = _first_bad(bad)
            cell = printable(repr(series.iloc[row]), limit=40)
            raise UserError(f"{path}: line {row + line_offset}, column {column + 1}: {cell} is not a number")
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
    """Images (N, 28, 28) uint8 and labels (N,) from an MNIST CSV, every cell checked, every row kept."""
    layout = csv_layout(path)
    if layout.first_row is None:
        raise UserError(f"{path}: no data rows")
    frame = _without_trailing_separator(_read_frame(path, layout))
    if frame.shape[1] != COLUMNS:
        raise UserError(f"{path}: {_column_count_problem(frame.shape[1])}")
    line_offset = layout.first_row[0]
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
