"""App-wide messages. Threads post these (post_message is thread-safe); they never touch widgets.

Messages that carry a whole state (a run poll, a dataset preview) replace an older one still queued,
so a slow screen never falls behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from gantui.app.runview.follow import RunPoll
from gantui.engine.preview import ArchRow, DataPreview  # noqa: F401 (the launcher's, made in the engine)


class RunPolled(Message):
    """The dashboard's follower read its run again and something changed."""

    def __init__(self, poll: RunPoll) -> None:
        super().__init__()
        self.poll = poll

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunPolled) and message.poll.path == self.poll.path


@dataclass(frozen=True)
class Catalog:
    """What can be chosen: datasets, architectures (with their defaults) and devices."""

    datasets: dict[str, Any] = field(default_factory=dict)  # name → the engine's DatasetSpec
    archs: dict[str, Any] = field(default_factory=dict)  # name → the engine's ArchSpec
    devices: list[tuple[str, str]] = field(default_factory=list)  # (--device value, label)


class CatalogLoaded(Message):
    """The engine's registries are imported (torch takes a moment): the launcher can fill its menus."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog


class PreviewLoaded(Message):
    """The launcher's preview worker loaded a dataset (or failed to); newer replaces older."""

    def __init__(self, preview: DataPreview) -> None:
        super().__init__()
        self.preview = preview

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PreviewLoaded)


class RunsListed(Message):
    """The runs list's scanner read every runs folder again (a tuple of RunRow); newer replaces older."""

    def __init__(self, rows: tuple[Any, ...], places: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.rows = rows
        self.places = places  # one line per remote place: its host's devices, or why it cannot be reached

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunsListed)


class CompareLoaded(Message):
    """The compare screen's reader polled its runs (a tuple of CompareRun); newer replaces older."""

    def __init__(self, runs: tuple[Any, ...], problems: tuple[str | None, ...] = ()) -> None:
        super().__init__()
        self.runs = runs
        self.problems = problems  # per run: why its remote host does not answer now, else None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CompareLoaded)


class ExplorerRendered(Message):
    """The latent explorer's worker drew its strips: {name: uint8 picture}, or why it could not."""

    def __init__(self, strips: dict[str, Any], caption: str = "", error: str | None = None,
                 layouts: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.strips = strips
        self.layouts = layouts or {}  # name → GridLayout, for image strips
        self.caption = caption
        self.error = error
