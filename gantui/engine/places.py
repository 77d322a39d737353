"""One way to read runs wherever they are: a `RunPlace` lists, follows, pictures, steers and starts runs.

`LocalPlace` is a runs folder on this machine, read by the engine's reader and follower as it always was;
`RemotePlace` (engine/remote/mirror.py) is `HOST:PATH`, read through the agent over SSH into a local
mirror that the same reader and follower read. Views name runs by a local path either way and ask
`place_of(path)` for the place that holds it; no view knows which kind it has.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gantui.engine.run.follower import RunFollower
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import run_folders

if TYPE_CHECKING:
    from gantui.engine.config import TrainConfig
    from gantui.engine.preview import DataPreview
    from gantui.engine.remote.ssh import SshSettings

DISCONNECTED = "disconnected — retrying"


class Follower(Protocol):
    """What `RunPlace.follow` returns: RunFollower's poll(), and `problem` (None while the place answers)."""

    path: Path
    problem: str | None

    def poll(self) -> Any: ...


class RunPlace(ABC):
    """Where runs are. `label` is what the user wrote (`./runs`, `gpu1:runs`); `host` None for this machine."""

    label: str
    host: str | None = None
    problem: str | None = None  # why the place cannot be read right now (unreachable host), else None

    @abstractmethod
    def run_folders(self) -> list[Path]:
        """The run folders now (local paths; for a remote place its mirror's, brought up to date)."""

    @abstractmethod
    def contains(self, path: Path) -> bool: ...

    @abstractmethod
    def follow(self, path: Path, **options: Any) -> Follower:
        """A follower of the run `path` taking RunFollower's options (metrics, evals, events, samples, …)."""

    @abstractmethod
    def picture(self, path: Path, step: int | None = None, wait: bool = True) -> Path | None:
        """The snapshot file of `step` (the latest when None) as a local file, or None when there is none.
        Not `wait`: None at once while it is still being fetched (a view shows it on a later poll)."""

    @abstractmethod
    def control(self, path: Path, command: str) -> None:
        """Ask the run to pause, resume, stop or take a snapshot (control.json in its folder)."""

    @abstractmethod
    def launch(self, config: TrainConfig, processes: int = 1) -> Path:
        """Start `config` detached on the place's host (`processes` > 1: `gantui train --nproc N`); the run
        folder it will write."""

    @abstractmethod
    def resume(self, path: Path, steps: int) -> None:
        """Start `gantui resume RUN --steps N` detached on the place's host (the run must not be live)."""

    def exports(self, path: Path) -> Path:
        """The local folder where what the user saves from run `path` goes (its exports/ when it is here)."""
        return RunLayout(path).exports

    def check_data(self, dataset: str, path: str | None, download: bool = False) -> str | None:
        """Why `path` will not load as `dataset` on the place's host (None: it will); cheap, as the form is typed."""
        from gantui.engine.data import validate_data_path

        return validate_data_path(dataset, path, download)

    def preview_data(self, dataset: str, path: str | None, image_size: int | None = None,
                     download: bool = False) -> DataPreview:
        """A few real samples of the data as the place's host reads it, and how each architecture fits it."""
        from gantui.engine.preview import load_preview

        return load_preview(dataset, path, image_size, download)

    def devices(self) -> str | None:
        """A one-line summary of the host's devices (None: nothing to add for this machine)."""
        return None

    def device_options(self) -> list[tuple[str, str]] | None:
        """(--device value, label) of what the host has; None: this machine's, as the launcher knows them."""
        return None

    def strip_maker(self, path: Path) -> Any:
        """The explorer's maker of strips for run `path` (`make(seed_a, seed_b, steps, label) -> Strips`), which
        runs where the checkpoint is."""
        from gantui.engine.explore import StripMaker

        return StripMaker(path)

    def close(self) -> None:  # noqa: B027 (most places hold no connection)
        """Let go of any connection."""

    def __str__(self) -> str:
        return self.label


class _LocalFollower(RunFollower):
    problem: str | None = None


class LocalPlace(RunPlace):
    """A runs folder on this machine."""

    def __init__(self, folder: Path, label: str | None = None) -> None:
        self.folder = Path(folder)
        self.label = label or str(folder)

    def run_folders(self) -> list[Path]:
        return run_folders([self.folder])

    def contains(self, path: Path) -> bool:
        return Path(path).parent == self.folder

    def follow(self, path: Path, **options: Any) -> Follower:
        return _LocalFollower(path, **options)

    def picture(self, path: Path, step: int | None = None, wait: bool = True) -> Path | None:
        return RunLayout(path).sample_file(step)

    def control(self, path: Path, command: str) -> None:
        from gantui.engine.control import request

        if not Path(path).is_dir():
            raise FileNotFoundError(f"{path} does not exist (yet)")
        request(path, command)

    def launch(self, config: TrainConfig, processes: int = 1) -> Path:
        from gantui.engine.spawn import spawn_train

        return spawn_train(config, self.folder, processes).path

    def resume(self, path: Path, steps: int) -> None:
        from gantui.engine.spawn import spawn_resume

        spawn_resume(path, steps, self.folder)


# ---- which place holds a run -------------------------------------------------------------------------------
_REMOTE: list[RunPlace] = []  # every remote place opened in this process
_LOCK = threading.Lock()


def register(place: RunPlace) -> RunPlace:
    with _LOCK:
        if place not in _REMOTE:
            _REMOTE.append(place)
    return place


def place_of(path: Path) -> RunPlace:
    """The place whose run `path` is: a remote place's mirror, else the local folder above it."""
    path = Path(path)
    with _LOCK:
        for place in _REMOTE:
            if place.contains(path):
                return place
    return LocalPlace(path.parent)


def is_remote(path: Path) -> bool:
    return place_of(path).host is not None


_SSH_CHOICES: dict[str, Any] = {}  # the command line's --remote-command and --ssh-option, for every host


def configure_ssh(remote_command: str | None = None, options: list[str] | None = None) -> None:
    """What the command line said about reaching hosts; the places file (remote/settings.py) fills the rest."""
    _SSH_CHOICES.update(remote_command=remote_command, options=list(options or []))


def open_place(value: str | Path | RunPlace, settings: SshSettings | None = None) -> RunPlace:
    """The place `value` names: `HOST:PATH` a remote one (one per place in a process), else a folder."""
    if isinstance(value, RunPlace):
        return value
    from gantui.engine.remote.place import RemoteSpec, parse_place

    parsed = value if isinstance(value, Path) else parse_place(str(value))
    if isinstance(parsed, Path):
        return LocalPlace(parsed, str(value))
    assert isinstance(parsed, RemoteSpec)
    with _LOCK:
        for place in _REMOTE:
            if place.label == str(parsed):
                return place
    from gantui.engine.remote.mirror import RemotePlace
    from gantui.engine.remote.settings import ssh_settings

    return register(RemotePlace(parsed, settings or ssh_settings(parsed.host, **_SSH_CHOICES)))


def open_places(values: list[str | Path | RunPlace], settings: SshSettings | None = None) -> list[RunPlace]:
    return [open_place(value, settings) for value in values]


def close_all() -> None:
    with _LOCK:
        places = list(_REMOTE)
    for place in places:
        place.close()
