"""The launcher: choose data and architecture from menus, adjust the tutorial defaults, preview the real
data, start a run.

The engine's registries import torch, so they load in a worker thread (`CatalogLoaded`); loading a
dataset for the preview and building each compatible architecture to count its parameters happen in
another (`PreviewLoaded`). The screen itself never waits on either.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from gantui.app.format import short_count
from gantui.app.launch import check_processes, offers_processes
from gantui.app.messages import ArchRow, Catalog, CatalogLoaded, PreviewLoaded
from gantui.app.screens.help import HelpScreen
from gantui.app.screens.run_picker import RunPickerScreen
from gantui.app.widgets.fitting_footer import FittingFooter
from gantui.app.widgets.option_field import field_row, option_widget, read_value, show_value
from gantui.app.widgets.sample_view import SampleView
from gantui.app.widgets.too_small import TooSmall
from gantui.engine.config import SETTINGS, TrainConfig
from gantui.engine.errors import UserError
from gantui.engine.places import LocalPlace, RunPlace, open_places
from gantui.engine.preview import PREVIEW_COUNT, DataPreview, load_preview  # noqa: F401 (tests read them here)

DEFAULT_DATASET = "mnist"
TYPING_PAUSE_S = 0.3  # wait this long after a keystroke before loading a typed data path or image size
# The form's sections: the training options with a launcher label, in this order (engine/config.py declares them).
TRAINING_FIELDS = ("loss", "label_smoothing", "optimizer", "lr", "lr_d", "betas", "batch_size", "length",
                   "latent_dim", "latent", "seed", "amp", "compile")
SCHEDULE_FIELDS = ("device", "log_every", "sample_every", "checkpoint_every", "eval_every", "sample_count", "name")
AUTO = "auto"
MIN_SIZE = (64, 16)  # columns, rows below which the form's fields and the preview are cut to nothing

HELP_LINES = [
    ("F5 / ctrl+r", "start training with these settings"),
    ("ctrl+o", "open an existing run (live or finished)"),
    ("tab / shift+tab", "next / previous field"),
    ("enter", "open a menu; choose in it"),
    ("↑ ↓", "choose the architecture in its list"),
    ("F1", "this help"),
    ("ctrl+p", "command palette"),
    ("ctrl+q", "quit"),
    ("escape", "back to the runs list"),
]
HELP_NOTES = (
    "Choosing an architecture fills the training settings with its tutorial's values. Only the "
    "architectures that can train on the chosen data can be picked; the others say what they need.\n"
    "The run starts as a `gantui train` process of its own, so it keeps training when this app quits."
)


class LauncherScreen(Screen):
    """Menus for a new run, a preview of its data, and a key to start it."""

    ACTION_HELP = {
        "start_run": "start training with these settings",
        "open_run": "open the dashboard of an existing run, live or finished",
        "help": "the launcher's keys",
        "app.quit": "quit (asks whether to leave a live run running or stop it)",
    }
    BINDINGS = [
        Binding("f5", "start_run", "Start", priority=True),
        Binding("ctrl+r", "start_run", "Start", show=False, priority=True),
        Binding("ctrl+o", "open_run", "Open run", priority=True),
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
        Binding("escape", "back", "Runs", show=False),
    ]

    def __init__(self, runs_dirs: list[Path | RunPlace]) -> None:
        super().__init__()
        self.places = open_places(list(runs_dirs))  # where a run can start: here, or HOST:PATH through its agent
        self.runs_dirs = [place.folder for place in self.places if isinstance(place, LocalPlace)] or [
            Path(SETTINGS["runs_dir"].default)]
        self.place: RunPlace = self.places[0]
        self.catalog: Catalog | None = None
        self.offered_devices: list[str] = []  # the device choices offered (their names), once known
        self.preview: DataPreview | None = None
        self.arch: str | None = None

    # ---- layout -----------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TooSmall("launcher", MIN_SIZE, quit_key="ctrl+q")
        with Horizontal(id="launcher-body"):
            with VerticalScroll(id="form", classes="pane") as form:
                form.border_title = "New run"
                form.border_subtitle = "F5 starts · F1 help"
                yield Static("Data", classes="section")
                yield field_row("dataset", Select([], prompt="loading…", id="dataset", compact=True,
                                                  allow_blank=True))
                yield Static("", id="dataset-info", classes="hint")
                yield field_row("data path", Input(placeholder="", id="data", compact=True))
                yield Static("", id="data-reason", classes="hint")
                yield field_row("download", option_widget(SETTINGS["download"]))
                yield field_row("image size", option_widget(SETTINGS["image_size"], placeholder=AUTO))
                yield Static("Architecture", classes="section")
                yield OptionList(Option("loading…", disabled=True), id="arch")
                yield Static("Training", classes="section")
                yield from self._fields(TRAINING_FIELDS)
                yield Static("Where and how often", classes="section")
                yield field_row("place", Select([(str(place), index) for index, place in enumerate(self.places)],
                                                value=0, id="place", compact=True, allow_blank=False), id="place-row")
                yield from self._fields(SCHEDULE_FIELDS)
                with Horizontal(id="start-row"):
                    yield Button("Start ▶", id="start", variant="success")
                    yield Static("F5 / ctrl+r", markup=False)
            with Vertical(id="launcher-side"):
                yield SampleView(self.app.graphics, title="Real data", id="preview",  # type: ignore[attr-defined]
                                 classes="pane")
                info = Static("", id="arch-info", classes="pane")
                info.border_title = "Architecture"
                yield info
        yield FittingFooter()

    def _fields(self, names: tuple[str, ...]) -> ComposeResult:
        """One row per option, made from its declaration; the run's length is one row for epochs or steps."""
        defaults = TrainConfig(dataset="", arch="")
        for name in names:
            if name == "length":
                yield field_row("length", Select([("epochs", "epochs"), ("steps", "steps")], value="epochs",
                                                 id="length_kind", compact=True, allow_blank=False),
                                Input("1", id="length", type="integer", compact=True), id="length-row")
                continue
            setting = SETTINGS[name]
            choices = [("auto  the best available", AUTO)] if name == "device" else None
            placeholder = {"name": "optional", "lr_d": "= learning rate"}.get(name, AUTO)
            yield field_row(setting.option.label, option_widget(setting, getattr(defaults, name), choices,
                                                                placeholder))
            if name == "device":  # several GPUs, or the CPU chosen: torchrun's processes (hidden otherwise)
                yield field_row("processes", Input("1", id="nproc", type="integer", compact=True,
                                                   tooltip="processes of one DDP run (gantui train --nproc N)"),
                                id="nproc-row")

    def on_resize(self) -> None:
        self.query_one(TooSmall).fit(self.size)

    def on_mount(self) -> None:
        self.query_one("#nproc-row").display = False
        self.query_one(TooSmall).fit(self.size)
        self.query_one("#place-row").display = len(self.places) > 1  # one place: nothing to choose
        self.query_one("#preview", SampleView).show_message("loading the data sets…")
        self._load_catalog()

    # ---- the engine's registries (torch) load in a thread ------------------------------------------------
    @work(thread=True, exclusive=True, group="catalog", exit_on_error=False)
    def _load_catalog(self) -> None:
        try:
            catalog = load_catalog()
        except Exception as error:  # a broken install: say what, rather than "loading…" forever
            self.app.call_from_thread(self.notify, f"cannot load the engine: {error}", severity="error",
                                      timeout=30)
            return
        self.post_message(CatalogLoaded(catalog))

    @on(CatalogLoaded)
    async def _catalog_loaded(self, message: CatalogLoaded) -> None:
        catalog = self.catalog = message.catalog
        # a menu of the data sets alone: the `loading…` menu had a blank entry, which stays choosable
        loading = self.query_one("#dataset", Select)
        row = loading.parent
        first = DEFAULT_DATASET if DEFAULT_DATASET in catalog.datasets else next(iter(catalog.datasets))
        datasets = Select([(name, name) for name in catalog.datasets], value=first, id="dataset", compact=True,
                          allow_blank=False)
        await loading.remove()
        await row.mount(datasets)
        self._offer_devices(catalog.devices)
        datasets.focus()
        self._dataset_changed()

    @property
    def device(self) -> str:
        value = self.query_one("#device", Select).value
        return value if isinstance(value, str) else AUTO

    @on(Select.Changed, "#device")
    def _device_changed(self) -> None:
        self.query_one("#nproc-row").display = offers_processes(self.offered_devices, self.device)

    def read_processes(self) -> int:
        """How many processes the form asks for: 1 while the field is hidden; UserError when out of range."""
        if not self.query_one("#nproc-row").display or self.catalog is None:
            return 1
        text = self.query_one("#nproc", Input).value.strip()
        try:
            processes = int(text or "1")
        except ValueError:
            raise UserError(f"processes: {text!r} is not a whole number") from None
        # the cores of this machine: a remote host checks its own again when it starts the run
        check_processes(processes, self.offered_devices, self.device, os.cpu_count() or 1)
        return processes

    def _offer_devices(self, devices: list[tuple[str, str]]) -> None:
        self.offered_devices = [name for name, _ in devices]  # the chosen place's: here, or a remote host's
        device = self.query_one("#device", Select)
        device.set_options([("auto  the best available", AUTO)] + [(label, name) for name, label in devices])
        device.value = AUTO
        self._device_changed()

    # ---- where: a place here or on another host (its devices come from there) ---------------------------------
    @on(Select.Changed, "#place")
    def _place_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, int):
            return
        self.place = self.places[event.value]
        self._data_changed()  # the data path is checked where the run would start
        if self.place.host is None:
            if self.catalog is not None:
                self._offer_devices(self.catalog.devices)
            return
        self._load_remote_devices(self.place)

    @work(thread=True, exclusive=True, group="remote-devices", exit_on_error=False)
    def _load_remote_devices(self, place: RunPlace) -> None:
        try:
            devices = place.device_options() or []
        except Exception as error:  # unreachable: say so; starting there will say it again
            self.app.call_from_thread(self.notify, f"{place}: {error}", severity="error", timeout=8)
            return
        self.app.call_from_thread(self._remote_devices, place, devices)

    def _remote_devices(self, place: RunPlace, devices: list[tuple[str, str]]) -> None:
        if place is self.place:
            self._offer_devices(devices)

    # ---- data: path check as you type, preview in a thread ------------------------------------------------
    @property
    def dataset(self) -> str | None:
        value = self.query_one("#dataset", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#dataset")
    def _dataset_changed(self) -> None:
        if self.catalog is None or self.dataset is None:
            return
        spec = self.catalog.datasets[self.dataset]
        self.query_one("#dataset-info", Static).update(Content(spec.description))
        data = self.query_one("#data", Input)
        data.placeholder = ("required: " if spec.needs_path else "optional: ") + "file or folder" \
            if spec.takes_path else "none needed (generated)"
        data.disabled = not spec.takes_path
        if not spec.takes_path:
            data.value = ""
        download = self.query_one("#download", Checkbox)
        download.disabled = not spec.downloadable
        if download.disabled:
            download.value = False
        size = self.query_one("#image_size", Input)
        size.disabled = spec.kind != "image"
        if size.disabled:
            size.value = ""
        # left blank, the least interval: evaluations are spaced to stay within 10% of the time (quality/schedule.py)
        least = f"{spec.eval_every}+" if spec.eval_every else "off"
        self.query_one("#eval_every", Input).placeholder = f"{AUTO}: {least}"
        self._data_changed()

    @property
    def image_size(self) -> int | None:
        """The image size typed in the form (None: blank or not a number yet, the architecture's applies)."""
        text = self.query_one("#image_size", Input).value.strip()
        return int(text) if text.isdigit() and int(text) > 0 else None

    @property
    def download(self) -> bool:
        return bool(self.query_one("#download", Checkbox).value)

    @on(Input.Changed, "#data")
    @on(Input.Changed, "#image_size")
    @on(Checkbox.Changed, "#download")
    def _data_changed(self) -> None:
        if self.catalog is None or self.dataset is None:
            return
        path = self.query_one("#data", Input).value.strip() or None
        if self.place.host is None:
            from gantui.engine.data import validate_data_path

            self._show_reason(validate_data_path(self.dataset, path, self.download))
            return
        # the data is the host's: its agent checks the path (and makes the preview), in a thread
        self.preview = None
        self._show_reason(None, f"checking on {self.place.host}…")
        self._show_archs((), forget=False)
        self.query_one("#preview", SampleView).show_message(f"checking the data on {self.place.host}…")
        self._check_on_host(self.place, self._preview_key(self.place))

    def _preview_key(self, place: RunPlace) -> tuple[str, str | None, int | None, bool, str]:
        """What the form asks to preview now, and where (`DataPreview.key`)."""
        path = self.query_one("#data", Input).value.strip() or None
        return (self.dataset or "", path, self.image_size, self.download, place.label if place.host else "")

    def _show_reason(self, reason: str | None, pending: str | None = None) -> None:
        """The data path's check: ✗ why not (and no preview), ✓ usable (and its preview), or still `pending`."""
        path = self.query_one("#data", Input).value.strip() or None
        label = self.query_one("#data-reason", Static)
        label.set_class(reason is not None, "-problem")
        where = f" on {self.place.host}" if self.place.host else ""
        label.update(Content(pending or (f"✗ {reason}" if reason else (f"✓ usable{where}" if path else ""))))
        label.display = bool(reason or path or pending)
        if pending:
            return
        if reason is None:
            assert self.dataset is not None
            self._start_preview(self.place, self.dataset, path, self.image_size, self.download)
        else:  # forget the last preview: the same data chosen again must load again, and F5 start nothing
            self.preview = None
            self._show_archs((), "no architecture: the data cannot be used")
            self.query_one("#preview", SampleView).show_message(reason)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _check_on_host(self, place: RunPlace, key: tuple[str, str | None, int | None, bool, str]) -> None:
        dataset, path, _size, download, _where = key
        if path is not None:
            time.sleep(TYPING_PAUSE_S)  # the user may still be typing: one request for the path typed
            if get_current_worker().is_cancelled:
                return
        reason = place.check_data(dataset, path, download)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._checked_on_host, place, key, reason)

    def _checked_on_host(self, place: RunPlace, key: tuple, reason: str | None) -> None:
        if place is self.place and key == self._preview_key(place):  # else an answer to an older question
            self._show_reason(reason)

    def _start_preview(self, place: RunPlace, dataset: str, path: str | None, image_size: int | None,
                       download: bool) -> None:
        if self.preview is not None and self.preview.key == self._preview_key(place):
            return
        self.preview = None
        where = f" on {place.host}" if place.host else ""
        self.query_one("#preview", SampleView).show_message(f"loading {dataset}{where}…")
        self._show_archs((), forget=place.host is None)
        self._load_preview(place, dataset, path, image_size, download)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _load_preview(self, place: RunPlace, dataset: str, path: str | None, image_size: int | None,
                      download: bool) -> None:
        if place.host is None and (path is not None or image_size is not None):
            time.sleep(TYPING_PAUSE_S)  # the user may still be typing (a host's check waited already)
            if get_current_worker().is_cancelled:
                return
        self.post_message(PreviewLoaded(place.preview_data(dataset, path, image_size, download)))

    @on(PreviewLoaded)
    def _preview_loaded(self, message: PreviewLoaded) -> None:
        preview = message.preview
        if preview.key != self._preview_key(self.place):
            return  # an answer to an older question
        self.preview = preview
        view = self.query_one("#preview", SampleView)
        view.set_caption(preview.summary)
        if preview.error:
            view.show_message(preview.error)
        elif preview.picture is not None:
            view.show_picture(preview.picture)
        else:
            view.show_values(preview.dataset, None, preview.vectors)
        self._show_archs(preview.archs, "no architecture: the data cannot be used")

    # ---- architectures ------------------------------------------------------------------------------------
    def _show_archs(self, rows: tuple[ArchRow, ...], empty: str = "waiting for the data…",
                    forget: bool = True) -> None:
        """The architecture menu for `rows`; none yet and not `forget`: the choice (and the form) stays for the
        same data read elsewhere (another place's check and preview)."""
        menu = self.query_one("#arch", OptionList)
        if not rows:
            menu.set_options([Option(empty, disabled=True)])
            if forget:
                self._choose_arch(None)
            return
        menu.set_options([Option(_arch_prompt(row), id=row.name, disabled=row.problem is not None) for row in rows])
        usable = [row.name for row in rows if row.problem is None]
        keep = self.arch if self.arch in usable else (usable[0] if usable else None)
        if keep is not None:
            menu.highlighted = menu.get_option_index(keep)
        self._choose_arch(keep)

    @on(OptionList.OptionHighlighted, "#arch")
    def _arch_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._choose_arch(event.option.id)

    def _choose_arch(self, name: str | None) -> None:
        changed = name != self.arch
        self.arch = name
        info = self.query_one("#arch-info", Static)
        if name is None or self.catalog is None:
            info.update("no architecture fits this data" if self.preview else "")
            return
        row = next((r for r in self.preview.archs if r.name == name), None) if self.preview else None
        params = f"G {short_count(row.params_g)} · D {short_count(row.params_d)} parameters\n" if row else ""
        info.update(Content(f"{name}: {self.catalog.archs[name].description}\n{params}"))
        size = row.image_size if row else None
        self.query_one("#image_size", Input).placeholder = f"{AUTO}: {size}×{size}" if size else AUTO
        if changed:
            self._apply_defaults(self.catalog.archs[name].defaults)

    def _apply_defaults(self, defaults: TrainConfig) -> None:
        """The tutorial's values for the chosen architecture, in every option its tutorial sets."""
        for setting in SETTINGS.values():
            if setting.option.tutorial and setting.option.label:
                show_value(self.query_one(f"#{setting.name}"), setting, getattr(defaults, setting.name))
        self.query_one("#length_kind", Select).value = "epochs"
        self.query_one("#length", Input).value = str(defaults.epochs)

    # ---- starting --------------------------------------------------------------------------------------
    def read_config(self) -> TrainConfig:
        """The TrainConfig the form describes; UserError (one line) naming the first bad field."""
        from gantui.engine.config import resolve_config

        if self.catalog is None or self.dataset is None:
            raise UserError("the data sets are still loading")
        reason = self.query_one("#data-reason", Static)
        if reason.has_class("-problem"):
            raise UserError(str(reason.render()).removeprefix("✗ "))
        if self.preview is None:
            raise UserError("the data is still loading")
        if self.preview.error:
            raise UserError(self.preview.error)
        if self.arch is None:
            raise UserError("choose an architecture that fits the data (the list says what each needs)")
        options: dict[str, Any] = {"data": self.query_one("#data", Input).value.strip() or None,
                                   "runs_dir": str(self.runs_dirs[0] if self.place.host is None else self.place)}
        for name in ("download", "image_size", *TRAINING_FIELDS, *SCHEDULE_FIELDS):
            if name == "length":
                name = str(self.query_one("#length_kind", Select).value)
                setting, widget = SETTINGS[name], self.query_one("#length", Input)
            else:
                setting, widget = SETTINGS[name], self.query_one(f"#{name}")
            try:
                options[name] = read_value(widget, setting)
            except UserError as error:
                raise UserError(f"{setting.option.label or name}: {error}") from None
        return resolve_config(self.dataset, self.arch, **options)

    def action_start_run(self) -> None:
        try:
            config = self.read_config()
            processes = self.read_processes()
        except UserError as error:
            self.notify(str(error), title="Cannot start", severity="error", timeout=8)
            return
        try:
            self.app.start_run(config, processes, self.place)  # type: ignore[attr-defined]
        except UserError as error:
            self.notify(str(error), title="Cannot start", severity="error", timeout=8)
        except OSError as error:
            self.notify(f"cannot start gantui train: {error}", severity="error", timeout=8)

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start_run()

    def action_open_run(self) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self.app.open_run(path)  # type: ignore[attr-defined]

        self.app.push_screen(RunPickerScreen(self.runs_dirs), chosen)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen("Launcher keys", HELP_LINES, HELP_NOTES))

    def action_back(self) -> None:
        """Back to the runs list underneath."""
        from gantui.app.screens.runs import RunsScreen

        if len(self.app.screen_stack) > 1 and isinstance(self.app.screen_stack[-2], RunsScreen):
            self.app.pop_screen()


def _arch_prompt(row: ArchRow) -> Content:
    if row.problem is not None:
        return Content.assemble((f"{row.name:<12}", "dim"), (f"✗ {row.problem}", "dim"))
    counts = f"G {short_count(row.params_g)} · D {short_count(row.params_d)}"
    resized = f"at {row.image_size}×{row.image_size} " if row.image_size else ""
    return Content.assemble((f"{row.name:<12}", "bold"), f"{counts:<18}", (resized + row.description, "dim"))


# ---- the workers' jobs (threads: they import torch, load data, build models) -------------------------------------
def load_catalog() -> Catalog:
    """What the menus offer, from the engine's registries."""
    from gantui.engine.data import DATASETS
    from gantui.engine.devices import available_devices
    from gantui.engine.models import ARCHS

    return Catalog(datasets=dict(DATASETS), archs=dict(ARCHS),
                   devices=[(device.name, device.label) for device in available_devices()])
