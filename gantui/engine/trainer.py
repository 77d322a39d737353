"""The training loop: batched, reproducible, syncing the device once per log interval.

`train` runs a `PreparedRun` (see prepare.py) to its end, reporting through events to sinks, the run
directory always among them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from typing import Any

import torch
from torch import nn

from gantui.engine import losses
from gantui.engine.acceleration import AUTOCAST_DTYPES, compile_module, make_optimizer, resolve_amp, tune_for_device
from gantui.engine.background import BackgroundSink
from gantui.engine.checkpoint import restore_rng_state, rng_state, save_checkpoint
from gantui.engine.config import TrainConfig
from gantui.engine.control import RunControl
from gantui.engine.devices import device_name, memory_figures
from gantui.engine.errors import UserError
from gantui.engine.events import (
    CheckpointSaved,
    FanOut,
    MetricsLogged,
    Notice,
    RunEnded,
    RunStarted,
    SampleGrid,
    SampleValues,
    Sink,
    StateChanged,
)
from gantui.engine.export import export_generator
from gantui.engine.models import count_parameters
from gantui.engine.prepare import PreparedRun
from gantui.engine.quality.tracker import QualityTracker
from gantui.engine.run.state import RunState
from gantui.engine.run.writer import Heartbeat, RunDir, RunDirSink
from gantui.engine.samples import from_unit_range, image_grid

FIXED_INPUT = 0.5  # the pattern tutorial feeds its generator this constant


class Trainer:
    """One training run. Use `train(prepared, sinks, control)` rather than this class directly."""

    def __init__(self, run: PreparedRun, sinks: tuple[Sink, ...], control: RunControl) -> None:
        self.run, self.config, self.control = run, run.config, control
        self.device = run.device
        self.rundir = RunDir(run.path)
        self.writer = BackgroundSink(RunDirSink(self.rundir))  # fsync'd status and PNGs off the training thread
        self.events = FanOut(self.writer, *sinks)
        self.generator, self.discriminator = run.generator, run.discriminator
        self.info = run.source.info
        config = self.config
        tune_for_device((self.generator, self.discriminator), self.device)
        self.optimizer_g = _optimizer(config, self.generator)
        self.optimizer_d = _optimizer(config, self.discriminator)
        self.amp = resolve_amp(config.amp, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp == "fp16")  # one for both networks
        self.autocast_dtype = AUTOCAST_DTYPES.get(self.amp)
        self.zero = torch.zeros((), device=self.device)
        self.pending_notices: list[str] = []
        self.forward_g, self.forward_d = self.generator, self.discriminator  # what train_step calls
        # D sees real and fake in one batch when no layer mixes samples (BatchNorm's statistics would)
        self.joint_d = not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in self.discriminator.modules())
        if config.compile:
            self.forward_g = compile_module(self.generator, self._compile_failed)
            if self.forward_g is not self.generator:  # one refusal, one warning
                self.forward_d = compile_module(self.discriminator, self._compile_failed)
        self.compile_pending = self.forward_g is not self.generator  # the first step proves it compiles
        self.interval_end = 0.0
        torch.manual_seed(config.seed)
        self.data_rng = torch.Generator().manual_seed(config.seed)
        self.noise_rng = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.fixed_latent = self.latent(config.sample_count)
        classes = self.info.num_classes if run.arch.conditional else None
        self.fixed_labels = (torch.arange(config.sample_count, device=self.device) % classes) if classes else None
        self.step = self.epoch = self.batch_in_epoch = 0
        self.elapsed = 0.0
        self.epoch_rng_state = self.data_rng.get_state()
        self.last_checkpoint_step: int | None = None
        if run.checkpoint is not None:
            self._restore(run.checkpoint)
        # quality evaluations every config.eval_every steps and alarms on every log interval
        self.quality = QualityTracker(config, run.source, run.arch, self.device, self.events, run.path, self.step)

    # ---- the pieces of one step ------------------------------------------------------------------------
    def latent(self, count: int) -> torch.Tensor:
        shape = (count, self.config.latent_dim)
        if self.config.latent == "fixed":
            return torch.full(shape, FIXED_INPUT, device=self.device)
        if self.config.latent == "uniform":
            return torch.rand(shape, generator=self.noise_rng, device=self.device)
        return torch.randn(shape, generator=self.noise_rng, device=self.device)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None, measure_norms: bool) -> torch.Tensor:
        """One D update then one G update; returns [loss_d, loss_g, d_real, d_fake, norm_d, norm_g, skipped]
        on the device (no host sync)."""
        config, G, D = self.config, self.forward_g, self.forward_d
        batch = real.shape[0]
        z = self.latent(batch)
        fake_labels = None
        if labels is not None and self.run.arch.conditional:
            fake_labels = torch.randint(0, self.info.num_classes, (batch,), generator=self.noise_rng,
                                        device=self.device)
        labels = labels if self.run.arch.conditional else None

        # D phase: real samples should score 1, generated ones 0.
        self.optimizer_d.zero_grad(set_to_none=True)
        with self.autocast():
            fake = G(z, fake_labels)
            if self.joint_d:  # one pass over real and fake: same result, larger matrices, half the calls
                logits = D(torch.cat([real, fake.detach().to(real.dtype)]), _joined(labels, fake_labels))
                logits_real, logits_fake = logits[:batch], logits[batch:]
            else:
                logits_real = D(real, labels)
                logits_fake = D(fake.detach(), fake_labels)
            loss_d = losses.discriminator_loss(config.loss, logits_real, logits_fake, real=real,
                                               fake=fake.detach(), discriminator=D, labels=labels)
        self.scaler.scale(loss_d).backward()
        norm_d = self._grad_norm(self.discriminator) if measure_norms else self.zero
        self.scaler.step(self.optimizer_d)

        # G phase: generated samples should fool D. D's weights are frozen meanwhile: their gradients would
        # be thrown away at the next D phase, and skipping them saves a third of this phase's matmuls.
        self.optimizer_g.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        try:
            with self.autocast():
                loss_g = losses.generator_loss(config.loss, D(fake, fake_labels))
            self.scaler.scale(loss_g).backward()
        finally:
            self.discriminator.requires_grad_(True)
        norm_g = self._grad_norm(self.generator) if measure_norms else self.zero
        self.scaler.step(self.optimizer_g)
        skipped = self._update_scaler()

        with torch.no_grad():
            d_real = losses.probability(config.loss, logits_real.float()).mean()
            d_fake = losses.probability(config.loss, logits_fake.float()).mean()
            return torch.stack([loss_d.detach().float(), loss_g.detach().float(), d_real, d_fake,
                                norm_d.float(), norm_g.float(), skipped])

    def _grad_norm(self, module: nn.Module) -> torch.Tensor:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return torch.zeros((), device=self.device)
        if self.scaler.is_enabled():
            self.scaler.unscale_(self.optimizer_d if module is self.discriminator else self.optimizer_g)
        return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))

    def _update_scaler(self) -> torch.Tensor:
        """scaler.update(); on the device, 1.0 when it lowered the scale (inf/NaN gradients: step skipped)."""
        if not self.scaler.is_enabled():
            return self.zero
        before = self.scaler._scale.clone()  # the public get_scale() would sync the device every step
        self.scaler.update()
        return (self.scaler._scale < before).float().reshape(())

    def step_once(self, real: torch.Tensor, labels: torch.Tensor | None, measure_norms: bool) -> torch.Tensor:
        """train_step, except that a compiled model failing on its first step falls back to eager."""
        if not self.compile_pending:
            return self.train_step(real, labels, measure_norms)
        try:
            values = self.train_step(real, labels, measure_norms)
        except Exception as error:  # compiling happens in the first calls; redoing step 1 eagerly is harmless
            self._compile_failed(error)
            self.forward_g, self.forward_d = self.generator, self.discriminator
            self.optimizer_d.zero_grad(set_to_none=True)
            self.optimizer_g.zero_grad(set_to_none=True)
            values = self.train_step(real, labels, measure_norms)
            self._emit_pending_notices()
        self.compile_pending = False
        return values

    def _compile_failed(self, error: Exception) -> None:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        self.pending_notices.append(f"--compile failed ({type(error).__name__}: {first}); training without it")

    def _emit_pending_notices(self) -> None:
        for message in self.pending_notices:
            self.events.handle(Notice("warning", message, self.step))
        self.pending_notices.clear()

    # ---- the loop -----------------------------------------------------------------------------------------
    def run_loop(self) -> str:
        run, config = self.run, self.config
        total, per_epoch = run.total_steps, run.steps_per_epoch
        self.events.handle(RunStarted(
            config={**config.to_dict(), "data_info": dataclasses.asdict(self.info), "precision": self.amp},
            device=str(self.device),
            device_name=device_name(self.device), step=self.step, total_steps=total, steps_per_epoch=per_epoch,
            params_g=count_parameters(self.generator), params_d=count_parameters(self.discriminator),
            resumed=run.checkpoint is not None))
        for warning in run.warnings:
            self.events.handle(Notice("warning", warning, self.step))
        self._emit_pending_notices()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        heartbeat = Heartbeat(self.rundir)
        heartbeat.start()
        try:
            return self._loop(total)
        finally:
            heartbeat.stop()

    def _loop(self, total: int) -> str:
        config, control = self.config, self.control
        accumulated = torch.zeros(7, device=self.device)
        interval_steps, interval_samples = 0, 0
        interval_start = time.perf_counter()
        if self.step == 0:
            self.emit_samples()
        while self.step < total:
            skip = self.batch_in_epoch  # on resume, the batches of this epoch already seen
            self.data_rng.set_state(self.epoch_rng_state)
            batches = 0
            for real, labels in self.run.source.epoch(config.batch_size, self.device, self.data_rng):
                batches += 1
                if skip:
                    skip -= 1
                    continue
                control.poll()
                if control.paused:
                    self.elapsed += time.perf_counter() - interval_start
                    self._pause()
                    interval_start = time.perf_counter()
                if control.stop_requested:
                    return self._finish(RunState.STOPPED, accumulated, interval_steps, interval_samples, interval_start)
                real = from_unit_range(real, self.run.arch.output_range) if self.info.is_image else real
                self.step += 1
                self.batch_in_epoch += 1
                is_log_step = self.step % config.log_every == 0 or self.step == total
                accumulated += self.step_once(real, labels, measure_norms=is_log_step)
                interval_steps += 1
                interval_samples += real.shape[0]
                if is_log_step:
                    ok = self.log(accumulated, interval_steps, interval_samples, interval_start)
                    if not ok:
                        return RunState.DIVERGED
                    accumulated.zero_()
                    interval_steps, interval_samples, interval_start = 0, 0, self.interval_end
                if self.quality.due(self.step, total):
                    interval_start += self.evaluate(accumulated, interval_start)  # kept out of samples_per_s
                if self.step % config.checkpoint_every == 0 and self.step != total:
                    if not bool(torch.isfinite(accumulated).all()):  # never checkpoint diverged weights
                        ok = self.log(accumulated, interval_steps, interval_samples, interval_start)
                        return RunState.FINISHED if ok else RunState.DIVERGED
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
        return self._finish(RunState.FINISHED, accumulated, interval_steps, interval_samples, interval_start)

    def _pause(self) -> None:
        self.events.handle(StateChanged(RunState.PAUSED, self.step))
        self.control.wait_while_paused()
        if not self.control.stop_requested:
            self.events.handle(StateChanged(RunState.RUNNING, self.step))

    def _finish(self, state: str, accumulated: torch.Tensor, steps: int, samples: int, start: float) -> str:
        if steps and not self.log(accumulated, steps, samples, start):
            return RunState.DIVERGED
        self.save_checkpoint()
        if self.step % self.config.sample_every != 0 or state == RunState.STOPPED:
            self.emit_samples()
        generator_path = self.rundir.layout.generator
        try:
            export_generator(self.generator, generator_path)
        except Exception as error:  # TorchScript cannot take every module; the checkpoint still has G
            self.events.handle(Notice("warning", f"TorchScript export failed: {error}".splitlines()[0], self.step))
            generator_path = None
        message = "stopped by request" if state == RunState.STOPPED else ""
        self.events.handle(RunEnded(state, self.step, self.epoch, message,
                                    str(generator_path) if generator_path else None))
        return state

    def log(self, accumulated: torch.Tensor, steps: int, samples: int, start: float) -> bool:
        """Report the interval's means (the one device sync of the interval); False when they diverged."""
        values = accumulated.tolist()  # the sync point
        loss_d, loss_g, d_real, d_fake = (value / steps for value in values[:4])
        norm_d, norm_g = values[4:6]  # measured on the interval's last step only
        self.interval_end = time.perf_counter()  # the next interval starts here: reporting counts as training
        seconds = self.interval_end - start
        self.elapsed += seconds
        if not all(math.isfinite(v) for v in (loss_d, loss_g)):
            self._diverged(loss_d, loss_g)
            return False
        allocated, reserved, peak, rss = memory_figures(self.device)
        metrics = MetricsLogged(
            step=self.step, epoch=self.epoch, time=round(self.elapsed, 3), loss_d=loss_d, loss_g=loss_g,
            d_real=d_real, d_fake=d_fake, grad_norm_d=norm_d, grad_norm_g=norm_g,
            samples_per_s=samples / seconds if seconds > 0 else 0.0, mem_allocated=allocated,
            mem_reserved=reserved, mem_peak=peak, rss=rss, total_steps=self.run.total_steps,
            skipped_steps=round(values[6]) if self.scaler.is_enabled() else None)
        self.events.handle(metrics)
        self.quality.observe_metrics(metrics)
        return True

    def evaluate(self, accumulated: torch.Tensor, interval_start: float) -> float:
        """One quality evaluation (eval.csv, alarms, best.pt on a new best); returns the seconds it took."""
        start = time.perf_counter()
        improved = self.quality.evaluate(self.generator, self.step, self.elapsed + start - interval_start)
        if improved and bool(torch.isfinite(accumulated).all()):  # never keep diverged weights as the best
            self.save_checkpoint(best=True)
        seconds = time.perf_counter() - start
        self.elapsed += seconds
        return seconds

    def _diverged(self, loss_d: float, loss_g: float) -> None:
        which = "loss_d" if not math.isfinite(loss_d) else "loss_g"
        value = loss_d if which == "loss_d" else loss_g
        kept = (f"last good checkpoint at step {self.last_checkpoint_step}" if self.last_checkpoint_step
                else "no checkpoint was written")
        message = (f"{which} became {value} in the interval ending at step {self.step}; {kept}. "
                   f"Try a lower --lr or another --loss")
        self.events.handle(Notice("alarm", message, self.step))
        self.events.handle(RunEnded(RunState.DIVERGED, self.step, self.epoch, message))

    # ---- samples and checkpoints -------------------------------------------------------------------------
    def emit_samples(self) -> None:
        G = self.generator
        was_training = G.training
        G.eval()
        with torch.no_grad(), self.autocast():
            output = G(self.fixed_latent, self.fixed_labels).float().cpu()
        G.train(was_training)
        if self.info.is_image:
            self.events.handle(SampleGrid(self.step, image_grid(output, self.run.arch.output_range)))
        else:
            real, _ = self.run.source.preview(min(8, self.config.sample_count))
            self.events.handle(SampleValues(self.step, output[:16].tolist(), real.tolist()))

    def save_checkpoint(self, best: bool = False) -> None:
        path = self.rundir.layout.best_checkpoint if best else self.rundir.layout.last_checkpoint
        save_checkpoint(path, {
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(), "optimizer_d": self.optimizer_d.state_dict(),
            "scaler": self.scaler.state_dict(), "step": self.step, "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch, "elapsed": self.elapsed, "config": self.config.to_dict(),
            "fixed_latent": self.fixed_latent.cpu(),
            "fixed_labels": None if self.fixed_labels is None else self.fixed_labels.cpu(),
            "rng": rng_state(self.device, data=self.data_rng, noise=self.noise_rng, epoch_data=self.epoch_rng_state),
        })
        if not best:
            self.last_checkpoint_step = self.step
        self.events.handle(CheckpointSaved(self.step, str(path)))

    def _restore(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch, self.elapsed = state["batch_in_epoch"], state["elapsed"]
        self.fixed_latent = state["fixed_latent"].to(self.device)
        if state["fixed_labels"] is not None:
            self.fixed_labels = state["fixed_labels"].to(self.device)
        self.epoch_rng_state = restore_rng_state(state["rng"], self.device, data=self.data_rng, noise=self.noise_rng)
        self.last_checkpoint_step = self.step


def _joined(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor | None:
    return None if first is None or second is None else torch.cat([first, second])


def _optimizer(config: TrainConfig, module: nn.Module) -> torch.optim.Optimizer:
    return make_optimizer(config.optimizer, module, config.lr, config.betas)


def train(run: PreparedRun, sinks: tuple[Sink, ...] | list[Sink] = (), control: RunControl | None = None) -> str:
    """Train `run` to its end; returns the final state (finished, stopped, failed or diverged).

    A failure inside training (out of memory, a bad file found mid-epoch) ends the run as `failed` with
    its message in status.json and events.jsonl; the last checkpoint stays intact.
    """
    control = control or RunControl(run.path)
    trainer = Trainer(run, tuple(sinks), control)
    try:
        return trainer.run_loop()
    except Exception as error:
        message = _failure_message(error, trainer.step)
        with contextlib.suppress(Exception):
            trainer.events.handle(Notice("error", message, trainer.step))
            trainer.events.handle(RunEnded(RunState.FAILED, trainer.step, trainer.epoch, message))
        raise TrainingFailed(message) from error
    finally:
        with contextlib.suppress(Exception):  # errors were reported above; the files must still be complete
            trainer.writer.close()


class TrainingFailed(Exception):
    """Training stopped on an error; the message is one line for the user."""


def _failure_message(error: Exception, step: int) -> str:
    if isinstance(error, torch.OutOfMemoryError):
        return f"out of memory at step {step}: try a smaller --batch-size or --amp bf16"
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, OSError) and error.errno == 28:
        return f"disk full at step {step} writing {getattr(error, 'filename', '') or 'the run folder'}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__} at step {step}: {first}"
