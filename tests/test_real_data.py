"""Real users' text and idx files, as they come: every row used, or one clean sentence that says what to do.

The helpers `refused` and `assert_clean_line` serve test_real_pictures.py too."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gantui.engine.data import load_dataset, validate_data_path
from gantui.engine.errors import UserError

ROWS = 200


def digit_rows(count: int = ROWS) -> np.ndarray:
    rows = np.zeros((count, 785), dtype=np.int64)
    rows[:, 0] = np.arange(count) % 10
    rows[:, 1:] = (np.arange(count * 784).reshape(count, 784) * 3) % 256
    return rows


def csv_text(rows: np.ndarray, header: str | None = None, separator: str = ",", end: str = "\n") -> str:
    lines = [header] if header is not None else []
    lines += [separator.join(str(value) for value in row) for row in rows]
    return end.join(lines) + end


def assert_clean_line(message: str) -> None:
    """One line of printable text: no NUL, no newline, no other control character."""
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", message), repr(message)


def refused(name: str, path: Path | str, match: str) -> str:
    with pytest.raises(UserError, match=match) as caught:
        load_dataset(name, str(path))
    message = str(caught.value)
    assert_clean_line(message)
    return message


# --- CSV: every row counts, whatever the file's container, encoding or header -----------------------------

PIXEL_HEADER = ",".join(["label"] + [f"pixel{i}" for i in range(784)])
KAGGLE_HEADER = ",".join(["label"] + [f"{row}x{column}" for row in range(1, 29) for column in range(1, 29)])
NUMBERED_HEADER = ",".join(str(i) for i in range(785))  # pandas' to_csv of an unnamed table
LABEL_NUMBERED_HEADER = ",".join(["label"] + [str(i) for i in range(784)])


def zipped(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.csv", text)
    return buffer.getvalue()


CSV_FILES = {
    "utf-8 byte-order mark": ("d.csv", lambda text: b"\xef\xbb\xbf" + text.encode()),
    "gzip named .csv.gz": ("mnist.csv.gz", lambda text: gzip.compress(text.encode())),
    "gzip named .csv": ("d.csv", lambda text: gzip.compress(text.encode())),
    "bz2": ("d.csv.bz2", lambda text: bz2.compress(text.encode())),
    "xz": ("d.csv", lambda text: lzma.compress(text.encode())),
    "zip of one file": ("d.zip", lambda text: zipped(text.encode())),
    "utf-16 with its mark": ("d.csv", lambda text: text.encode("utf-16")),
    "utf-32 with its mark": ("d.csv", lambda text: text.encode("utf-32")),
    "gzip of utf-8 with a mark": ("d.csv", lambda text: gzip.compress(b"\xef\xbb\xbf" + text.encode())),
    "windows line ends and blank lines": ("d.csv", lambda text: ("\r\n" + text + "\r\n\r\n").replace("\n", "\r\n")
                                          .replace("\r\r", "\r").encode()),
    "a comma ending every row": ("d.csv", lambda text: text.replace("\n", ",\n").encode()),
    "quoted cells": ("d.csv", lambda text: re.sub(r"(\d+)", r'"\1"', text).encode()),
    "semicolons": ("d.csv", lambda text: text.replace(",", ";").encode()),
    "tabs": ("d.csv", lambda text: text.replace(",", "\t").encode()),
}


@pytest.mark.parametrize("header", [None, PIXEL_HEADER, KAGGLE_HEADER, NUMBERED_HEADER, LABEL_NUMBERED_HEADER],
                         ids=["no header", "label,pixel0", "label,1x1", "0,1,…,784", "label,0,…,783"])
@pytest.mark.parametrize("kind", list(CSV_FILES))
def test_csv_every_row_counts(tmp_path, kind, header):
    name, encode = CSV_FILES[kind]
    rows = digit_rows()
    path = tmp_path / name
    path.write_bytes(encode(csv_text(rows, header)))
    assert validate_data_path("mnist-csv", str(path)) is None
    source = load_dataset("mnist-csv", str(path))
    assert source.info.size == ROWS
    assert source.labels.tolist() == rows[:, 0].tolist()
    assert np.array_equal(source.samples.reshape(ROWS, 784).numpy(), rows[:, 1:])


def test_csv_a_typo_in_the_first_row_is_reported_not_taken_for_a_header(tmp_path):
    rows = digit_rows(3).astype(str)
    rows[0, 5] = "x"
    path = tmp_path / "typo.csv"
    path.write_text("\n".join(",".join(row) for row in rows) + "\n")
    refused("mnist-csv", path, "line 1, column 6: 'x' is not a number")


def test_csv_header_after_blank_lines_keeps_line_numbers(tmp_path):
    rows = digit_rows(3)
    rows[1, 9] = 300
    path = tmp_path / "late.csv"
    path.write_text("\n\n" + csv_text(rows, PIXEL_HEADER))
    refused("mnist-csv", path, "line 5: pixel value 300 is outside 0-255")


UNMARKED = "is UTF-16 or UTF-32 text without a byte-order mark; save it as UTF-8"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (lambda text: text.encode("utf-16-le"), UNMARKED),
        (lambda text: text.encode("utf-32-be"), UNMARKED),
        (lambda text: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "holds binary data, not text"),
        (lambda text: gzip.compress(text.encode())[:-200], "not a readable gzip file.*download it again"),
    ],
    ids=["utf-16 without a mark", "utf-32 without a mark", "a picture named .csv", "truncated gzip"],
)
def test_csv_unreadable_text_is_one_clean_sentence(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content(csv_text(digit_rows(50))))
    message = refused("mnist-csv", path, match)
    assert str(path) in message
    reason = validate_data_path("mnist-csv", str(path))  # reads the first lines only: a cut at the end passes
    assert reason is None if "gzip" in match else str(path) in reason
    assert_clean_line(reason or "")


def test_csv_zip_of_several_files_says_to_unzip(tmp_path):
    path = tmp_path / "digit-recognizer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train.csv", csv_text(digit_rows(3)))
        archive.writestr("test.csv", "x")
    refused("mnist-csv", path, r"zip archive of 2 files \(train.csv, test.csv\); unzip it")


def test_csv_control_characters_never_reach_the_message(tmp_path):
    rows = digit_rows(3).astype(object)
    rows[1, 3] = "7\x01\x1b[31m"
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(",".join(str(cell) for cell in row) for row in rows) + "\n")
    message = refused("mnist-csv", path, "line 2, column 4")
    assert "\\x01" in message


# --- idx files ------------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_pair(folder: Path, images: bytes, labels: bytes, suffix: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"train-images-idx3-ubyte{suffix}").write_bytes(images)
    (folder / f"train-labels-idx1-ubyte{suffix}").write_bytes(labels)
    return folder


def test_idx_gzip_by_content_not_name(tmp_path):
    images = (np.arange(6 * 784).reshape(6, 28, 28) % 256).astype(np.uint8)
    labels = np.arange(6) % 10
    plain_named_gz = write_idx_pair(tmp_path / "a", idx_bytes(images), idx_bytes(labels), ".gz")
    gzip_named_plain = write_idx_pair(
        tmp_path / "b", gzip.compress(idx_bytes(images)), gzip.compress(idx_bytes(labels)))
    for folder in (plain_named_gz, gzip_named_plain):
        source = load_dataset("mnist", str(folder))
        assert source.info.size == 6 and np.array_equal(source.samples[:, 0].numpy(), images)


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (lambda data: data + bytes(5), "5 bytes more than the header"),
        (lambda data: data[:-5], "truncated"),
        (lambda data: gzip.compress(data)[:-30], "not a readable gzip file.*download it again"),
        (lambda data: b"<!DOCTYPE html><html>404</html>", "bad idx magic number"),
    ],
    ids=["extra bytes", "truncated", "truncated gzip", "an html page"],
)
def test_idx_broken_files_are_one_sentence(tmp_path, images, match):
    data = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    folder = write_idx_pair(tmp_path, images(data), idx_bytes(np.zeros(4)))
    message = refused("mnist", folder, match)
    assert "train-images-idx3-ubyte" in message

