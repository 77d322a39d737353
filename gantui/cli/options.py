"""The training options as command-line flags, made from TrainConfig's declarations (engine/config.py)."""

from __future__ import annotations

import argparse
from typing import Any

from gantui.engine.config import GROUPS, SETTINGS, Setting
from gantui.engine.errors import UserError

RESUME_OPTIONS = ("epochs", "steps", "device")  # what `gantui resume` may change: the new total length, the device


def add_train_options(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None) -> None:
    """Every training option (or those in `only`) as a flag; unset they are None, so the architecture's and
    the data's defaults apply. `--config FILE` comes with the whole set."""
    if only is None:
        groups = {key: parser.add_argument_group(title) for key, title in GROUPS.items()}
    else:  # a resumed run keeps its own values: one group, no defaults to tell
        group = parser.add_argument_group("what to change (unset: as the run had it)")
        groups = dict.fromkeys(GROUPS, group)
    length = groups["hyper"].add_mutually_exclusive_group()
    for setting in SETTINGS.values():
        declared = setting.option
        if not declared.cli or (only is not None and setting.name not in only):
            continue
        target = length if declared.length else groups[declared.group]
        names = [setting.flag, *([declared.short] if declared.short else [])]
        if setting.kind is bool:
            target.add_argument(*names, action="store_true", default=None, help=_help(setting, only is None))
            continue
        target.add_argument(*names, type=_parser(setting), default=None, help=_help(setting, only is None),
                            choices=declared.choices or None, metavar=_metavar(setting))
    if only is not None:
        return
    parser.add_argument("--config", metavar="FILE",
                        help="start from this configuration (a run's config.json); flags given override it")


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The training options on the command line, by TrainConfig field (None: not given)."""
    return {name: getattr(args, name, None) for name in SETTINGS if name not in ("dataset", "arch")}


def _parser(setting: Setting):
    def parse(text: str) -> Any:
        try:
            return setting.parse(text)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = setting.kind.__name__  # argparse names the type in its messages
    return parse


def _metavar(setting: Setting) -> str | None:
    if setting.option.choices:
        return None
    return setting.option.metavar or ("N" if setting.kind is int else "X" if setting.kind is float else None)


def _help(setting: Setting, with_default: bool = True) -> str:
    declared = setting.option
    text = declared.help
    if not with_default:
        pass
    elif declared.tutorial:
        text += "; default: the architecture's"
    elif setting.default is not None and setting.default is not False and "default" not in text:
        text += f"; default {setting.text(setting.default)}"
    return text.replace("%", "%%")
