"""Training configuration: one frozen dataclass whose fields declare every training option once.

Each field of `TrainConfig` carries its `Option`: the help, the range, the choices, whether the
architecture's tutorial sets its default, and the launcher's label. The CLI's flags (cli/options.py), the
launcher's fields, their parsing and validation (`Setting`), and `config_to_args` are all made from these
declarations. A configuration is resolved once (`resolve_config`), written to config.json, read back for
resume (`TrainConfig.from_dict`). This module imports nothing heavy: `gantui --help` must stay quick.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from gantui.engine.errors import UserError

LOSSES: dict[str, str] = {
    "bce": "binary cross-entropy on D's logits, G non-saturating (seeds 001-004, improved 003)",
    "mse": "squared error of sigmoid(D) against 1 for real, 0 for fake (seeds 000/003's first GANs)",
    "hinge": "hinge loss: D mean of relu(1 - real) and relu(1 + fake), G -D(fake) (SAGAN, BigGAN)",
    "wgan-gp": "Wasserstein critic with a gradient penalty on real/fake interpolates (Gulrajani et al. 2017)",
}
SMOOTHED_LOSSES = ("bce", "mse")  # the losses with a target for real samples, which --label-smoothing lowers
OPTIMIZERS = ("adam", "sgd")
LATENTS = ("normal", "uniform", "fixed")
AMP_MODES = ("auto", "off", "bf16", "fp16")  # auto: bf16 on a GPU that has it, else off
RUN_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"  # a run name is one plain folder-name part: no /, .., spaces or controls

GROUPS = {  # how `gantui train --help` groups the options
    "data": "what to train",
    "hyper": "hyper-parameters (unset: the architecture's tutorial values)",
    "where": "where and how often",
}


@dataclass(frozen=True)
class Option:
    """How a person sets one TrainConfig field: on the command line and in the launcher."""

    help: str
    group: str = "hyper"  # a key of GROUPS
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # inclusive bounds
    maximum: float | None = None
    positive: bool = False  # strictly above 0
    below: float | None = None  # strictly below this
    zero: str = ""  # what 0 means, for a count that may also be 0 ("off")
    pattern: str = ""  # a regular expression the whole text must match
    max_length: int = 0
    label: str = ""  # the launcher's field; "" keeps the option off the form
    short: str = ""  # a one-letter flag, e.g. "-d"
    metavar: str = ""
    tutorial: bool = False  # unset, it takes the architecture's tutorial value
    length: bool = False  # --epochs / --steps: exactly one of them decides the run's length
    cli: bool = True  # False: set by the program (never a flag)


def option(default: Any = MISSING, **declaration: Any) -> Any:
    """A TrainConfig field with its Option."""
    return field(default=default, metadata={"option": Option(**declaration)})


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = option(short="-d", group="data", metavar="NAME",
                          help="dataset name (see `gantui datasets`); default: the architecture's tutorial data")
    arch: str = option(short="-a", group="data", metavar="NAME",
                       help="architecture (see `gantui archs`); default: mlp")
    data: str | None = option(None, group="data", metavar="PATH", label="data path",
                              help="file or folder for datasets that need one (file.h5:key picks a dataset)")
    download: bool = option(False, group="data", label="download",
                            help="let torchvision download mnist / fashion-mnist / cifar10 into --data")
    image_size: int | None = option(None, group="data", minimum=1, maximum=1024, metavar="N", label="image size",
                                    help="resize pictures to N×N (default: the size the architecture needs, "
                                         "else the data's own)")
    loss: str = option("bce", choices=tuple(LOSSES), tutorial=True, label="loss", help="the GAN loss")
    optimizer: str = option("adam", choices=OPTIMIZERS, tutorial=True, label="optimiser",
                            help="optimiser of both networks")
    lr: float = option(1e-4, positive=True, maximum=10, tutorial=True, label="learning rate",
                       help="learning rate of both networks (of G alone with --lr-d)")
    lr_d: float | None = option(None, positive=True, maximum=10, metavar="X", label="D learning rate",
                                help="learning rate of the discriminator (default: --lr); lower it when D wins")
    label_smoothing: float = option(0.0, minimum=0, maximum=0.5, metavar="S", label="label smoothing",
                                    help="one-sided label smoothing: D's target for real samples is 1 - S, e.g. 0.1 "
                                         "(Salimans et al. 2016; bce and mse)")
    betas: tuple[float, float] = option((0.9, 0.999), minimum=0, below=1, tutorial=True, metavar="B1,B2",
                                        label="betas", help="Adam's betas, e.g. 0.5,0.999")
    batch_size: int = option(64, minimum=1, maximum=1 << 20, tutorial=True, label="batch size",
                             help="samples per training step")
    epochs: int | None = option(1, minimum=1, tutorial=True, length=True, metavar="N",
                                help="passes over the data (or --steps)")
    steps: int | None = option(None, minimum=1, length=True, metavar="N",
                               help="train for N steps (batches) instead of epochs")
    latent_dim: int = option(100, minimum=1, maximum=1 << 16, tutorial=True, label="latent size",
                             help="size of the generator's input z")
    latent: str = option("normal", choices=LATENTS, tutorial=True, label="latent",
                         help="how z is drawn (fixed: the pattern tutorial's constant 0.5)")
    device: str = option("auto", group="where", label="device", help="auto, cpu, cuda, cuda:K or mps")
    seed: int = option(0, minimum=0, maximum=2**32 - 1, label="seed",
                       help="random seed: same seed, same run on the CPU")
    log_every: int = option(10, group="where", minimum=1, label="log every",
                            help="steps per metrics row (the tutorial records the loss every 10)")
    sample_every: int = option(200, group="where", minimum=1, label="sample every", help="steps per sample grid")
    checkpoint_every: int = option(1000, group="where", minimum=1, label="checkpoint every",
                                   help="steps per checkpoint")
    eval_every: int | None = option(None, group="where", minimum=1, zero="off", label="eval every",
                                    help="steps per quality evaluation, followed exactly (default: auto — every "
                                         "500 steps or more for pictures, spaced so that evaluation stays at most "
                                         "10% of the run's time, so which steps are evaluated depends on timings; "
                                         "off for toys)")
    eval_auto: bool = option(False, group="where", cli=False,
                             help="eval_every was left to the default: it is the least interval, and evaluations "
                                  "are spaced by their cost (quality/schedule.py)")
    sample_count: int = option(64, group="where", minimum=1, maximum=1024, label="samples",
                               help="images in the fixed-latent sample grid")
    amp: str = option("auto", choices=AMP_MODES, label="precision",
                      help="mixed precision (auto: bf16 on a GPU that has it, else off)")
    compile: bool = option(False, label="compile",
                           help="torch.compile the networks (slow start; falls back to eager if it fails)")
    runs_dir: str = option("runs", group="where", metavar="DIR", help="folder holding run folders")
    name: str | None = option(None, group="where", pattern=RUN_NAME, max_length=100, label="run name",
                              help="suffix for the run folder's name (letters, digits, _ . -)")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["betas"] = list(self.betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A configuration from config.json's object (unknown keys ignored), validated: UserError if wrong."""
        if not isinstance(data, dict):
            raise UserError("a configuration must be a JSON object")
        values = {name: data[name] for name in SETTINGS if name in data}
        if isinstance(values.get("betas"), list):
            values["betas"] = tuple(values["betas"])
        missing = [name for name in ("dataset", "arch") if not isinstance(values.get(name), str)]
        if missing:
            raise UserError(f"the configuration names no {' or '.join(missing)}")
        config = cls(**values)
        validate(config, data_path=False)  # a finished run's data may have moved; resume checks it again
        return config

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


