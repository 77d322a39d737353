"""Checkpoints: one explicit dict with a format version, written atomically, loaded strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gantui.engine.atomic import write_atomic
from gantui.engine.errors import UserError

FORMAT_VERSION = 1
KEYS = frozenset({
    "format_version", "generator", "discriminator", "optimizer_g", "optimizer_d", "scaler", "step", "epoch",
    "batch_in_epoch", "elapsed", "config", "fixed_latent", "fixed_labels", "rng",
})


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (exactly KEYS) to `path` via a temporary file and a rename."""
    state = {"format_version": FORMAT_VERSION, **state}
    _check_keys(state, path)
    write_atomic(Path(path), lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with weights_only=True, refusing other versions and unknown or missing keys."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # a torn or foreign file: say which
        raise UserError(f"cannot read checkpoint {path}: {type(error).__name__}: {error}") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{path} is not a gantui checkpoint of format {FORMAT_VERSION}")
    _check_keys(state, path)
    return state


def _check_keys(state: dict[str, Any], path: Path) -> None:
    missing, unknown = KEYS - state.keys(), state.keys() - KEYS
    if missing or unknown:
        raise UserError(f"checkpoint {path}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")


def rng_state(device: torch.device, *, data: torch.Generator, noise: torch.Generator,
              epoch_data: torch.Tensor) -> dict[str, Any]:
    """Every random stream a run draws from, so a resumed run continues exactly (the checkpoint's "rng")."""
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
            "data": data.get_state(), "epoch_data": epoch_data, "noise": noise.get_state()}


def restore_rng_state(rng: dict[str, Any], device: torch.device, *, data: torch.Generator,
                      noise: torch.Generator) -> torch.Tensor:
    """Put back what `rng_state` took; returns the data order's state at the start of the epoch."""
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and device.type == "cuda":
        torch.cuda.set_rng_state_all(rng["cuda"])
    data.set_state(rng["data"])
    noise.set_state(rng["noise"])
    return rng["epoch_data"]
