"""The Progress pane's epoch line: its label and its bar tell the same story."""

from __future__ import annotations

from pathlib import Path

from gantui.app.runview.follow import RunPoll
from gantui.app.widgets.progress_pane import ProgressPane


def _epoch_line(step: int, total: int, per_epoch: int, log_every: int = 10) -> str:
    poll = RunPoll(Path("run"), config={"log_every": log_every},
                   status={"step": step, "total_steps": total, "steps_per_epoch": per_epoch})
    return ProgressPane()._lines(poll)[0].plain


def test_an_epoch_boundary_is_the_end_of_that_epoch_not_the_start_of_the_next() -> None:
    line = _epoch_line(step=312, total=624, per_epoch=156)
    assert line.startswith("epoch 2/4") and line.endswith("100%")
    line = _epoch_line(step=390, total=624, per_epoch=156)
    assert line.startswith("epoch 3/4") and line.endswith(" 50%")


def test_a_short_last_epoch_ends_full() -> None:
    line = _epoch_line(step=600, total=600, per_epoch=156)  # --steps 600: epoch 4 has 132 steps
    assert line.startswith("epoch 4/4") and line.endswith("100%")


def test_epochs_shorter_than_a_few_log_rows_count_epochs() -> None:
    """The bug: 'epoch 6/26' with its bar at 0% (12 steps an epoch, a row every 10 steps)."""
    line = _epoch_line(step=60, total=312, per_epoch=12)
    assert line.startswith("epoch 5/26") and line.endswith(" 19%")
