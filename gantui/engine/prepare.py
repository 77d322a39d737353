"""Preparing a run: everything the user gave (data, architecture, device) is checked before any folder exists.

`prepare_run` builds a new run and only then creates its folder; `prepare_resume` rebuilds one from its
config.json and last checkpoint. Either gives the `PreparedRun` that `trainer.train` runs.

In a run of several processes every rank builds the same parts; rank 0 alone creates (or locks) the folder
and tells the others where it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gantui.engine.atomic import disk_problem
from gantui.engine.checkpoint import load_checkpoint, load_weights
from gantui.engine.config import TrainConfig, override, read_config
from gantui.engine.data import load_dataset
from gantui.engine.data.base import DataSource
from gantui.engine.distributed import SINGLE, World, broadcast
from gantui.engine.errors import UserError
from gantui.engine.models import build_models, get_arch
from gantui.engine.models.base import ArchSpec
from gantui.engine.run.layout import RunLayout, new_run_path
from gantui.engine.run.lock import RunLock


@dataclass
class PreparedRun:
    """A run whose data, models and device are ready and whose folder exists."""

    config: TrainConfig
    path: Path
    source: DataSource
    arch: ArchSpec
    generator: nn.Module
    discriminator: nn.Module
    device: torch.device
    checkpoint: dict[str, Any] | None = None  # set when resuming
    lock: RunLock | None = None  # this process's right to write the folder, released when training ends
    resumed: bool = False  # continues a folder's run: from `checkpoint`, or from step 0 when it had none yet
    warnings: list[str] = field(default_factory=list)
    world: World = SINGLE  # this process's place among the run's processes

    @property
    def steps_per_epoch(self) -> int:
        return self.source.steps_per_epoch(self.config.batch_size)

    @property
    def total_steps(self) -> int:
        if self.config.steps is not None:
            return self.config.steps
        return (self.config.epochs or 1) * self.steps_per_epoch


def build_parts(config: TrainConfig, world: World = SINGLE) -> tuple[DataSource, ArchSpec, nn.Module, nn.Module,
                                                                   torch.device]:
    """Data, architecture, G, D and device for `config`; UserError when any of them cannot be had."""
    device = world.device(config.device)
    world.check_batch(config.batch_size)
    arch = get_arch(config.arch)
    source = load_dataset(config.dataset, config.data, image_size=config.image_size, download=config.download)
    torch.manual_seed(config.seed)  # the initial weights follow --seed too
    generator, discriminator = build_models(config.arch, source.info, config.latent_dim)
    return source, arch, generator.to(device), discriminator.to(device), device


def prepare_run(config: TrainConfig, run_path: Path | None = None, world: World = SINGLE) -> PreparedRun:
    """Validate and build everything, then create the run folder (never before: no half-written runs)."""
    source, arch, generator, discriminator, device = build_parts(config, world)
    warnings = list(getattr(source, "warnings", []))
    lock, path, problem = None, None, None
    if world.is_main:
        try:
            path, lock = _new_folder(config, run_path)
        except UserError as error:
            problem = str(error)
    path, problem = broadcast((str(path) if path else None, problem), world)  # where rank 0 writes
    if problem is not None:
        raise UserError(problem)
    return PreparedRun(config, Path(path), source, arch, generator, discriminator, device, warnings=warnings,
                       lock=lock, world=world)


def _new_folder(config: TrainConfig, run_path: Path | None) -> tuple[Path, RunLock]:
    try:
        if run_path is None:
            path = new_run_path(Path(config.runs_dir), config.dataset, config.arch, config.name, create=True)
        else:
            path = Path(run_path)
            if path.exists() and any(path.iterdir()):
                raise UserError(f"run folder {path} already exists and is not empty")
            path.mkdir(parents=True, exist_ok=True)
        return path, RunLock(path).acquire()
    except OSError as error:
        raise UserError(f"no run folder: {disk_problem(error, Path(error.filename or config.runs_dir))}") from None


def prepare_resume(run_path: Path, steps: int | None = None, epochs: int | None = None,
                   device: str | None = None, world: World = SINGLE) -> PreparedRun:
    """Rebuild a run from its config.json and checkpoints/last.pt, optionally with a new length.

    A run killed before its first checkpoint starts again from step 0 in the same folder (its rows are dropped).
    Any number of processes may resume a run that any number trained (the data order then differs)."""
    run_path = Path(run_path)
    config = override(read_config(RunLayout(run_path).config), steps=steps, epochs=epochs, device=device)
    before = trained_world_size(run_path)
    problem = None
    if world.is_main:
        try:
            lock = RunLock(run_path).acquire()  # before anything is read for writing: one writer per folder
        except UserError as error:
            problem = str(error)
    if (problem := broadcast(problem, world)) is not None:
        raise UserError(problem)
    try:
        where = RunLayout(run_path).last_checkpoint
        checkpoint = load_checkpoint(where) if where.exists() else None
        source, arch, generator, discriminator, torch_device = build_parts(config, world)
        if checkpoint is not None:  # refused here, before anything is written, when the weights do not fit
            load_weights(generator, checkpoint["generator"], "generator", where)
            load_weights(discriminator, checkpoint["discriminator"], "discriminator", where)
        prepared = PreparedRun(config, run_path, source, arch, generator, discriminator, torch_device, checkpoint,
                               lock=lock if world.is_main else None, resumed=True, world=world)
        if checkpoint is not None and checkpoint["step"] >= prepared.total_steps:
            raise UserError(f"{run_path.name} already reached step {checkpoint['step']}; "
                            f"ask for more with --steps N or --epochs N")
        if checkpoint is not None and before != world.world_size:
            prepared.warnings.append(f"this run trained with {_processes(before)} and resumes with "
                                     f"{_processes(world.world_size)}: the order of the data differs from here on")
    except BaseException:
        if world.is_main:
            lock.release()
        raise
    return prepared


def trained_world_size(run_path: Path) -> int:
    """How many processes last trained the run (config.json's "distributed"; 1 without it)."""
    try:
        data = json.loads(RunLayout(run_path).config.read_text(encoding="utf-8"))
        return int(data.get("distributed", {}).get("world_size", 1))
    except (OSError, ValueError, AttributeError, TypeError):
        return 1


def _processes(count: int) -> str:
    return "1 process" if count == 1 else f"{count} processes"
