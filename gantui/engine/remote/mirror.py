"""A remote place (`HOST:PATH`) read through its agent into a local mirror of its run folders.

The mirror holds what the agent sent: the append-only files grow by the new bytes only (their sizes are
the offsets the next request sends, so a reconnection catches up with no row lost or repeated), status.json,
config.json and the latest snapshot are replaced when their stamp moves, and older snapshots are empty
placeholders until a view asks for one (`picture`). The engine's RunFollower then reads the mirror as it
reads any run folder. The mirror lives in a temporary folder that goes when the process ends.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gantui.engine.places import DISCONNECTED, RunPlace
from gantui.engine.remote.agent import LISTING_FILES, STATUS_FILE, TAIL_FILES, WHOLE_FILES
from gantui.engine.remote.host import machine_id
from gantui.engine.remote.place import RemoteSpec
from gantui.engine.remote.protocol import unpack_bytes
from gantui.engine.remote.ssh import AgentLink, RemoteError, SshSettings
from gantui.engine.run.follower import RunFollower
from gantui.engine.run.layout import RunLayout

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig
    from gantui.engine.preview import DataPreview

_ROOT: Path | None = None
_ROOT_LOCK = threading.Lock()


def mirror_root() -> Path:
    """This process's mirror folder (made on first use, removed at exit)."""
    global _ROOT
    with _ROOT_LOCK:
        if _ROOT is None:
            _ROOT = Path(tempfile.mkdtemp(prefix="gantui-remote-"))
            atexit.register(shutil.rmtree, _ROOT, True)
        return _ROOT


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("_") or "_"


