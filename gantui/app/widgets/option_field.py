"""A training option (engine/config.py's declaration) as a launcher field: made, filled and read back the same
way for every option, so the form, the CLI and config.json cannot disagree on one."""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from gantui.engine.config import Setting

BETAS_CHARACTERS = r"[0-9., ]*"


def field_row(label: str, *widgets: Widget, id: str | None = None) -> Horizontal:
    """A labelled row of the form."""
    return Horizontal(Label(label, classes="field-label"), *widgets, classes="field", id=id)


def option_widget(setting: Setting, value: Any = None, choices: list[tuple[str, str]] | None = None,
                  placeholder: str = "") -> Widget:
    """The widget that edits `setting`: a menu for choices, a checkbox for a switch, else a typed input."""
    declared = setting.option
    if choices is not None or declared.choices:
        options = choices if choices is not None else [(name, name) for name in declared.choices]
        return Select(options, value=value if value is not None else options[0][1], id=setting.name,
                      compact=True, allow_blank=False)
    if setting.kind is bool:
        return Checkbox("", bool(value), id=setting.name, compact=True, tooltip=declared.help)
    kind = {int: "integer", float: "number"}.get(setting.kind, "text")
    restrict = BETAS_CHARACTERS if setting.kind is tuple else (declared.pattern or None)
    if restrict is not None and declared.pattern:
        restrict = f"({restrict})?"  # an empty field is allowed while typing
    return Input(setting.text(value), id=setting.name, type=kind, compact=True, restrict=restrict,
                 placeholder=placeholder)


def show_value(widget: Widget, setting: Setting, value: Any) -> None:
    """Put `value` into the field (the inverse of `read_value`)."""
    if isinstance(widget, Select):
        widget.value = value
    elif isinstance(widget, Checkbox):
        widget.value = bool(value)
    elif isinstance(widget, Input):
        widget.value = setting.text(value)


def read_value(widget: Widget, setting: Setting) -> Any:
    """The field's value (None when left blank: the default applies); UserError naming a bad entry."""
    if isinstance(widget, Select):
        return widget.value if isinstance(widget.value, str) else None
    if isinstance(widget, Checkbox):
        return widget.value
    text = widget.value.strip() if isinstance(widget, Input) else ""
    return setting.parse(text) if text else None
