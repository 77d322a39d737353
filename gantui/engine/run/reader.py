"""Reading runs: the one way every view (CLI, dashboard, runs list, compare) sees a run folder.

Readers never write and tolerate a run that is being written: a status.json caught mid-replace reads as {}
and is read again later. Following a run's growing files is `tails` and `follower`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gantui.engine.run.layout import RunLayout
from gantui.engine.run.state import LIVE_STATES, RunState, folder_state


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def mtime(path: Path) -> float:
    """When `path` last changed; 0.0 when it does not exist."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass(frozen=True)
class RunSnapshot:
    """A run folder at one moment: its config, its status and the state they give together."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    state: RunState = RunState.STARTING

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.path)

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset", "?"))

    @property
    def arch(self) -> str:
        return str(self.config.get("arch", "?"))

    @property
    def step(self) -> int:
        return int(self.status.get("step", 0) or 0)

    @property
    def total_steps(self) -> int:
        return int(self.status.get("total_steps", 0) or 0)

    @property
    def distributed(self) -> dict[str, Any]:
        """config.json's "distributed" (world size, nodes, backend, ranks): {} for a run of one process."""
        value = self.config.get("distributed")
        return value if isinstance(value, dict) else {}

    @property
    def world_size(self) -> int:
        """How many processes train the run (1 unless config.json or status.json says more)."""
        return max(_count(self.distributed.get("world_size")) or _count(self.status.get("world_size")) or 1, 1)

    @property
    def nodes(self) -> int:
        """How many machines the run's processes are on."""
        return max(_count(self.distributed.get("nodes")) or 1, 1)

    @property
    def failed_rank(self) -> int | None:
        """The rank whose failure ended the run (status.json's "failed_rank"), if one did."""
        return _count(self.status.get("failed_rank"))

    @property
    def started(self) -> float:
        return float(self.status.get("started") or mtime(self.layout.config))


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_run(path: Path) -> RunSnapshot:
    """The run folder `path` now; INCOMPLETE when nothing has written its status for a while."""
    layout = RunLayout(path)
    status = read_json(layout.status)
    state = folder_state(status, 0.0 if status else layout.age())
    return RunSnapshot(layout.path, read_json(layout.config), status, state)


def run_folders(runs_dirs: Iterable[Path]) -> list[Path]:
    """Every run folder directly under each of `runs_dirs` (hidden ones, like .logs, left out)."""
    folders = []
    for root in map(Path, runs_dirs):
        if root.is_dir():
            folders += [child for child in root.iterdir()
                        if child.is_dir() and not child.name.startswith(".") and RunLayout(child).is_run()]
    return folders


def newest_first(runs: Iterable[RunSnapshot]) -> list[RunSnapshot]:
    return sorted(runs, key=lambda run: (run.started, run.name), reverse=True)


def list_runs(runs_dirs: Iterable[Path]) -> list[RunSnapshot]:
    """Every run under each of `runs_dirs`, newest first."""
    return newest_first(read_run(path) for path in run_folders(runs_dirs))


def resolve_run(ref: str, runs_dirs: Iterable[Path]) -> Path | None:
    """A run from a path, a folder name under a runs directory, or a unique prefix/suffix of one."""
    direct = Path(ref).expanduser()
    if direct.is_dir() and RunLayout(direct).is_run():
        return direct
    candidates = [run.path for run in list_runs(runs_dirs)]
    exact = [p for p in candidates if p.name == ref]
    if exact:
        return exact[0]
    partial = [p for p in candidates if ref in p.name]
    return partial[0] if len(partial) == 1 else None
