"""The agent's line protocol: one JSON object per line each way, versioned by the agent's first line.

    agent -> client   {"hello": "gantui-agent", "protocol": 2, "host": ..., "places": {given: resolved}}
    client -> agent   {"id": 7, "op": "sync", ...}
    agent -> client   {"id": 7, "ok": true, ...}  or  {"id": 7, "ok": false, "error": "one line"}

Files travel as text (CSV and JSON rows) or base64 (PNG). The operations are the agent's `OPS`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

PROTOCOL_VERSION = 2  # 2: status.json as its changed fields; check_data and preview
HELLO = "gantui-agent"
MAX_LINE = 64 * 1024 * 1024  # a reply larger than this is a bug, not a run


class ProtocolError(Exception):
    """The other side said something that is not this protocol."""


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as error:
        raise ProtocolError(f"not a protocol line: {line[:80]!r}") from error
    if not isinstance(message, dict):
        raise ProtocolError(f"not a protocol message: {line[:80]!r}")
    return message


def pack_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unpack_bytes(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