class RemotePlace(RunPlace):
    """`host:path`, served by `gantui agent` over ssh; its runs appear under `self.mirror`."""

    def __init__(self, spec: RemoteSpec, settings: SshSettings | None = None) -> None:
        self.spec = spec
        self.label = str(spec)
        self.host = spec.host
        self.link = AgentLink(spec.host, [spec.path], settings)
        self.mirror = mirror_root() / _safe(spec.host) / _safe(spec.path)
        self.mirror.mkdir(parents=True, exist_ok=True)
        self.problem: str | None = None
        self._stamps: dict[tuple[str, str], int] = {}  # (run name, file) -> the stamp of the copy we have
        self._host_status: dict[str, dict[str, Any]] = {}  # run name -> status.json as the host wrote it
        self._known: list[Path] = []
        self._remote_names: dict[str, str] = {}  # a mirror folder's name -> the run's name on the host
        self._fetching: set[tuple[str, int]] = set()  # snapshots being fetched now
        self._fetching_lock = threading.Lock()
        self._lock = threading.Lock()  # one sync of a run folder at a time (the runs list and a dashboard)

    # ---- naming ----------------------------------------------------------------------------------------------
    @property
    def remote_root(self) -> str:
        """The place's folder as the agent resolved it (the given path until the first connection)."""
        return str((self.link.hello.get("places") or {}).get(self.spec.path, self.spec.path))

    def remote_path(self, path: Path) -> str:
        name = Path(path).name
        return f"{self.remote_root.rstrip('/')}/{self._remote_names.get(name, name)}"

    def contains(self, path: Path) -> bool:
        return Path(path).parent == self.mirror

    def run_path(self, name: str) -> Path:
        return self.mirror / name

    # ---- listing ---------------------------------------------------------------------------------------------
    def run_folders(self) -> list[Path]:
        try:
            self._ensure_connected()
            reply = self.link.request("scan", place=self.remote_root, have={
                path.name: self._have(path, LISTING_FILES) for path in self._known})
        except RemoteError as error:
            self.problem = str(error)
            return list(self._known)
        self.problem = None
        names = reply.get("runs") or {}
        with self._lock:
            for name, piece in names.items():
                self._remote_names[_safe(name)] = name
                self._apply(self.run_path(_safe(name)), piece)
            for gone in {p.name for p in self._known} - {_safe(name) for name in names}:
                shutil.rmtree(self.run_path(gone), ignore_errors=True)
        self._known = [self.run_path(_safe(name)) for name in names]
        return list(self._known)

    def _ensure_connected(self) -> None:
        if not self.link.hello:  # the resolved place path comes with the first hello
            self.link.request("ping")

    # ---- following -------------------------------------------------------------------------------------------
    def follow(self, path: Path, **options: Any) -> RemoteFollower:
        return RemoteFollower(self, path, **options)

    def sync(self, path: Path, files: tuple[str, ...]) -> None:
        """Bring the mirror of run `path` up to date for `files`; RemoteError when the host does not answer."""
        self._ensure_connected()
        with self._lock:
            reply = self.link.request("sync", run=self.remote_path(path), files=list(files),
                                      have=self._have(path, files))
            self._apply(Path(path), reply)

    def _have(self, path: Path, files: tuple[str, ...]) -> dict[str, int]:
        have = {}
        for name in files:
            if name in TAIL_FILES:
                with contextlib.suppress(OSError):
                    have[name] = (Path(path) / name).stat().st_size
            elif (path.name, name) in self._stamps:
                have[name] = self._stamps[(path.name, name)]
        return have

    def _apply(self, path: Path, reply: dict[str, Any]) -> None:
        """Write what the agent sent into the mirror of run `path`."""
        path.mkdir(parents=True, exist_ok=True)
        for name, piece in (reply.get("files") or {}).items():
            target = path / name
            if name not in TAIL_FILES + WHOLE_FILES:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if name in TAIL_FILES:
                _append(target, piece)
            elif name == STATUS_FILE:
                data = self._host_status_bytes(path.name, piece)
                if data is None:  # changed fields of a copy we do not have: the next request gets it whole
                    self._stamps.pop((path.name, name), None)
                    continue
                _replace(target, self._localise_status(data, reply.get("now")), piece.get("stamp"))
                self._stamps[(path.name, name)] = piece.get("stamp")
            else:
                _replace(target, unpack_bytes(piece.get("data", "")), piece.get("stamp"))
                self._stamps[(path.name, name)] = piece.get("stamp")
        layout = RunLayout(path)
        for sample in reply.get("samples") or ():
            placeholder = layout.samples / _safe(sample)
            if not placeholder.exists():
                layout.samples.mkdir(exist_ok=True)
                placeholder.touch()
        if reply.get("has_checkpoint") and not layout.last_checkpoint.exists():
            layout.checkpoints.mkdir(exist_ok=True)
            layout.last_checkpoint.touch()  # only says there is one: the explorer and sample ask the host
        age = reply.get("age")
        if isinstance(age, (int, float)):
            stamp = time.time() - age
            with contextlib.suppress(OSError):
                os.utime(path, (stamp, stamp))

    def _host_status_bytes(self, name: str, piece: dict[str, Any]) -> bytes | None:
        """status.json as the host has it now: sent whole, or the copy we have with the fields that changed."""
        if "changed" not in piece:
            data = unpack_bytes(piece.get("data", ""))
            try:
                fields = json.loads(data)
            except ValueError:
                fields = None
            if isinstance(fields, dict):
                self._host_status[name] = fields
            else:
                self._host_status.pop(name, None)
            return data
        fields = self._host_status.get(name)
        if fields is None:
            return None
        fields = {**fields, **(piece.get("changed") or {})}
        for key in piece.get("removed") or ():
            fields.pop(key, None)
        self._host_status[name] = fields
        return json.dumps(fields).encode("utf-8")

    def _localise_status(self, data: bytes, host_now: Any) -> bytes:
        """status.json as this machine must read it: the host's times on this clock (a heartbeat from a host
        whose clock is off must not read as lost), and no pid to look up here unless the host is this machine."""
        try:
            status = json.loads(data)
        except ValueError:
            return data  # caught mid-write there: the follower keeps what it had
        if not isinstance(status, dict):
            return data
        if isinstance(host_now, (int, float)):
            skew = time.time() - host_now
            for key in ("heartbeat", "started", "ended"):
                if isinstance(status.get(key), (int, float)):
                    status[key] += skew
        if self.link.hello.get("machine") != machine_id():
            status.pop("pid", None)
        return json.dumps(status).encode("utf-8")

    # ---- pictures, control, devices, launch ------------------------------------------------------------------
    def picture(self, path: Path, step: int | None = None, wait: bool = True) -> Path | None:
        layout = RunLayout(path)
        if step is None:  # the latest comes with every follower's poll: never a request from here
            found = layout.sample_file(None)
            return found if found is not None and found.stat().st_size else None
        for candidate in (layout.sample_png(step), layout.sample_json(step)):
            if candidate.is_file() and candidate.stat().st_size:
                return candidate
        if not wait:
            self._fetch_later(Path(path), step)
            return None
        return self._fetch(Path(path), step)

    def _fetch_later(self, path: Path, step: int) -> None:
        """Fetch a snapshot in a thread of its own (once at a time per picture): the mirror then has it."""
        key = (path.name, step)
        with self._fetching_lock:  # not self._lock, which a sync holds while it waits for the host
            if key in self._fetching:
                return
            self._fetching.add(key)

        def fetch() -> None:
            try:
                self._fetch(path, step)
            finally:
                with self._fetching_lock:
                    self._fetching.discard(key)

        threading.Thread(target=fetch, name=f"gantui-fetch-{step}", daemon=True).start()

    def _fetch(self, path: Path, step: int) -> Path | None:
        layout = RunLayout(path)
        try:
            reply = self.link.request("picture", run=self.remote_path(path), step=step)
        except RemoteError:
            return None
        if reply.get("missing"):
            return None
        target = layout.path / _safe_relative(reply.get("name", ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace(target, unpack_bytes(reply.get("data", "")), None)
        return target

    def exports(self, path: Path) -> Path:
        """Saved pictures of a remote run stay on this machine (the mirror goes at exit): ./exports/HOST/RUN."""
        return Path("exports").resolve() / _safe(self.host) / Path(path).name

    def control(self, path: Path, command: str) -> None:
        try:
            self.link.request("control", run=self.remote_path(path), command=command)
        except RemoteError as error:
            raise OSError(str(error)) from None

    def devices(self) -> str | None:
        try:
            return str(self.link.request("devices").get("summary") or "")
        except RemoteError as error:
            self.problem = str(error)
            return None

    def check_data(self, dataset: str, path: str | None, download: bool = False) -> str | None:
        """Checked by the host's agent (the data is there); the host not answering is the reason."""
        try:
            reply = self.link.request("check_data", dataset=dataset, path=path, download=download)
        except RemoteError as error:
            return str(error)
        reason = reply.get("reason")
        return str(reason) if reason is not None else None

    def preview_data(self, dataset: str, path: str | None, image_size: int | None = None,
                     download: bool = False) -> DataPreview:
        from gantui.engine.preview import DataPreview

        try:
            reply = self.link.request("preview", dataset=dataset, path=path, image_size=image_size,
                                      download=download)
        except RemoteError as error:
            return DataPreview(dataset, path, image_size, download, error=str(error), place=self.label)
        try:
            return DataPreview.from_wire(reply, self.label)
        except (TypeError, ValueError) as error:  # not this version's preview: say so, never "loading…" forever
            return DataPreview(dataset, path, image_size, download, place=self.label,
                               error=f"{self.host} sent a preview this gantui cannot read ({error})")

    def device_options(self) -> list[tuple[str, str]] | None:
        reply = self.link.request("options")
        return [(str(name), str(label)) for name, label in reply.get("devices") or ()]

    def launch(self, config: TrainConfig, processes: int = 1) -> Path:
        self._ensure_connected()
        reply = self.link.request("launch", place=self.remote_root, config=config.to_dict(), processes=processes)
        name = Path(str(reply["run"])).name
        self._remote_names[_safe(name)] = name
        return self.run_path(_safe(name))

    def resume(self, path: Path, steps: int) -> None:
        """The host's agent starts `gantui resume` detached there (and refuses a run still live there)."""
        self._ensure_connected()
        self.link.request("resume", run=self.remote_path(path), steps=steps)

    def strip_maker(self, path: Path) -> RemoteStripMaker:
        return RemoteStripMaker(self, path)

    def close(self) -> None:
        self.link.close()


def _safe_relative(name: str) -> str:
    """A file name the agent sent, kept inside the run's mirror (samples/step-N.png and the like)."""
    parts = [_safe(part) for part in name.split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or "_"


def _append(target: Path, piece: dict[str, Any]) -> None:
    """New lines of an append-only file: at the offset we have (from 0 when the host's file shrank)."""
    text = str(piece.get("text", "")).encode("utf-8")
    start = int(piece.get("from", 0))
    have = target.stat().st_size if target.exists() else 0
    if piece.get("reset") or start != have:
        if start != 0 and not piece.get("reset"):
            return  # not where we are: ignore it, the next request asks from our offset
        with open(target, "wb") as handle:
            handle.write(text)
        return
    with open(target, "ab") as handle:
        handle.write(text)


def _replace(target: Path, data: bytes, stamp: int | None) -> None:
    """Write `target` whole, atomically (a reader never sees half of it), with the host's stamp."""
    temporary = target.with_name(f".{target.name}.mirror.tmp")
    temporary.write_bytes(data)
    if isinstance(stamp, int):
        os.utime(temporary, ns=(stamp, stamp))
    os.replace(temporary, target)


class RemoteFollower(RunFollower):
    """A RunFollower of a remote run's mirror that brings the mirror up to date before each poll.

    While the host does not answer it keeps returning what it had, with `problem` saying so; the next
    poll that reaches the host again catches up from the mirror's offsets."""

    def __init__(self, place: RemotePlace, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        self.place = place
        self.problem: str | None = None
        files = [name for name in WHOLE_FILES if "latest" not in name or self.samples]
        files += [self.layout.metrics.name, self.layout.ranks.name] if self._metrics.history is not None else []
        files += [self.layout.evals.name] if self._evals.history is not None else []
        files += [self.layout.events.name] if self.max_events else []
        self.files = tuple(files)

    def poll(self):  # type: ignore[override]
        try:
            self.place.sync(self.path, self.files)
            self.problem = None
        except RemoteError as error:
            self.problem = f"{DISCONNECTED}: {error}"
        return super().poll()


class RemoteStripMaker:
    """The explorer's strips of a remote run, made by the host's agent (which keeps the generator loaded)."""

    def __init__(self, place: RemotePlace, path: Path) -> None:
        self.place, self.path = place, Path(path)

    def make(self, seed_a: int, seed_b: int, steps: int, label: int | None = None):
        from gantui.engine.explore import Strips

        reply = self.place.link.request("explore", run=self.place.remote_path(self.path), seed_a=seed_a,
                                        seed_b=seed_b, steps=steps, label=label)
        return Strips.from_wire(reply)
