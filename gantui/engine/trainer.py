"""The run's schedule: log intervals, evaluations, checkpoints, samples, pause and stop, and its one ending.

`train` runs a `PreparedRun` (see prepare.py) to its end, reporting through events to sinks, the run
directory always among them. The step itself lives in step.py, the log interval's sums and clock in
interval.py; whatever ends the loop, `Trainer._finish` reports it.

In a run of several processes every rank runs this schedule step for step; rank 0 alone writes the run
folder (the others' events go nowhere), evaluates, draws samples and exports while the others wait, and
what ends the loop is agreed at the interval boundaries (exchange.py), so every rank ends at the same step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
from typing import Any

import torch

from gantui.engine import distributed
from gantui.engine.atomic import DISK_REASONS, disk_reason
from gantui.engine.background import BackgroundSink
from gantui.engine.checkpoint import restore_rng_state, rng_state, save_checkpoint
from gantui.engine.control import RunControl
from gantui.engine.devices import device_name
from gantui.engine.errors import UserError
from gantui.engine.events import (
    CheckpointSaved,
    FanOut,
    Notice,
    RunEnded,
    RunStarted,
    SampleGrid,
    SampleValues,
    Sink,
    StateChanged,
)
from gantui.engine.exchange import RankExchange, SharedControl
from gantui.engine.export import export_generator
from gantui.engine.interval import IntervalMeter, first_non_finite
from gantui.engine.models import count_parameters
from gantui.engine.prepare import PreparedRun
from gantui.engine.quality.tracker import QualityTracker
from gantui.engine.run.state import RunState
from gantui.engine.run.writer import Heartbeat, RunDir, RunDirSink
from gantui.engine.samples import from_unit_range, grid_layout, image_grid
from gantui.engine.step import GanStep


@dataclasses.dataclass(frozen=True)
class Ending:
    """How the loop ended: the final state and its message, and what else the end must do."""

    state: RunState  # finished, stopped, failed or diverged
    message: str = ""
    keep_weights: bool = False  # write the final checkpoint, samples and generator.pt
    notice: str | None = None  # the kind of Notice that tells the user why (alarm, error)
    error: BaseException | None = None  # raised once the end is reported
    failed_rank: int | None = None  # several processes: the rank whose failure ended the run


class Trainer:
    """One training run. Use `train(prepared, sinks, control)` rather than this class directly."""

    def __init__(self, run: PreparedRun, sinks: tuple[Sink, ...], control: RunControl) -> None:
        self.run, self.config, self.control, self.world = run, run.config, control, run.world
        self.device, self.info = run.device, run.source.info
        self.exchange: RankExchange | None = None  # several processes: the interval's one collective
        if isinstance(control, SharedControl):
            self.exchange = RankExchange(self.world, self.device, control)
        self.writer: BackgroundSink | None = None  # rank 0 alone writes the folder
        if self.world.is_main:
            self.rundir = RunDir(run.path)
            self.writer = BackgroundSink(RunDirSink(self.rundir, self.world.world_size))  # fsync'd off the loop
        self.events = FanOut(self.writer, *sinks) if self.world.is_main else FanOut()
        self.heartbeat: Heartbeat | None = None  # started once the run has a status.json
        config = self.config
        self.gan = GanStep(config, run.generator, run.discriminator, self.device,
                           self.info.num_classes if run.arch.conditional else None, self.world)
        torch.manual_seed(config.seed + self.world.rank)  # dropout: a stream of its own for each rank
        self.fault_step = distributed.fault_step(self.world)  # tests only: None unless asked for
        self.data_rng = torch.Generator().manual_seed(config.seed)
        self.fixed_latent = self.gan.latent(config.sample_count)
        classes = self.gan.num_classes
        self.fixed_labels = (torch.arange(config.sample_count, device=self.device) % classes) if classes else None
        self.step = self.epoch = self.batch_in_epoch = 0
        self.epoch_rng_state = self.data_rng.get_state()
        self.last_checkpoint_step: int | None = None
        self.meter = IntervalMeter(self.device, config.log_every, run.total_steps, self.gan.scaler.is_enabled())
        if run.checkpoint is not None:
            self._restore(run.checkpoint)
        # quality evaluations (every eval_every steps, or spaced by their cost) and alarms on every log interval
        self.quality = QualityTracker(config, run.source, run.arch, self.device, self.events, run.path, self.step,
                                      start_seconds=self.meter.elapsed)

    def run_to_end(self) -> str:
        """Train to the last step or until something ends the run; returns the final state."""
        try:
            self._begin()
            ending = self._loop()
        except BaseException as error:  # every way out is reported; _finish raises it again
            ending = self._ending_for(error)
        return self._finish(ending)

    def _begin(self) -> None:
        run, config = self.run, self.config
        shared = {"distributed": self.world.describe(self.device)} if self.world.is_distributed else {}
        self.events.handle(RunStarted(
            config={**config.to_dict(), "data_info": dataclasses.asdict(self.info), "precision": self.gan.amp,
                    **shared},
            device=str(self.device), device_name=device_name(self.device), step=self.step,
            total_steps=run.total_steps, steps_per_epoch=run.steps_per_epoch,
            params_g=count_parameters(self.gan.generator), params_d=count_parameters(self.gan.discriminator),
            resumed=run.resumed))
        for warning in run.warnings:
            self.events.handle(Notice("warning", warning, self.step))
        self._emit_notices()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        if self.world.is_main:
            self.heartbeat = Heartbeat(self.rundir)
            self.heartbeat.start()

    # ---- the loop -----------------------------------------------------------------------------------------
    def _loop(self) -> Ending:
        config, control, meter, total = self.config, self.control, self.meter, self.run.total_steps
        meter.restart()
        if self.step == 0:
            self.emit_samples()
        while self.step < total:
            skip = self.batch_in_epoch  # on resume, the batches of this epoch already seen
            self.data_rng.set_state(self.epoch_rng_state)
            batches = 0
            for real, labels in self.run.source.epoch(config.batch_size, self.device, self.data_rng, self.world):
                batches += 1
                if skip:
                    skip -= 1
                    continue
                control.poll()
                while control.warnings:  # a control.json it could not follow: said once, then ignored
                    self.events.handle(Notice("warning", control.warnings.pop(0), self.step))
                if control.paused:
                    with meter.paused():
                        self._pause()
                if control.stop_requested:
                    return self._log() or self._unkeepable() or Ending(RunState.STOPPED, "stopped by request",
                                                                       keep_weights=True)
                real = from_unit_range(real, self.run.arch.output_range) if self.info.is_image else real
                self.step += 1
                self.batch_in_epoch += 1
                if self.step == self.fault_step:
                    raise distributed.InjectedFault(f"injected by {distributed.FAULT_RANK_ENV} at step {self.step}")
                is_log_step = meter.due(self.step)
                meter.add(self.gan.step(real, labels, measure_norms=is_log_step), real.shape[0])
                if self.gan.notices:  # the compile fallback's warning, after the first step
                    self._emit_notices()
                if is_log_step and (diverged := self._log()):
                    return diverged
                if self.quality.due(self.step, total):
                    self.evaluate()
                if self.step % config.checkpoint_every == 0 and self.step != total:
                    # never checkpoint diverged weights: a non-finite interval is reported now, and ends the run
                    if not distributed.all_true(meter.finite(), self.world) and (diverged := self._log()):
                        return diverged
                    if diverged := self._unkeepable():
                        return diverged
                    self.save_checkpoint()
                if self.step % config.sample_every == 0 or control.take_snapshot_request():
                    self.emit_samples()
                if self.step >= total:
                    break
            else:
                if batches == 0:
                    raise UserError(f"dataset {self.info.name} gave no batch of training data")
                self.epoch += 1
                self.batch_in_epoch = 0
                self.epoch_rng_state = self.data_rng.get_state()
        return self._log() or self._unkeepable() or Ending(RunState.FINISHED, keep_weights=True)

    def _unkeepable(self) -> Ending | None:
        """The diverged Ending when a weight of G or D is no longer a finite number (so it is never kept)."""
        if self.gan.weights_finite():
            return None
        message = (f"the networks' weights became non-finite by step {self.step}; {self._kept()}. "
                   f"Try a lower --lr or another --loss")
        return Ending(RunState.DIVERGED, message, notice="alarm")

    def _pause(self) -> None:
        self.events.handle(StateChanged(RunState.PAUSED, self.step))
        self.control.wait_while_paused()
        if not self.control.stop_requested:
            self.events.handle(StateChanged(RunState.RUNNING, self.step))

    def _log(self) -> Ending | None:
        """Report the interval so far (its one device sync), if it has steps; the Ending when it diverged."""
        if not self.meter.steps:
            return None
        metrics = self.meter.flush(self.step, self.epoch, self.exchange.combine if self.exchange else None)
        if self.exchange is not None:
            self.events.handle(self.exchange.take_rows(self.step))
        if diverged := first_non_finite(metrics):
            name, value = diverged
            message = (f"{name} became {value} in the interval ending at step {self.step}; {self._kept()}. "
                       f"Try a lower --lr or another --loss")
            return Ending(RunState.DIVERGED, message, notice="alarm")
        self.events.handle(metrics)
        self.quality.observe_metrics(metrics)
        return None

    def evaluate(self) -> None:
        """One quality evaluation (eval.csv, alarms, best.pt on a new best), kept out of samples_per_s."""
        with self.meter.set_aside():
            if self.world.is_main:
                improved = self.quality.evaluate(self.gan.generator, self.step, self.meter.now())
                if improved and self.meter.finite() and self.gan.weights_finite():  # never keep diverged weights
                    self.save_checkpoint(best=True)
            # the other ranks wait for rank 0's evaluation, and learn whether it turned evaluation off and when
            # the next comes (automatic: rank 0's timings decide)
            schedule = self.quality.schedule
            self.quality.applies, shared = distributed.broadcast((self.quality.applies, schedule.shared()), self.world)
            schedule.adopt(shared)

    def _emit_notices(self) -> None:
        for message in self.gan.take_notices():
            self.events.handle(Notice("warning", message, self.step))

    # ---- the one way out ------------------------------------------------------------------------------------
    def _ending_for(self, error: BaseException) -> Ending:
        """A failure ends the run as failed; an interrupt (a second Ctrl-C) as stopped, its step maybe half done."""
        if isinstance(error, Exception):
            message, failed_rank = _failure_message(error, self.step), None
            if self.world.is_distributed:  # which rank failed first: rank 0 asks the store, the others tell it
                failed_rank = self.world.rank
                if self.world.is_main:
                    failed_rank, message = distributed.peer_failure(self.world) or (failed_rank, message)
                else:
                    distributed.report_failure(self.world, message)
                message = f"rank {failed_rank} failed: {message}"
            return Ending(RunState.FAILED, message, notice="error", error=error, failed_rank=failed_rank)
        return Ending(RunState.STOPPED, f"interrupted at step {self.step}; {self._kept()}", error=error)

    def _kept(self) -> str:
        step = self.last_checkpoint_step
        return f"last good checkpoint at step {step}" if step else "no checkpoint was written"

    def _finish(self, ending: Ending) -> str:
        """End the run as `ending` says: final checkpoint, samples and generator.pt when the weights are worth
        keeping, then the one RunEnded; the heartbeat stops and the sinks close whatever happens."""
        try:
            if ending.error is None:
                try:
                    self._report_end(ending)
                except BaseException as error:  # the end itself failed (disk full writing last.pt, a Ctrl-C)
                    ending = self._ending_for(error)
            if ending.error is not None:
                with contextlib.suppress(Exception):  # reporting may fail the same way; the raise below tells
                    self._report_end(ending)
        finally:
            if self.heartbeat is not None:
                self.heartbeat.stop()
            with contextlib.suppress(Exception):  # errors were reported above; the files must still be complete
                if self.writer is not None:
                    self.writer.close()
        if ending.error is None:
            with contextlib.suppress(Exception):  # the others wait while rank 0 keeps the weights
                distributed.barrier(self.world)
            return ending.state
        if isinstance(ending.error, Exception):
            raise TrainingFailed(ending.message) from ending.error
        raise ending.error

    def _report_end(self, ending: Ending) -> None:
        generator_path = self._keep_final_weights(ending.state) if ending.keep_weights else None
        if ending.notice:
            self.events.handle(Notice(ending.notice, ending.message, self.step))
        self.events.handle(RunEnded(ending.state, self.step, self.epoch, ending.message, generator_path,
                                    ending.failed_rank))

    def _keep_final_weights(self, state: RunState) -> str | None:
        """The final checkpoint, the last samples and generator.pt; returns generator.pt's path if exported."""
        if not self.world.is_main:
            return None
        self.save_checkpoint()
        if self.step % self.config.sample_every != 0 or state == RunState.STOPPED:
            self.emit_samples()
        generator_path = self.rundir.layout.generator
        try:
            export_generator(self.gan.generator, generator_path)
        except Exception as error:  # TorchScript cannot take every module; the checkpoint still has G
            self.events.handle(Notice("warning", f"TorchScript export failed: {error}".splitlines()[0], self.step))
            return None
        return str(generator_path)

    # ---- samples and checkpoints -------------------------------------------------------------------------
    def emit_samples(self) -> None:
        if not self.world.is_main:  # the others go on, and wait for rank 0 at the next collective
            return
        output = self.gan.generate(self.fixed_latent, self.fixed_labels)
        if self.info.is_image:
            grid = image_grid(output, self.run.arch.output_range)
            self.events.handle(SampleGrid(self.step, grid, grid_layout(output)))
        else:
            real, _ = self.run.source.preview(min(8, self.config.sample_count))
            self.events.handle(SampleValues(self.step, output[:16].tolist(), real.tolist()))

    def save_checkpoint(self, best: bool = False) -> None:
        if not self.world.is_main:  # rank 0 writes it; the others only know that it was kept
            if not best:
                self.last_checkpoint_step = self.step
            return
        path = self.rundir.layout.best_checkpoint if best else self.rundir.layout.last_checkpoint
        save_checkpoint(path, {
            **self.gan.state_dict(),  # generator, discriminator, optimizer_g, optimizer_d, scaler
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "elapsed": self.meter.elapsed, "config": self.config.to_dict(), "fixed_latent": self.fixed_latent.cpu(),
            "fixed_labels": None if self.fixed_labels is None else self.fixed_labels.cpu(),
            "rng": rng_state(self.device, data=self.data_rng, noise=self.gan.noise_rng,
                             epoch_data=self.epoch_rng_state),
        })
        if not best:
            self.last_checkpoint_step = self.step
        self.events.handle(CheckpointSaved(self.step, str(path)))

    def _restore(self, state: dict[str, Any]) -> None:
        self.gan.load_state_dict(state)
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch, self.meter.elapsed = state["batch_in_epoch"], state["elapsed"]
        self.fixed_latent = state["fixed_latent"].to(self.device)
        if state["fixed_labels"] is not None:
            self.fixed_labels = state["fixed_labels"].to(self.device)
        self.epoch_rng_state = restore_rng_state(state["rng"], self.device, data=self.data_rng,
                                                 noise=self.gan.noise_rng)
        if self.world.rank:  # the checkpoint holds rank 0's dropout stream; the others branch off it
            torch.manual_seed(int(torch.randint(0, 2**62, (1,))) + self.world.rank)
        self.last_checkpoint_step = self.step


