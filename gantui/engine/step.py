"""One GAN step: a D update then a G update, on the device, with nothing read back to the host.

`GanStep` owns what a step needs: both networks and their optimisers, the GradScaler, autocast, the latent
noise and the torch.compile fallback. Each step returns a `StepResult` of device tensors; the trainer sums
them over a log interval (interval.py) and reads them once.

In a run of several processes (distributed.py) G and D train inside DistributedDataParallel, with their
BatchNorm layers synchronised; `generator` and `discriminator` stay the bare modules (checkpoints, samples,
norms), and the G phase calls the bare D, whose weights are frozen then and must not be synchronised.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gantui.engine import distributed, losses
from gantui.engine.acceleration import AUTOCAST_DTYPES, compile_module, make_optimizer, resolve_amp, tune_for_device
from gantui.engine.config import TrainConfig
from gantui.engine.distributed import SINGLE, World

FIXED_INPUT = 0.5  # the pattern tutorial feeds its generator this constant


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step's figures, each a 0-d float32 tensor on the device (reading one syncs the device)."""

    loss_d: torch.Tensor
    loss_g: torch.Tensor
    d_real: torch.Tensor  # D's mean probability that the real samples are real
    d_fake: torch.Tensor  # and that the generated ones are
    grad_norm_d: torch.Tensor  # zero unless the step measured norms (a log interval's last step)
    grad_norm_g: torch.Tensor
    skipped: torch.Tensor  # 1 when the fp16 GradScaler skipped the step (inf/NaN gradients), else 0


