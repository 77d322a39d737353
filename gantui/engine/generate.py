"""Using a trained generator: load it from a run folder, draw samples, write them as a PNG grid."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from gantui.engine.atomic import disk_problem, output_file, write_atomic
from gantui.engine.checkpoint import load_checkpoint, load_weights
from gantui.engine.config import TrainConfig, read_config
from gantui.engine.data.base import DataInfo
from gantui.engine.errors import UserError
from gantui.engine.models import build_models, get_arch
from gantui.engine.models.base import ArchSpec
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import read_json
from gantui.engine.samples import image_grid

VECTOR_CELL_PX = 16  # toy vectors are drawn as rows of grey cells this many pixels wide


@dataclass
class LoadedGenerator:
    generator: nn.Module
    arch: ArchSpec
    info: DataInfo
    config: TrainConfig
    step: int


def data_info_from_config(data: dict) -> DataInfo:
    raw = data.get("data_info")
    if not isinstance(raw, dict):
        raise UserError("config.json has no data_info (was the run written by gantui?)")
    known = {f.name for f in dataclasses.fields(DataInfo)}
    values = {k: v for k, v in raw.items() if k in known}
    try:
        values["shape"] = tuple(int(n) for n in values.get("shape", ()))
        values["class_names"] = tuple(str(n) for n in values.get("class_names", ()))
        info = DataInfo(**values)
    except (TypeError, ValueError):
        info = None
    if info is None or info.kind not in ("image", "vector") or not info.shape or min(info.shape) < 1 \
            or not isinstance(info.num_classes, (int, type(None))):
        raise UserError("config.json's data_info is damaged (shape, kind or classes)")
    return info


def load_generator(run_path: Path, device: str = "cpu", checkpoint: Path | None = None) -> LoadedGenerator:
    """The generator of `run_path`'s last checkpoint (or of `checkpoint`), in eval mode, without loading the
    dataset."""
    layout = RunLayout(Path(run_path))
    config = read_config(layout.config)
    info = data_info_from_config(read_json(layout.config))
    checkpoint = checkpoint or layout.last_checkpoint
    state = load_checkpoint(checkpoint, map_location=device)
    generator, _ = build_models(config.arch, info, config.latent_dim)
    load_weights(generator, state["generator"], "generator", checkpoint)
    return LoadedGenerator(generator.to(device).eval(), get_arch(config.arch), info, config, state["step"])


def generate(loaded: LoadedGenerator, count: int, seed: int = 0, label: int | None = None,
             latent: torch.Tensor | None = None) -> torch.Tensor:
    """`count` samples (CPU, generator's output range) from seeded latents, of class `label` if given."""
    config, info = loaded.config, loaded.info
    if label is not None:
        if not loaded.arch.conditional:
            raise UserError(f"--label needs a conditional architecture (cgan, cdcgan), not {config.arch}")
        if not 0 <= label < (info.num_classes or 0):
            raise UserError(f"--label must be in 0..{(info.num_classes or 1) - 1} (got {label})")
    device = next(loaded.generator.parameters()).device
    if latent is None:
        latent = seed_latent(loaded, seed, count)
    labels = None
    if loaded.arch.conditional:
        labels = torch.full((count,), label) if label is not None else torch.arange(count) % info.num_classes
        labels = labels.to(device)
    with torch.no_grad():
        samples = loaded.generator(latent.to(device), labels).float().cpu()
    if not torch.isfinite(samples).all():
        raise UserError(f"the generator at step {loaded.step} gives non-finite values (the run diverged); "
                        "resume from an earlier checkpoint or train again")
    return samples


def seed_latent(loaded: LoadedGenerator, seed: int, count: int = 1) -> torch.Tensor:
    """The latent batch drawn from `seed` the way the run draws z (normal, uniform or fixed)."""
    config = loaded.config
    rng = torch.Generator().manual_seed(seed)
    shape = (count, config.latent_dim)
    if config.latent == "fixed":
        return torch.full(shape, 0.5)
    if config.latent == "uniform":
        return torch.rand(shape, generator=rng)
    return torch.randn(shape, generator=rng)


def render(loaded: LoadedGenerator, latent: torch.Tensor, label: int | None = None,
           labels: torch.Tensor | None = None) -> np.ndarray:
    """One picture of G(latent) in a row (a column of rows for toy vectors), every image of class `label`."""
    device = next(loaded.generator.parameters()).device
    if loaded.arch.conditional and labels is None:
        labels = torch.full((latent.shape[0],), label or 0)
    with torch.no_grad():
        output = loaded.generator(latent.to(device), None if labels is None else labels.to(device)).float().cpu()
    return picture(output, loaded, columns=latent.shape[0])


def interpolation_strip(loaded: LoadedGenerator, seed_a: int, seed_b: int, steps: int = 8,
                        label: int | None = None) -> np.ndarray:
    """G along the straight line from seed a's latent to seed b's, `steps` images, a first and b last."""
    a, b = seed_latent(loaded, seed_a), seed_latent(loaded, seed_b)
    weights = torch.linspace(0, 1, max(steps, 2)).unsqueeze(1)
    return render(loaded, (1 - weights) * a + weights * b, label)


def arithmetic_strip(loaded: LoadedGenerator, seed_a: int, seed_b: int, label: int | None = None) -> np.ndarray:
    """Seed arithmetic, as the tutorial plays with it: G(a), G(b), G(a + b), G(a − b)."""
    a, b = seed_latent(loaded, seed_a), seed_latent(loaded, seed_b)
    return render(loaded, torch.cat((a, b, a + b, a - b)), label)


def class_strip(loaded: LoadedGenerator, seed: int) -> np.ndarray:
    """The same latent rendered as every class of a conditional model."""
    classes = loaded.info.num_classes or 0
    if not loaded.arch.conditional or classes < 1:
        raise UserError(f"{loaded.config.arch} is not conditional: it has no classes to choose")
    return render(loaded, seed_latent(loaded, seed).repeat(classes, 1), labels=torch.arange(classes))


def picture(output: torch.Tensor, loaded: LoadedGenerator, columns: int | None = None) -> np.ndarray:
    """Samples as one uint8 H×W×C picture: an image grid, or toy vectors as rows of grey cells."""
    if loaded.info.is_image:
        return image_grid(output, loaded.arch.output_range, columns)
    values = output.numpy()
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    cells = (scaled * 255).astype(np.uint8)
    return np.kron(cells, np.ones((VECTOR_CELL_PX, VECTOR_CELL_PX), dtype=np.uint8))[..., None]


def save_png(image: np.ndarray, out: Path) -> Path:
    out = output_file(out)
    pixels = Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
    try:
        write_atomic(out, lambda tmp: pixels.save(tmp, format="PNG"))
    except OSError as error:
        raise UserError(disk_problem(error, out)) from None
    return out


def save_sample_grid(loaded: LoadedGenerator, count: int, out: Path, seed: int = 0,
                     label: int | None = None) -> Path:
    return save_png(picture(generate(loaded, count, seed, label), loaded), out)