def train(run: PreparedRun, sinks: tuple[Sink, ...] | list[Sink] = (), control: RunControl | None = None) -> str:
    """Train `run` to its end; returns the final state (finished, stopped or diverged).

    A failure inside training (out of memory, a bad file found mid-epoch) ends the run as `failed` with
    its message in status.json and events.jsonl, and raises TrainingFailed; the last checkpoint stays intact.
    A KeyboardInterrupt ends it as `stopped` (no checkpoint of the half-done step) and is raised again.
    """
    control = control or RunControl(run.path if run.world.is_main else None)
    if run.world.is_distributed and not isinstance(control, SharedControl):
        control = SharedControl(control, run.world)
    try:
        return Trainer(run, tuple(sinks), control).run_to_end()
    finally:
        if run.lock is not None:  # the folder is free for the next writer (a resume)
            run.lock.release()


class TrainingFailed(Exception):
    """Training stopped on an error; the message is one line for the user."""


def _failure_message(error: Exception, step: int) -> str:
    if isinstance(error, torch.OutOfMemoryError):
        return f"out of memory at step {step}: try a smaller --batch-size or --amp bf16"
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, OSError) and error.errno in DISK_REASONS:
        reason = "disk full" if error.errno == errno.ENOSPC else disk_reason(error)
        return f"{reason} at step {step} writing {getattr(error, 'filename', '') or 'the run folder'}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__} at step {step}: {first}"
