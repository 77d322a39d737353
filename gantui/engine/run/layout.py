"""The run folder's layout (SPEC section 3): every file a run has, named here and nowhere else.

    <runs>/<stamp>-<dataset>-<arch>[-<name>]/   one run (`new_run_path`)
        config.json        the resolved configuration (written again on resume)
        status.json        state, step, heartbeat, last figures: replaced atomically
        metrics.csv        one row per log interval, append-only
        eval.csv           one row per quality evaluation, append-only
        events.jsonl       start, checkpoints, alarms, end: append-only
        ranks.csv          runs of several processes: one row per rank and log interval, append-only
        control.json       requests to the trainer (pause, resume, stop, snapshot)
        samples/           step-N.png (image grids) or step-N.json (toy data), and latest.png / latest.json
        checkpoints/       last.pt, and best.pt (the best quality score so far)
        generator.pt       the generator exported with TorchScript at the end
        exports/           what the user saved from the app
    <runs>/.logs/          output of runs the app started, for failures before their folder exists
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_LOGS_FOLDER = ".logs"
BEST_CHECKPOINT = "best.pt"
_NAME_ATTEMPTS = 1000  # suffixes .1, .2, … for runs named in the same second
RUN_FOLDER_NAME = re.compile(r"\d{8}-\d{6}-[A-Za-z0-9]")  # how every name `new_run_path` makes begins
_DATE_PREFIX = re.compile(r"^\d{8}-\d{6}-")


def undated_name(folder_name: str) -> str:
    """`mnist-dcgan28-wide` of `20260101-120000-mnist-dcgan28-wide`: what a user named, where room is short."""
    return _DATE_PREFIX.sub("", folder_name) or folder_name


@dataclass(frozen=True)
class RunLayout:
    """Where each file of the run folder `path` is."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def status(self) -> Path:
        return self.path / "status.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def evals(self) -> Path:
        return self.path / "eval.csv"

    @property
    def events(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def ranks(self) -> Path:
        """Per rank and log interval (runs of several processes): rank, host, device, samples/s, memory."""
        return self.path / "ranks.csv"

    @property
    def control(self) -> Path:
        return self.path / "control.json"

    @property
    def generator(self) -> Path:
        return self.path / "generator.pt"

    @property
    def lock(self) -> Path:
        """Held (flock) by the one process that writes the run; see run/lock.py."""
        return self.path / ".lock"

    def temporaries(self) -> list[Path]:
        """Leftovers of atomic writes (`.NAME.*.tmp`) that a killed writer never renamed."""
        folders = (self.path, self.samples, self.checkpoints)
        return [tmp for folder in folders if folder.is_dir() for tmp in folder.glob(".*.tmp") if tmp.is_file()]

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / BEST_CHECKPOINT

    @property
    def exports(self) -> Path:
        return self.path / "exports"

    def exported_grid(self, step: int) -> Path:
        return self.exports / f"samples-step-{step}.png"

    # ---- samples ------------------------------------------------------------------------------------------
    @property
    def samples(self) -> Path:
        return self.path / "samples"

    def sample_png(self, step: int) -> Path:
        return self.samples / f"step-{step}.png"

    def sample_json(self, step: int) -> Path:
        return self.samples / f"step-{step}.json"

    @property
    def latest_png(self) -> Path:
        return self.samples / "latest.png"

    @property
    def latest_json(self) -> Path:
        return self.samples / "latest.json"

    def sample_steps(self) -> list[int]:
        """Steps that have a sample snapshot (PNG grid or toy JSON), in order."""
        steps = set()
        for child in self.samples.glob("step-*.*"):
            stem = child.stem.removeprefix("step-")
            if stem.isdigit() and child.suffix in (".png", ".json"):
                steps.add(int(stem))
        return sorted(steps)

    def sample_file(self, step: int | None = None) -> Path | None:
        """The snapshot file for `step` (the latest when None), PNG for images or JSON for toy data."""
        candidates = (self.latest_png, self.latest_json) if step is None else (self.sample_png(step),
                                                                                self.sample_json(step))
        return next((path for path in candidates if path.is_file()), None)

    def age(self) -> float:
        """Seconds since the folder or its config last changed (status.json is newer whenever there is one)."""
        stamps = []
        for path in (self.path, self.config):
            with contextlib.suppress(OSError):
                stamps.append(path.stat().st_mtime)
        return time.time() - max(stamps) if stamps else 0.0

    def is_run(self) -> bool:
        """A run folder: it has its config or status, or a run's name (one killed before writing either)."""
        return self.config.is_file() or self.status.is_file() or RUN_FOLDER_NAME.match(self.path.name) is not None


# ---- the runs folder ----------------------------------------------------------------------------------------
def _run_name(dataset: str, arch: str, name: str | None = None, now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return "-".join(part for part in (stamp, dataset, arch, name) if part)


def new_run_path(runs_dir: Path, dataset: str, arch: str, name: str | None = None, *, create: bool = False) -> Path:
    """A run folder that did not exist: made now when `create`, else only named (the trainer makes it once the
    run checks out). A second run in the same second gets a numeric suffix."""
    runs_dir = Path(runs_dir)
    if create:
        runs_dir.mkdir(parents=True, exist_ok=True)
    base = _run_name(dataset, arch, name)
    for attempt in range(_NAME_ATTEMPTS):
        path = runs_dir / (base if attempt == 0 else f"{base}.{attempt}")
        if create:
            with contextlib.suppress(FileExistsError):  # mkdir is the test: two runs never share a folder
                path.mkdir()
                return path
        elif not path.exists():
            return path
    raise RuntimeError(f"no free run folder name under {runs_dir}")


def child_log(runs_dir: Path, run_name: str, resumed: bool = False) -> Path:
    """Where the output of a run the app starts goes (under the runs folder: its own may never exist)."""
    return Path(runs_dir) / _LOGS_FOLDER / (f"{run_name}.resume.log" if resumed else f"{run_name}.log")


def child_config(runs_dir: Path, run_name: str) -> Path:
    """The resolved configuration the app hands a run it starts (`gantui train --config`), beside its log."""
    return Path(runs_dir) / _LOGS_FOLDER / f"{run_name}.config.json"
