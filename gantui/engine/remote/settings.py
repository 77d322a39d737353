"""The places file: the remote places the app was given, and how to reach hosts.

    $XDG_CONFIG_HOME/gantui/places.json   (default ~/.config/gantui/places.json)
    {
      "places": ["gpu1:runs", "me@gpu2:/data/runs"],        remembered: `gantui` lists them with ./runs
      "ssh_options": ["-F", "/home/me/.ssh/gantui_config"],  added to every ssh command
      "remote_command": "gantui",                            what runs gantui on the hosts
      "hosts": {"gpu2": {"remote_command": "/opt/venv/bin/gantui", "ssh_options": ["-p", "2222"]}}
    }

Every key is optional; the command line's --remote-command and --ssh-option win over the file.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from gantui.engine.errors import UserError
from gantui.engine.remote.ssh import SshSettings

CONFIG_NAME = "places.json"


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gantui" / CONFIG_NAME


def read_places_file(path: Path | None = None) -> dict[str, Any]:
    """The places file as a dict ({} when there is none); UserError naming the file when it is malformed."""
    path = path or config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise UserError(f"{path} is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a JSON object")
    return data


def remember_places(places: list[str], path: Path | None = None) -> None:
    """Add the remote places the user gave to the file (kept in the order first given)."""
    path = path or config_file()
    data = read_places_file(path)
    known = [str(p) for p in data.get("places") or []]
    new = [place for place in places if place not in known]
    if not new:
        return
    data["places"] = known + new
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def remembered_places(path: Path | None = None) -> list[str]:
    return [str(p) for p in read_places_file(path).get("places") or []]


def ssh_settings(host: str, remote_command: str | None = None, options: list[str] | None = None,
                 data: dict[str, Any] | None = None) -> SshSettings:
    """How to reach `host`: the command line's choices, else the host's entry, else the file's defaults."""
    data = read_places_file() if data is None else data
    entry = (data.get("hosts") or {}).get(host) or {}
    command = remote_command or entry.get("remote_command") or data.get("remote_command") or "gantui"
    extra = [*_options(data.get("ssh_options")), *_options(entry.get("ssh_options")), *(options or [])]
    return SshSettings(remote_command=str(command), options=tuple(extra))


def _options(value: Any) -> list[str]:
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value or []]
