"""Users' files as they are, whatever their names say: compression judged by magic bytes, text by byte-order mark."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gantui.engine.errors import UserError

MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"))
BYTE_ORDER_MARKS = (  # UTF-32-LE's mark begins with UTF-16-LE's, so the UTF-32 marks are tried first
    (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)
SNIFF_BYTES = 4096
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, zlib.error)  # what a broken archive raises
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, limit: int = 300) -> str:
    """`text` fit for a one-line message: line breaks and tabs as spaces, other control characters (NUL)
    shown as escapes, long text cut."""
    text = _CONTROL.sub(lambda found: repr(found.group())[1:-1], re.sub(r"\s*[\r\n\t]+\s*", " ", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compression_of(path: Path) -> str | None:
    """"gzip", "bz2", "xz" or "zip" when the file's first bytes say so (its name is not asked), else None."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((name for magic, name in MAGIC if head.startswith(magic)), None)


def _zip_member(path: Path) -> IO[bytes]:
    archive = zipfile.ZipFile(path)
    names = [member.filename for member in archive.infolist() if not member.is_dir()]
    if len(names) != 1:
        archive.close()
        listed = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
        raise UserError(f"{path} is a zip archive of {len(names)} files ({printable(listed)}); "
                        "unzip it and pass the one file to read")
    member = archive.open(names[0])
    archive.close()  # the member keeps the file open until it is closed itself
    return member


def open_binary(path: Path, compression: str | None) -> IO[bytes]:
    """The bytes of `path`, decompressed as `compression` (from compression_of) says."""
    if compression == "gzip":
        return gzip.open(path)
    if compression == "bz2":
        return bz2.open(path)
    if compression == "xz":
        return lzma.open(path)
    if compression == "zip":
        return _zip_member(path)
    return path.open("rb")


def unreadable(path: Path, compression: str | None, error: Exception) -> UserError:
    """The one-line error for a file (or archive) that breaks while being read."""
    kind = f"{compression} " if compression else ""
    detail = printable(str(error) or type(error).__name__)
    return UserError(f"{path}: not a readable {kind}file ({detail}); is it whole? copy or download it again")


def read_bytes(path: Path) -> bytes:
    """The whole content of `path`, decompressed when it is gzip, bz2, xz or a one-file zip."""
    compression = compression_of(path)
    try:
        with open_binary(path, compression) as handle:
            return handle.read()
    except READ_ERRORS as error:
        raise unreadable(path, compression, error) from None


@dataclass(frozen=True)
class TextFormat:
    """How to read a text file: its compression (None: plain) and a Python codec that also drops any mark."""

    compression: str | None
    encoding: str  # utf-8, utf-8-sig, utf-16 or utf-32


def _binary_problem(path: Path, head: bytes) -> str:
    zeros = head.count(0)
    letters = sum(32 <= byte < 127 or byte in b"\r\n\t" for byte in head)
    if zeros * 4 >= len(head) and zeros + letters == len(head):  # ASCII spread out by NULs
        return f"{path} is UTF-16 or UTF-32 text without a byte-order mark; save it as UTF-8"
    return f"{path} holds binary data, not text; pass a text file"


def text_format(path: Path) -> TextFormat:
    """How `path` reads as text, from its first bytes; a UserError for binary data or unmarked UTF-16."""
    compression = compression_of(path)
    try:
        with open_binary(path, compression) as handle:
            head = handle.read(SNIFF_BYTES)
    except READ_ERRORS as error:
        raise unreadable(path, compression, error) from None
    encoding = next((name for mark, name in BYTE_ORDER_MARKS if head.startswith(mark)), None)
    if encoding is None and b"\x00" in head:
        raise UserError(_binary_problem(path, head))
    return TextFormat(compression, encoding or "utf-8")


def first_lines(path: Path, text: TextFormat, count: int) -> list[tuple[int, str]]:
    """Up to `count` (line number, stripped text) of the first lines that are not blank, decoded, any mark dropped."""
    lines: list[tuple[int, str]] = []
    try:
        with io.TextIOWrapper(open_binary(path, text.compression), text.encoding, errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    lines.append((number, line.strip()))
                if len(lines) == count:
                    break
    except READ_ERRORS as error:
        raise unreadable(path, text.compression, error) from None
    return lines
