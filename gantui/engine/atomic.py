"""Write files so that a reader never sees half of one: a temporary file beside it, then a rename."""

from __future__ import annotations

import errno
import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gantui.engine.errors import UserError


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process's umask, read once (reading it means setting it, which other threads could see)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_file(path: Path, flag: str = "--out") -> Path:
    """`path` if a file can be written there, else UserError saying why (a folder, no such folder, read-only)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise UserError(f"{flag} {path} is a folder; name a file in it")
    folder = path.parent
    if not folder.is_dir():
        raise UserError(f"{flag}: folder {folder} does not exist" if not folder.exists()
                        else f"{flag}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{flag}: cannot write into {folder} (permission denied or read-only)")
    return path


DISK_REASONS = {
    errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied", errno.EPERM: "permission denied",
    errno.ENOTDIR: "a file stands where a folder should be", errno.EEXIST: "a file stands where a folder should be",
}


def disk_reason(error: OSError) -> str:
    """Why a write failed, in words: disk full and read-only said as such."""
    return DISK_REASONS.get(error.errno, error.strerror or str(error))


def disk_problem(error: OSError, path: Path) -> str:
    """One sentence for a failed write."""
    return f"cannot write {path}: {disk_reason(error)}"


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary path in the same folder, fsync it, then rename it onto `path`."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the file gets the mode any other would
        try:
            write(tmp)
        except RuntimeError as error:  # torch's zip writer reports a full disk as "unexpected pos …"
            if "unexpected pos" in str(error) or "No space left" in str(error):
                raise OSError(errno.ENOSPC, "No space left on device", str(path)) from None
            raise
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
