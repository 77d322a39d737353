"""The training options as command-line flags, made from TrainConfig's declarations (engine/config.py)."""

from __future__ import annotations

import argparse
from typing import Any

from gantui.engine.config import GROUPS, SETTINGS, Setting
from gantui.engine.errors import UserError


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """Every training option as a flag (unset: None, so the architecture's and the data's defaults apply)."""
    groups = {key: parser.add_argument_group(title) for key, title in GROUPS.items()}
    length = groups["hyper"].add_mutually_exclusive_group()
    for setting in SETTINGS.values():
        declared = setting.option
        if not declared.cli:
            continue
        target = length if declared.length else groups[declared.group]
        names = [setting.flag, *([declared.short] if declared.short else [])]
        if setting.kind is bool:
            target.add_argument(*names, action="store_true", default=None, help=_help(setting))
            continue
        target.add_argument(*names, type=_parser(setting), default=None, help=_help(setting),
                            choices=declared.choices or None, metavar=_metavar(setting))
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


def _help(setting: Setting) -> str:
    declared = setting.option
    text = declared.help
    if declared.tutorial:
        text += "; default: the architecture's"
    elif setting.default is not None and setting.default is not False and "default" not in text:
        text += f"; default {setting.text(setting.default)}"
    return text.replace("%", "%%")
