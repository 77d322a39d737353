"""The base of the screens that show sample grids: `,` and `.` step through the snapshots a run has written.

A screen shows the latest snapshot (`sample_step` None) until stepped back; it says which steps there are
(`all_sample_steps`) and redraws its grids (`_show_samples`). Stepping past the last follows new ones again.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.screen import Screen


class SampleSteppingScreen(Screen):
    """A screen whose sample grids step one snapshot earlier or later together."""

    sample_step: int | None = None  # the snapshot stepped to; None: follow the latest

    def all_sample_steps(self) -> Sequence[int]:
        """Every step with a snapshot, oldest first."""
        raise NotImplementedError

    def _show_samples(self) -> None:
        """Draw the grids at `sample_step`."""
        raise NotImplementedError

    def _step_through(self, offset: int) -> None:
        steps = self.all_sample_steps()
        if not steps:
            self.notify("no sample snapshots yet", severity="warning")
            return
        current = steps.index(self.sample_step) if self.sample_step in steps else len(steps) - 1
        index = min(max(current + offset, 0), len(steps) - 1)
        self.sample_step = None if index == len(steps) - 1 else steps[index]
        self._show_samples()

    def action_earlier(self) -> None:
        self._step_through(-1)

    def action_later(self) -> None:
        self._step_through(+1)
