"""Training configuration: one frozen dataclass, resolved once from the user's options and the
architecture's tutorial defaults, written to config.json and read back for resume."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gantui.engine.errors import UserError

LOSSES = ("bce", "mse", "hinge", "wgan-gp")
OPTIMIZERS = ("adam", "sgd")
LATENTS = ("normal", "uniform", "fixed")
AMP_MODES = ("auto", "off", "bf16", "fp16")  # auto: bf16 on a GPU that has it, else off
# Data whose picture size is a free choice: the architecture's size applies unless --image-size is given.
FREE_SIZE_DATASETS = ("imagefolder", "hdf5", "shapes")


@dataclass(frozen=True)
class TrainConfig:
    dataset: str
    arch: str
    data: str | None = None  # file or folder, where the dataset needs one
    download: bool = False  # let torchvision fetch fashion-mnist / cifar10
    loss: str = "bce"
    optimizer: str = "adam"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 64
    epochs: int | None = 1  # exactly one of epochs / steps decides the length
    steps: int | None = None
    latent_dim: int = 100
    latent: str = "normal"  # how z is drawn: normal, uniform, or the pattern tutorial's fixed 0.5
    image_size: int | None = None
    device: str = "auto"
    seed: int = 0
    log_every: int = 10  # the tutorial records the loss every 10 steps
    sample_every: int = 200
    checkpoint_every: int = 1000
    eval_every: int = 0  # 0: no quality evaluation
    sample_count: int = 64  # images in the fixed-latent preview grid
    amp: str = "auto"  # mixed precision, resolved per device when training starts
    compile: bool = False  # torch.compile the networks (falls back to eager when it fails)
    runs_dir: str = "runs"
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "betas" in values:
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def parse_betas(text: str | tuple[float, float] | list[float]) -> tuple[float, float]:
    if isinstance(text, (tuple, list)):
        parts = list(text)
    else:
        parts = [p for p in str(text).replace(" ", "").split(",") if p]
    try:
        b1, b2 = (float(p) for p in parts)
    except ValueError:
        raise UserError(f"--betas must be two numbers like 0.5,0.999 (got {text!r})") from None
    return (b1, b2)


def resolve_config(dataset: str | None = None, arch: str | None = None, **options: Any) -> TrainConfig:
    """Fill unset options (None) from the architecture's defaults, then validate everything.

    Raises UserError naming the first problem. Does not load data: `check_compatible` does that.
    """
    from gantui.engine.models import get_arch

    if not arch:
        arch = "mlp"
    spec = get_arch(arch)
    defaults = spec.defaults
    dataset = dataset or defaults.default_dataset
    given = {k: v for k, v in options.items() if v is not None}
    if "betas" in given:
        given["betas"] = parse_betas(given["betas"])
    if "steps" in given and "epochs" not in given:
        given["epochs"] = None
    values: dict[str, Any] = {
        "loss": defaults.loss, "optimizer": defaults.optimizer, "lr": defaults.lr, "betas": defaults.betas,
        "batch_size": defaults.batch_size, "latent_dim": defaults.latent_dim, "latent": defaults.latent,
        "epochs": defaults.epochs, "image_size": defaults.image_size,
    }
    if dataset not in FREE_SIZE_DATASETS:  # fixed-size data is only resized when the user asks
        values["image_size"] = None
    if "eval_every" not in given:  # quality evaluation: on for pictures, off for the toy vectors
        from gantui.engine.data import DATASETS
        from gantui.engine.quality.tracker import default_eval_every

        values["eval_every"] = default_eval_every(DATASETS[dataset].kind) if dataset in DATASETS else 0
    values.update(given)
    if values.get("runs_dir") is not None:
        values["runs_dir"] = str(values["runs_dir"])
    if values.get("data") is not None:
        values["data"] = str(values["data"])
    config = TrainConfig(dataset=dataset, arch=arch, **values)
    validate(config)
    return config


def validate(config: TrainConfig) -> None:
    """Reject nonsense settings with one line saying which option and why."""
    from gantui.engine.data import DATASETS

    if config.dataset not in DATASETS:
        raise UserError(f"unknown dataset {config.dataset!r}; known: {', '.join(DATASETS)}")
    if config.loss not in LOSSES:
        raise UserError(f"unknown loss {config.loss!r}; choose one of {', '.join(LOSSES)}")
    if config.optimizer not in OPTIMIZERS:
        raise UserError(f"unknown optimizer {config.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if config.latent not in LATENTS:
        raise UserError(f"unknown latent {config.latent!r}; choose one of {', '.join(LATENTS)}")
    if config.amp not in AMP_MODES:
        raise UserError(f"unknown --amp {config.amp!r}; choose one of {', '.join(AMP_MODES)}")
    if not config.lr > 0 or config.lr != config.lr or config.lr > 10:
        raise UserError(f"--lr must be a positive number no larger than 10 (got {config.lr})")
    if not all(0 <= b < 1 for b in config.betas):
        raise UserError(f"--betas must each be in [0, 1) (got {config.betas[0]},{config.betas[1]})")
    _positive("--batch-size", config.batch_size)
    _positive("--latent-dim", config.latent_dim)
    _positive("--log-every", config.log_every)
    _positive("--sample-every", config.sample_every)
    _positive("--checkpoint-every", config.checkpoint_every)
    _positive("--sample-count", config.sample_count)
    if config.eval_every < 0:
        raise UserError(f"--eval-every must be 0 (off) or a positive number of steps (got {config.eval_every})")
    if config.steps is None and config.epochs is None:
        raise UserError("give --epochs N or --steps N")
    if config.steps is not None:
        _positive("--steps", config.steps)
    if config.epochs is not None:
        _positive("--epochs", config.epochs)
    if config.image_size is not None:
        _positive("--image-size", config.image_size)
        if config.image_size > 1024:
            raise UserError(f"--image-size must be at most 1024 (got {config.image_size})")
    if config.data is not None and not Path(config.data.split(":")[0] if _has_key(config.data)
                                         else config.data).expanduser().exists():
        raise UserError(f"data path not found: {config.data}")


def _has_key(path: str) -> bool:
    """`file.h5:key` names a dataset inside an HDF5 file (but `C:\\...` is a Windows drive)."""
    head, sep, _ = path.rpartition(":")
    return bool(sep) and len(head) > 1 and not Path(path).exists()


def _positive(option: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"{option} must be a whole number of at least 1 (got {value})")


def config_to_args(config: TrainConfig) -> list[str]:
    """The `gantui train` options that reproduce `config` (for starting a run in a child process)."""
    args = ["--dataset", config.dataset, "--arch", config.arch]
    skip = {"dataset", "arch", "download", "compile"}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name in skip or value is None:
            continue
        option = "--" + field.name.replace("_", "-")
        if field.name == "betas":
            args += [option, f"{value[0]},{value[1]}"]
        else:
            args += [option, str(value)]
    if config.download:
        args.append("--download")
    if config.compile:
        args.append("--compile")
    return args
