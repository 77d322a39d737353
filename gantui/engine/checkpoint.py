"""Checkpoints: one explicit dict with a format version, written atomically, loaded strictly."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gantui.engine.atomic import write_atomic
from gantui.engine.errors import UserError

FORMAT_VERSION = 1
KEYS = frozenset({
    "format_version", "generator", "discriminator", "optimizer_g", "optimizer_d", "scaler", "step", "epoch",
    "batch_in_epoch", "elapsed", "config", "fixed_latent", "fixed_labels", "rng",
})
# What each field must hold (a tuple: any of these types); a checkpoint that differs is refused on load.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "generator": (dict,), "discriminator": (dict,), "optimizer_g": (dict,), "optimizer_d": (dict,),
    "scaler": (dict, type(None)), "step": (int,), "epoch": (int,), "batch_in_epoch": (int,),
    "elapsed": (int, float), "config": (dict,), "fixed_latent": (torch.Tensor,),
    "fixed_labels": (torch.Tensor, type(None)), "rng": (dict,),
}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
        with warnings.catch_warnings():  # torch's own warnings (pickle protocol, …) are not the user's business
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # a torn or foreign file: one line saying which
        raise UserError(f"cannot read checkpoint {path}: {_first_line(error)}") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{path} is not a gantui checkpoint of format {FORMAT_VERSION}")
    _check_keys(state, path)
    for key, types in FIELD_TYPES.items():
        value = state[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise UserError(f"checkpoint {path}: {key} holds a {type(value).__name__}, not a "
                            f"{' or '.join(t.__name__ for t in types)}")
    if min(state["step"], state["epoch"], state["batch_in_epoch"]) < 0:
        raise UserError(f"checkpoint {path}: a negative step, epoch or batch")
    return state


def load_weights(module: nn.Module, weights: dict[str, Any], what: str, path: Path) -> None:
    """`module.load_state_dict(weights)`, or one line saying the checkpoint's `what` does not fit it."""
    try:
        module.load_state_dict(weights)
    except (RuntimeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"checkpoint {path}: its {what} does not fit this run's network ({_first_line(error)})") \
            from None


def _first_line(error: BaseException) -> str:
    """The gist of an exception: its first non-empty line, without terminal colour codes."""
    text = ANSI.sub("", str(error)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    if "Weights only load failed" in text:
        return "it holds objects other than tensors and plain values, so it was not loaded (not a gantui checkpoint)"
    return first if len(first) <= 200 else first[:197] + "…"


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
