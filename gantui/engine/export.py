"""The generator as TorchScript (the anime tutorial's export), loadable without gantui."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from torch import nn

from gantui.engine.atomic import disk_problem, write_atomic
from gantui.engine.distributed import without_sync_batchnorm
from gantui.engine.errors import UserError


def export_generator(generator: nn.Module, path: Path) -> Path:
    """Script a CPU copy of `generator` in eval mode and save it atomically to `path` (plain BatchNorm layers
    where a run of several processes synchronised them)."""
    model = without_sync_batchnorm(copy.deepcopy(generator).to("cpu").eval())
    with warnings.catch_warnings():  # recent torch deprecates TorchScript; SPEC keeps generator.pt while it loads
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.script(model)
        try:
            write_atomic(Path(path), lambda tmp: torch.jit.save(scripted, str(tmp)))
        except OSError as error:
            raise UserError(disk_problem(error, Path(path))) from None
    return Path(path)