# ---- the declarations, read ------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One TrainConfig field with its Option, its value type and its default: parse, check, show."""

    name: str
    kind: type  # int, float, str, bool or tuple (the betas pair)
    optional: bool  # None is a value (unset)
    default: Any
    option: Option

    @property
    def flag(self) -> str:
        """How messages name it: its CLI flag, or its config-file key when it has no flag."""
        return "--" + self.name.replace("_", "-") if self.option.cli else self.name

    def parse(self, text: str) -> Any:
        """The value a person typed; blank is None where None is allowed. UserError naming the flag."""
        text = text.strip()
        if not text and (self.optional or self.kind is tuple):
            return None
        if self.kind is bool:
            return text.lower() in ("1", "true", "yes", "on")
        if self.kind is tuple:
            parts = [part for part in text.replace(" ", "").split(",") if part]
            try:
                return tuple(float(part) for part in parts)
            except ValueError:
                raise UserError(f"{self.flag} must be {self._expected()} (got {text!r})") from None
        if self.kind in (int, float):
            try:
                return self.kind(text)
            except ValueError:
                raise UserError(f"{self.flag} must be {self._expected()} (got {text!r})") from None
        return text

    def check(self, value: Any) -> None:
        """UserError naming the flag when `value` is of the wrong type, out of range or not a choice."""
        if value is None and self.optional:
            return
        if self.kind is tuple:
            good = isinstance(value, tuple) and len(value) == 2 and all(_is_number(v) for v in value)
            if not good or not all(self._in_range(v) for v in value):
                shown = ",".join(f"{v:g}" for v in value) if good else repr(value)
                raise UserError(f"{self.flag} must be {self._expected()} (got {shown})")
            return
        if not _has_kind(value, self.kind):
            raise UserError(f"{self.flag} must be {self._expected()} (got {value!r})")
        if self.option.choices and value not in self.option.choices:
            raise UserError(f"unknown {self.flag} {value!r}; choose one of {', '.join(self.option.choices)}")
        if self.kind in (int, float) and not (self.option.zero and value == 0) and not self._in_range(value):
            raise UserError(f"{self.flag} must be {self._expected()} (got {value})")
        if self.kind is str and self.option.pattern and not re.fullmatch(self.option.pattern, value):
            raise UserError(f"{self.flag} {json.dumps(value)} is not allowed: {self.option.help}")
        if self.kind is str and self.option.max_length and len(value) > self.option.max_length:
            raise UserError(f"{self.flag} must be at most {self.option.max_length} characters (got {len(value)})")

    def text(self, value: Any) -> str:
        """`value` as a person types it (the inverse of `parse`)."""
        if value is None:
            return ""
        if self.kind is tuple:
            return ",".join(f"{v:g}" for v in value)
        if self.kind is float:
            return f"{value:g}"
        return str(value)

    def _in_range(self, value: float) -> bool:
        declared = self.option
        return (value == value and (declared.minimum is None or value >= declared.minimum)
                and (declared.maximum is None or value <= declared.maximum)
                and (not declared.positive or value > 0) and (declared.below is None or value < declared.below))

    def _expected(self) -> str:
        """'a whole number of at least 1', '0 (off) or …', 'two numbers, each …' — from the declaration."""
        declared = self.option
        noun = {int: "a whole number", float: "a number", tuple: "two numbers like 0.5,0.999"}.get(self.kind, "text")
        if self.kind is bool:
            return "true or false"
        bounds = []
        if declared.positive:
            noun = "a positive number"
        if declared.minimum is not None and declared.maximum is not None:
            bounds.append(f"from {_number(declared.minimum)} to {_number(declared.maximum)}")
        elif declared.minimum is not None:
            bounds.append(f"of at least {_number(declared.minimum)}")
        elif declared.maximum is not None:
            bounds.append(f"no larger than {_number(declared.maximum)}")
        if declared.below is not None:
            bounds.append(f"below {_number(declared.below)}")
        if self.kind is tuple and bounds:
            bounds = ["each " + " and ".join(bounds).replace("of at least", "at least")]
        text = " ".join([noun, *bounds[:1], *(f"and {b}" for b in bounds[1:])])
        return f"0 ({declared.zero}) or {text}" if declared.zero else text


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_kind(value: Any, kind: type) -> bool:
    if kind is float:
        return _is_number(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _settings() -> dict[str, Setting]:
    hints = typing.get_type_hints(TrainConfig)
    found = {}
    for declared in dataclasses.fields(TrainConfig):
        hint = hints[declared.name]
        args = typing.get_args(hint)
        optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args
        kind = next(a for a in args if a is not type(None)) if optional else hint
        kind = typing.get_origin(kind) or kind  # tuple[float, float] -> tuple
        default = None if declared.default is MISSING else declared.default
        found[declared.name] = Setting(declared.name, kind, optional, default, declared.metadata["option"])
    return found


SETTINGS: dict[str, Setting] = _settings()


# ---- resolving and validating ------------------------------------------------------------------------
def resolve_config(dataset: str | None = None, arch: str | None = None, **options: Any) -> TrainConfig:
    """Fill unset options (None) from the architecture's tutorial and the dataset's facts, then validate.

    Raises UserError naming the first problem. Does not load data: `prepare_run` does that.
    """
    from gantui.engine.data import DATASETS
    from gantui.engine.models import get_arch
    from gantui.engine.models.fit import image_size_for

    unknown = sorted(set(options) - set(SETTINGS))
    if unknown:
        raise UserError(f"unknown option {unknown[0]!r}")
    spec = get_arch(arch or "mlp")
    defaults = spec.defaults
    dataset = dataset or defaults.dataset
    if dataset not in DATASETS:
        validate(defaults.replace(dataset=dataset))  # says which datasets there are
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(given.get("betas"), str):
        given["betas"] = SETTINGS["betas"].parse(given["betas"])
    if "steps" in given and "epochs" not in given:
        given["epochs"] = None
    for name in ("runs_dir", "data"):
        if name in given:
            given[name] = str(given[name])
    given["eval_auto"] = "eval_every" not in given and DATASETS[dataset].eval_every > 0
    given.setdefault("eval_every", DATASETS[dataset].eval_every)
    given["image_size"] = image_size_for(spec, DATASETS[dataset], given.get("image_size"))
    values = {name: getattr(defaults, name) for name in SETTINGS}
    values.update(given, dataset=dataset, arch=spec.name)
    config = TrainConfig(**values)
    validate(config)
    return config


def override(config: TrainConfig, **options: Any) -> TrainConfig:
    """`config` with the options a person gave (None: not given) put over it, validated."""
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(given.get("betas"), str):
        given["betas"] = SETTINGS["betas"].parse(given["betas"])
    if "steps" in given and "epochs" not in given:
        given["epochs"] = None
    if "epochs" in given and "steps" not in given:
        given["steps"] = None
    if "eval_every" in given:  # chosen now: followed exactly
        given["eval_auto"] = False
    changed = config.replace(**given)
    validate(changed)
    return changed


def validate(config: TrainConfig, data_path: bool = True) -> None:
    """Reject nonsense settings with one line saying which option and why (and a missing --data path)."""
    from gantui.engine.data import DATASETS
    from gantui.engine.models import get_arch

    if config.dataset not in DATASETS:
        raise UserError(f"unknown dataset {config.dataset!r}; known: {', '.join(DATASETS)}")
    get_arch(config.arch)
    for setting in SETTINGS.values():
        setting.check(getattr(config, setting.name))
    if config.steps is None and config.epochs is None:
        raise UserError("give --epochs N or --steps N")
    if config.label_smoothing and config.loss not in SMOOTHED_LOSSES:
        raise UserError(f"--label-smoothing sets D's target for real samples, which --loss {config.loss} has none of; "
                        f"use it with --loss {' or '.join(SMOOTHED_LOSSES)}")
    if config.latent == "fixed" and config.latent_dim != 1:
        raise UserError("--latent fixed feeds the constant 0.5 and needs --latent-dim 1")
    if data_path and config.data is not None and not Path(config.data.split(":")[0] if _has_key(config.data)
                                         else config.data).expanduser().exists():
        raise UserError(f"data path not found: {config.data}")


def _has_key(path: str) -> bool:
    """`file.h5:key` names a dataset inside an HDF5 file (but `C:\\...` is a Windows drive)."""
    head, sep, _ = path.rpartition(":")
    return bool(sep) and len(head) > 1 and not Path(path).exists()


def config_to_args(config: TrainConfig) -> list[str]:
    """The `gantui train` options that reproduce `config` (for showing, or starting it elsewhere)."""
    args = []
    for setting in SETTINGS.values():
        value = getattr(config, setting.name)
        if value is None or value is False or not setting.option.cli:
            continue
        if setting.name == "eval_every" and config.eval_auto:  # left to the default: leave it so
            continue
        args += [setting.flag] if value is True else [setting.flag, setting.text(value)]
    return args


def write_config(config: TrainConfig, path: Path) -> Path:
    """`config` as a JSON file that `gantui train --config FILE` reads back."""
    from gantui.engine.atomic import write_json_atomic

    write_json_atomic(Path(path), config.to_dict())
    return Path(path)


def read_config(path: Path) -> TrainConfig:
    """The configuration in a JSON file (a run's config.json, or one the app wrote); UserError if unusable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None
    try:
        return TrainConfig.from_dict(data)
    except UserError as error:
        raise UserError(f"{path}: {error}") from None