class GanStep:
    """The networks, their optimisers and the arithmetic of one step; `step` is what a run calls."""

    def __init__(self, config: TrainConfig, generator: nn.Module, discriminator: nn.Module, device: torch.device,
                 num_classes: int | None, world: World = SINGLE) -> None:
        self.config, self.device, self.world = config, device, world
        self.generator, self.discriminator = generator, discriminator
        self.num_classes = num_classes  # None for an unconditional pair: no labels go in
        tune_for_device((generator, discriminator), device)
        self.optimizer_g = make_optimizer(config.optimizer, generator, config.lr, config.betas)
        self.optimizer_d = make_optimizer(config.optimizer, discriminator, config.lr_d or config.lr, config.betas)
        self.amp = resolve_amp(config.amp, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp == "fp16")  # one for both networks
        self.autocast_dtype = AUTOCAST_DTYPES.get(self.amp)
        self.noise_rng = torch.Generator(device=device).manual_seed(config.seed + 1)  # latents and fake labels
        self.zero = torch.zeros((), device=device)
        self.notices: list[str] = []  # warnings for the run's events; the trainer takes them
        self.forward_g, self.forward_d = generator, discriminator  # what train_step calls
        if world.is_distributed:
            self.forward_g = distributed.wrap(generator, device)
            self.forward_d = distributed.wrap(discriminator, device)
            # after wrapping (DDP refuses SyncBatchNorm on the CPU), in place, keeping the same parameters
            distributed.with_sync_batchnorm(generator)
            distributed.with_sync_batchnorm(discriminator)
        self.frozen_d = discriminator  # the G phase's D: never the DDP one (no sync of frozen weights)
        # D sees real and fake in one batch when no layer mixes samples (BatchNorm's statistics would)
        self.joint_d = not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in discriminator.modules())
        self.eager = (self.forward_g, self.forward_d, self.frozen_d)
        if config.compile:
            forward_g = compile_module(self.forward_g, self._compile_failed)
            if forward_g is not self.forward_g:  # one refusal, one warning
                self.forward_g, self.forward_d = forward_g, compile_module(self.forward_d, self._compile_failed)
                self.frozen_d = self.forward_d if not world.is_distributed else compile_module(discriminator,
                                                                                               self._compile_failed)
        self.compile_pending = self.forward_g is not self.eager[0]  # the first step proves it compiles

    def latent(self, count: int) -> torch.Tensor:
        shape = (count, self.config.latent_dim)
        if self.config.latent == "fixed":
            return torch.full(shape, FIXED_INPUT, device=self.device)
        if self.config.latent == "uniform":
            return torch.rand(shape, generator=self.noise_rng, device=self.device)
        return torch.randn(shape, generator=self.noise_rng, device=self.device)

    def training_noise(self, batch: int, labelled: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A step's latents and fake labels for `batch` samples: with several ranks, each draws the global
        batch's from the same stream and keeps its slice, so N processes train as one would."""
        world = self.world
        count = batch * world.world_size
        z = world.split(self.latent(count))
        if self.num_classes is None or not labelled:
            return z, None
        return z, world.split(torch.randint(0, self.num_classes, (count,), generator=self.noise_rng,
                                            device=self.device))

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def train_step(self, real: torch.Tensor, labels: torch.Tensor | None, measure_norms: bool) -> StepResult:
        """One D update then one G update; the result stays on the device (no host sync)."""
        config, G, D = self.config, self.forward_g, self.forward_d
        batch = real.shape[0]
        z, fake_labels = self.training_noise(batch, labels is not None)
        labels = labels if self.num_classes is not None else None

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
                                               fake=fake.detach(), discriminator=D, labels=labels,
                                               real_target=1.0 - config.label_smoothing)
        self.scaler.scale(loss_d).backward()
        grad_norm_d = self._grad_norm(self.discriminator, self.optimizer_d) if measure_norms else self.zero
        self.scaler.step(self.optimizer_d)

        # G phase: generated samples should fool D. D's weights are frozen meanwhile: their gradients would
        # be thrown away at the next D phase, and skipping them saves a third of this phase's matmuls.
        self.optimizer_g.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        try:
            with self.autocast():
                loss_g = losses.generator_loss(config.loss, self.frozen_d(fake, fake_labels))
            self.scaler.scale(loss_g).backward()
        finally:
            self.discriminator.requires_grad_(True)
        grad_norm_g = self._grad_norm(self.generator, self.optimizer_g) if measure_norms else self.zero
        self.scaler.step(self.optimizer_g)
        skipped = self._update_scaler()

        with torch.no_grad():
            return StepResult(
                loss_d=loss_d.detach().float(), loss_g=loss_g.detach().float(),
                d_real=losses.probability(config.loss, logits_real.float()).mean(),
                d_fake=losses.probability(config.loss, logits_fake.float()).mean(),
                grad_norm_d=grad_norm_d.float(), grad_norm_g=grad_norm_g.float(), skipped=skipped)

    def _grad_norm(self, module: nn.Module, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return torch.zeros((), device=self.device)
        if self.scaler.is_enabled():
            self.scaler.unscale_(optimizer)
        return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))

    def _update_scaler(self) -> torch.Tensor:
        """scaler.update(); on the device, 1.0 when it lowered the scale (inf/NaN gradients: step skipped)."""
        if not self.scaler.is_enabled():
            return self.zero
        before = self.scaler._scale.clone()  # the public get_scale() would sync the device every step
        self.scaler.update()
        return (self.scaler._scale < before).float().reshape(())

    def step(self, real: torch.Tensor, labels: torch.Tensor | None, measure_norms: bool) -> StepResult:
        """train_step, except that a compiled model failing on its first step falls back to eager."""
        if not self.compile_pending:
            return self.train_step(real, labels, measure_norms)
        try:
            result = self.train_step(real, labels, measure_norms)
        except Exception as error:  # compiling happens in the first calls; redoing step 1 eagerly is harmless
            self._compile_failed(error)
            self.forward_g, self.forward_d, self.frozen_d = self.eager
            self.optimizer_d.zero_grad(set_to_none=True)
            self.optimizer_g.zero_grad(set_to_none=True)
            result = self.train_step(real, labels, measure_norms)
        self.compile_pending = False
        return result

    def _compile_failed(self, error: Exception) -> None:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        self.notices.append(f"--compile failed ({type(error).__name__}: {first}); training without it")

    def take_notices(self) -> list[str]:
        notices, self.notices = self.notices, []
        return notices

    def generate(self, latent: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """G's output for `latent` in eval mode, as float32 on the CPU (the run's sample pictures)."""
        G = self.generator
        was_training = G.training
        G.eval()
        with torch.no_grad(), self.autocast():
            output = G(latent, labels).float().cpu()
        G.train(was_training)
        return output

    # ---- the checkpoint's share ------------------------------------------------------------------------
    def weights_finite(self) -> bool:
        """Every weight of G and D is a finite number (one device sync: asked only before keeping weights)."""
        modules = (self.generator, self.discriminator)
        flags = [torch.isfinite(p).all() for module in modules for p in module.parameters()]
        return bool(torch.stack(flags).all()) if flags else True

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "optimizer_g": self.optimizer_g.state_dict(), "optimizer_d": self.optimizer_d.state_dict(),
                "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])


def _joined(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor | None:
    return None if first is None or second is None else torch.cat([first, second])
