"""What the ranks of a run of several processes agree on at each log interval, in one collective.

At an interval's end every rank hands `RankExchange.combine` its own figures; one all_gather brings back
everyone's: the interval's means over the ranks for metrics.csv, each rank's own samples/s and memory for
ranks.csv, and the control requests (rank 0 reads control.json; a signal may reach any rank). What the
ranks then do (stop, pause, take a snapshot) is what they agreed, so they all do it at the same step.
"""

from __future__ import annotations

import socket
import time

import torch

from gantui.engine.control import POLL_INTERVAL_S, RunControl
from gantui.engine.devices import memory_figures
from gantui.engine.distributed import World, gather
from gantui.engine.events import RankFigures, RanksLogged
from gantui.engine.interval import IntervalFigures


class SharedControl:
    """A RunControl for one rank of several: `paused`, `stop_requested` and snapshots are what the ranks
    agreed at the last interval boundary; `poll`, `stop` and the warnings are this rank's own control's."""

    def __init__(self, local: RunControl, world: World) -> None:
        self.local, self.world = local, world
        self.warnings = local.warnings
        self._paused = self._stop = self._snapshot = False

    def poll(self) -> None:
        self.local.poll()  # reads control.json on rank 0 (the others' control has no folder)

    def stop(self) -> None:
        self.local.stop()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def take_snapshot_request(self) -> bool:
        taken, self._snapshot = self._snapshot, False
        return taken

    def requests(self) -> dict[str, bool]:
        """This rank's requests since the last boundary, for the exchange."""
        local = self.local
        return {"stop": local.stop_requested, "pause": local.paused, "snapshot": local.take_snapshot_request()}

    def agree(self, requests: list[dict[str, bool]]) -> None:
        """Every rank's requests, in rank order: a stop from any rank stops all; rank 0 pauses and snapshots."""
        self._stop = any(request["stop"] for request in requests)
        self._paused = requests[0]["pause"]
        self._snapshot = self._snapshot or requests[0]["snapshot"]

    def wait_while_paused(self, on_tick=None) -> None:
        """Every rank waits here while paused, agreeing afresh a few times a second (never one long wait that
        a collective's timeout would end)."""
        while self.paused and not self.stop_requested:
            time.sleep(POLL_INTERVAL_S)
            self.poll()
            self.agree(gather(self.requests()))
            if on_tick is not None:
                on_tick()


class RankExchange:
    """The interval's one collective: figures in, means and ranks.csv rows out, control agreed."""

    def __init__(self, world: World, device: torch.device, control: SharedControl) -> None:
        self.world, self.device, self.control = world, device, control
        self.host = socket.gethostname()
        self.rows: tuple[RankFigures, ...] = ()

    def combine(self, figures: IntervalFigures) -> IntervalFigures:
        """The interval over every rank: the means of the summed figures, all samples in the slowest rank's time."""
        allocated, _, peak, rss = memory_figures(self.device)
        own = RankFigures(rank=self.world.rank, host=self.host, device=str(self.device),
                          samples_per_s=figures.samples / figures.seconds if figures.seconds > 0 else 0.0,
                          mem_allocated=allocated, mem_peak=peak, rss=rss, time=time.time())
        everyone = gather({"figures": figures, "rank": own, "requests": self.control.requests()})
        self.control.agree([entry["requests"] for entry in everyone])
        self.rows = tuple(entry["rank"] for entry in everyone)
        each = [entry["figures"] for entry in everyone]
        sums = tuple(sum(column) / len(each) for column in zip(*(f.sums for f in each), strict=True))
        return IntervalFigures(sums=sums, steps=figures.steps, samples=sum(f.samples for f in each),
                               seconds=max(f.seconds for f in each))

    def take_rows(self, step: int) -> RanksLogged:
        rows, self.rows = self.rows, ()
        return RanksLogged(step, rows)
