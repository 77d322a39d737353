"""Waiting in tests: poll a condition until it holds, and fail naming it once a deadline passes.

A test never sleeps a fixed time to let something happen: under load that time is too short, and when
nothing is loaded it is wasted. The deadline is generous (CI is two busy cores); it only costs time when
something is broken, and then the failure says what never happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

DEADLINE_S = 60.0
T = TypeVar("T")


def _expired(timeout: float, what: str) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g} s waiting for {what}")


async def wait_until(pilot, condition: Callable[[], T], timeout: float = DEADLINE_S,
                     what: str = "the condition") -> T:
    """Let the app run until `condition()` is true; return its value, fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise _expired(timeout, what)
        await pilot.pause(0.05)
    return value


def block_until(condition: Callable[[], T], timeout: float = DEADLINE_S, what: str = "the condition",
                interval: float = 0.2) -> T:
    """`wait_until` for code with no app to run: block this thread, polling every `interval` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise _expired(timeout, what)
        time.sleep(interval)
    return value


def screen_settled(pilot, ready: Callable[[], object]) -> Callable[[], bool]:
    """A condition for `wait_until`: `ready()` holds and the screen draws the same twice in a row.

    Snapshots need this: data can arrive before the panes that show it have been laid out and drawn."""
    previous: list[str] = []

    def settled() -> bool:
        if not ready():
            previous.clear()
            return False
        frame = pilot.app.export_screenshot()
        same = previous == [frame]
        previous[:] = [frame]
        return same

    return settled
