"""Where runs are: a local folder (`./runs`, `/data/runs`) or `HOST:PATH` as scp writes it (`gpu1:runs`).

As with scp, a colon before any slash makes the text a remote place; a path with a slash before its
first colon (`./a:b`, `/x:y`) is local. The user part stays in the host (`me@gpu2`): ssh reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gantui.engine.errors import UserError


@dataclass(frozen=True)
class RemoteSpec:
    """`host:path` before the far side resolved it (`path` may be relative to the remote home)."""

    host: str
    path: str

    def __str__(self) -> str:
        return f"{self.host}:{self.path}"


def parse_place(text: str) -> Path | RemoteSpec:
    """A local folder or a `RemoteSpec`; UserError for `HOST:` without a host or a path."""
    text = str(text)
    colon = text.find(":")
    slash = text.find("/")
    if colon <= 0 and not text.startswith(":") or (0 <= slash < colon):
        return Path(text).expanduser()
    host, path = text[:colon], text[colon + 1:]
    if not host:
        raise UserError(f"{text!r}: a remote place is HOST:PATH (the host is missing)")
    if any(ch.isspace() for ch in host) or host.startswith("-"):
        raise UserError(f"{text!r}: {host!r} is not a host name")
    return RemoteSpec(host, path or ".")


def split_run(text: str) -> tuple[Path | RemoteSpec, str | None]:
    """A RUN argument: (place, run name) for `host:runs/RUN`, (local path, None) for a local one."""
    place = parse_place(text)
    if isinstance(place, Path):
        return place, None
    head, _, name = place.path.rstrip("/").rpartition("/")
    if not name:
        raise UserError(f"{text!r}: name the run, as HOST:RUNS/RUN")
    return RemoteSpec(place.host, head or "."), name
