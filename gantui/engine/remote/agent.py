"""`gantui agent --serve PLACE...`: the far side of a remote place, speaking `protocol` on stdin/stdout.

Started over SSH on demand, one per connection. It is read-mostly: it sends run files (only the new bytes
of the append-only ones, a whole file only when its stamp moved), writes control.json through the engine's
control writer, and starts (or resumes) runs detached exactly as the app does locally. It serves ONLY run folders
directly under the places on its command line (paths resolved, symlinks too: no `..` escape), never
executes anything from a run folder, and loads checkpoints only with weights_only=True.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from gantui.engine.errors import UserError
from gantui.engine.remote.protocol import (
    HELLO,
    PROTOCOL_VERSION,
    ProtocolError,
    decode,
    encode,
    pack_bytes,
    unpack_bytes,
)
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import run_folders

_TEMPLATE = RunLayout(Path("RUN"))


def _relative(path: Path) -> str:
    return path.relative_to(_TEMPLATE.path).as_posix()


TAIL_FILES = tuple(map(_relative, (_TEMPLATE.metrics, _TEMPLATE.evals, _TEMPLATE.events,
                                   _TEMPLATE.ranks)))  # sent by their new bytes
WHOLE_FILES = tuple(map(_relative, (_TEMPLATE.status, _TEMPLATE.config, _TEMPLATE.latest_png,
                                    _TEMPLATE.latest_json)))  # sent whole when their stamp moved
STATUS_FILE = _relative(_TEMPLATE.status)  # sent as its changed fields once the client has a copy (a heartbeat
# changes it every few seconds, a training step more often: the rest of it stays)
LISTING_FILES = tuple(map(_relative, (_TEMPLATE.status, _TEMPLATE.config, _TEMPLATE.evals)))  # the runs list's
MAX_CHUNK = 8 * 1024 * 1024  # of one tail in one reply: a long run's first read comes in a few replies


class Agent:
    """Serves run folders directly under `places` (resolved once)."""

    def __init__(self, places: list[str]) -> None:
        self.places = {given: Path(given).expanduser().resolve() for given in places}
        self.roots = set(self.places.values())
        self.makers: dict[Path, Any] = {}  # the explorer's loaded generators, by run
        # what this connection last sent of each run: status.json (stamp, fields) and the snapshots' names
        self.sent: dict[Path, dict[str, Any]] = {}

    def hello(self) -> dict[str, Any]:
        from gantui.engine.remote.host import machine_id

        return {"hello": HELLO, "protocol": PROTOCOL_VERSION, "host": socket.gethostname(), "machine": machine_id(),
                "places": {given: str(path) for given, path in self.places.items()}}

    # ---- what may be read --------------------------------------------------------------------------------
    def place(self, text: Any) -> Path:
        path = Path(str(text)).expanduser().resolve()
        if path not in self.roots:
            raise UserError(f"{text} is not a place this agent serves")
        return path

    def run(self, text: Any, must_exist: bool = True) -> Path:
        """A run folder directly under a served place, after resolving every link and `..`."""
        path = Path(str(text)).expanduser().resolve()
        if path.parent not in self.roots or path.name.startswith("."):
            raise UserError(f"{text} is not a run under the places this agent serves")
        if must_exist and not path.is_dir():
            raise UserError(f"no run folder {text}")
        return path

    # ---- operations ----------------------------------------------------------------------------------------
    def op_scan(self, request: dict[str, Any]) -> dict[str, Any]:
        """Every run under the place, with what the runs list reads of each (new bytes only)."""
        root = self.place(request.get("place"))
        have = request.get("have") or {}
        runs = {}
        folders = run_folders([root])
        for folder in folders:
            runs[folder.name] = self._files(folder, have.get(folder.name) or {}, LISTING_FILES)
        for gone in [folder for folder in self.sent if folder.parent == root and folder not in folders]:
            del self.sent[gone]  # the client drops its copy of a run that went: one that comes back is new
        return {"place": str(root), "runs": runs}

    def op_sync(self, request: dict[str, Any]) -> dict[str, Any]:
        """One run's files since what the client `have`s (byte offsets of tails, stamps of whole files)."""
        folder = self.run(request.get("run"), must_exist=False)
        if not folder.is_dir():  # a run just launched: its folder comes once it checked out
            return {"files": {}, "missing": True}
        wanted = [name for name in request.get("files") or TAIL_FILES + WHOLE_FILES
                  if name in TAIL_FILES + WHOLE_FILES]
        return self._files(folder, request.get("have") or {}, tuple(wanted))

    def op_picture(self, request: dict[str, Any]) -> dict[str, Any]:
        layout = RunLayout(self.run(request.get("run")))
        step = request.get("step")
        path = layout.sample_file(int(step) if step is not None else None)
        if path is None:
            return {"missing": True}
        return {"name": _relative_to(path, layout.path), "data": pack_bytes(path.read_bytes())}

    def op_control(self, request: dict[str, Any]) -> dict[str, Any]:
        from gantui.engine.control import COMMANDS
        from gantui.engine.control import request as write_request

        command = request.get("command")
        if command not in COMMANDS:
            raise UserError(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
        write_request(self.run(request.get("run")), command)
        return {}

    def op_ping(self, request: dict[str, Any]) -> dict[str, Any]:
        return {}

    def op_devices(self, request: dict[str, Any]) -> dict[str, Any]:
        from gantui.engine.remote.host import device_summary

        return {"summary": device_summary()}

    def op_launch(self, request: dict[str, Any]) -> dict[str, Any]:
        from gantui.engine.config import TrainConfig, validate
        from gantui.engine.spawn import spawn_train

        root = self.place(request.get("place"))
        config = TrainConfig.from_dict(request.get("config") or {}).replace(runs_dir=str(root))
        validate(config)  # the data path is this host's
        if config.device != "auto":
            from gantui.engine.devices import resolve_device

            resolve_device(config.device)  # and so are the devices
        processes = request.get("processes", 1)
        if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
            raise UserError(f"processes must be a whole number of at least 1, not {processes!r}")
        started = spawn_train(config, root, processes)
        return {"run": str(started.path)}

    def op_resume(self, request: dict[str, Any]) -> dict[str, Any]:
        """`gantui resume RUN --steps N` detached here, as the app does locally; never a live run."""
        from gantui.engine.run.reader import read_json
        from gantui.engine.run.state import LIVE_STATES, effective_state
        from gantui.engine.spawn import spawn_resume

        path = self.run(request.get("run"))
        steps = request.get("steps")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise UserError(f"steps must be a whole number of at least 1, not {steps!r}")
        layout = RunLayout(path)
        if not layout.config.is_file():
            raise UserError(f"{path.name} never got as far as its configuration")
        state = effective_state(read_json(layout.status) or {})
        if state in LIVE_STATES:
            raise UserError(f"{path.name} is {state.value}: it is still training")
        started = spawn_resume(path, steps, path.parent)
        return {"run": str(started.path)}

    def op_options(self, request: dict[str, Any]) -> dict[str, Any]:
        from gantui.engine.devices import available_devices

        return {"devices": [[option.name, option.label] for option in available_devices()]}

    def op_check_data(self, request: dict[str, Any]) -> dict[str, Any]:
        """Why the launcher's data path will not load here (None: it will): the data is this host's."""
        from gantui.engine.data import validate_data_path

        return {"reason": validate_data_path(str(request.get("dataset")), _text(request.get("path")),
                                             bool(request.get("download")))}

    def op_preview(self, request: dict[str, Any]) -> dict[str, Any]:
        """The launcher's preview of the data as this host reads it (made here, sent as plain values)."""
        from gantui.engine.preview import load_preview

        size = request.get("image_size")
        return load_preview(str(request.get("dataset")), _text(request.get("path")),
                            int(size) if size is not None else None, bool(request.get("download"))).to_wire()

    def op_explore(self, request: dict[str, Any]) -> dict[str, Any]:
        """The explorer's strips, made here where the checkpoint is (loaded weights_only, kept per run)."""
        from gantui.engine.explore import StripMaker

        path = self.run(request.get("run"))
        maker = self.makers.get(path) or self.makers.setdefault(path, StripMaker(path))
        label = request.get("label")
        try:
            strips = maker.make(int(request.get("seed_a", 0)), int(request.get("seed_b", 1)),
                                int(request.get("steps", 8)), int(label) if label is not None else None)
        except (UserError, ValueError, OSError):
            raise
        except Exception as error:  # a foreign or damaged checkpoint: say what, keep serving
            raise UserError(f"{type(error).__name__}: {error}".splitlines()[0]) from None
        return strips.to_wire()

    # ---- files ---------------------------------------------------------------------------------------------
    def _files(self, folder: Path, have: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
        """The pieces of `names` newer than what the client `have`s; the snapshots' names when they changed."""
        files: dict[str, Any] = {}
        sent = self.sent.setdefault(folder, {})
        for name in names:
            path = folder / name
            known = have.get(name)
            if name in TAIL_FILES:
                piece = _tail(path, known)
            elif name == STATUS_FILE:
                piece = _status(path, known, sent)
            else:
                piece = _whole(path, known)
            if piece is not None:
                files[name] = piece
        layout = RunLayout(folder)
        reply: dict[str, Any] = {"files": files, "has_checkpoint": layout.last_checkpoint.is_file(),
                                 "age": layout.age(), "now": time.time()}
        samples = sorted(child.name for child in layout.samples.glob("step-*.*")) if layout.samples.is_dir() else []
        if samples != sent.get("samples"):  # a new connection sends them once, then only when they change
            reply["samples"] = sent["samples"] = samples
        return reply

    OPS: dict[str, Callable[[Agent, dict[str, Any]], dict[str, Any]]] = {
        "ping": op_ping, "scan": op_scan, "sync": op_sync, "picture": op_picture, "control": op_control,
        "devices": op_devices, "launch": op_launch, "options": op_options, "explore": op_explore,
        "check_data": op_check_data, "preview": op_preview, "resume": op_resume,
    }

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        ident = request.get("id")
        handler = self.OPS.get(str(request.get("op")))
        if handler is None:
            return {"id": ident, "ok": False, "error": f"unknown operation {request.get('op')!r}"}
        try:
            reply = handler(self, request)
        except (UserError, ValueError, TypeError, OSError) as error:
            return {"id": ident, "ok": False, "error": " ".join(str(error).split()) or type(error).__name__}
        return {"id": ident, "ok": True, **reply}


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _relative_to(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _tail(path: Path, offset: Any) -> dict[str, Any] | None:
    """The complete lines after `offset` (from 0, `reset`, when the file shrank); None when nothing new."""
    offset = int(offset) if isinstance(offset, int) and offset >= 0 else 0
    try:
        size = path.stat().st_size
    except OSError:
        return None
    reset = size < offset
    if reset:
        offset = 0
    if size == offset:
        return None
    with open(path, "rb") as handle:
        handle.seek(offset)
        chunk = handle.read(min(size - offset, MAX_CHUNK))
    end = chunk.rfind(b"\n")
    if end < 0:
        return {"reset": True, "from": 0, "text": ""} if reset else None
    return {"reset": reset, "from": offset, "text": chunk[: end + 1].decode("utf-8", errors="replace")}


def _whole(path: Path, stamp: Any) -> dict[str, Any] | None:
    try:
        now = path.stat().st_mtime_ns
    except OSError:
        return None
    if now == stamp:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return {"stamp": now, "data": pack_bytes(data)}


def _status(path: Path, stamp: Any, sent: dict[str, Any]) -> dict[str, Any] | None:
    """status.json when its stamp moved: only the fields that changed (`changed`, `removed`) when the client
    has the copy this connection sent last (its `stamp`), else whole."""
    piece = _whole(path, stamp)
    if piece is None:
        return None
    try:
        fields = json.loads(unpack_bytes(piece["data"]))  # the bytes that go, whole or as a patch
    except ValueError:
        fields = None
    before = sent.get("status")
    sent["status"] = (piece["stamp"], fields) if isinstance(fields, dict) else None
    if not isinstance(fields, dict) or before is None or before[0] != stamp:
        return piece
    old = before[1]
    return {"stamp": piece["stamp"], "changed": {key: value for key, value in fields.items()
                                                 if key not in old or old[key] != value},
            "removed": [key for key in old if key not in fields]}


def serve(places: list[str], stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Answer requests until stdin ends (the connection dropped, or the client went)."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    agent = Agent(places)
    stdout.write(encode(agent.hello()))
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = decode(line)
        except ProtocolError as error:
            reply = {"id": None, "ok": False, "error": str(error)}
        else:
            reply = agent.answer(request)
        stdout.write(encode(reply))
        stdout.flush()
    return 0


def main(places: list[str]) -> int:
    """`gantui agent`: stdout is the protocol's, so anything else printed (warnings) goes to stderr."""
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    with contextlib.suppress(OSError):
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return serve(places, sys.stdin.buffer, stdout)
