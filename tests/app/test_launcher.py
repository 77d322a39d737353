"""The launcher without training: the data path checked as you type, refusals, opening a run, help."""

from __future__ import annotations

from pathlib import Path

from gantui.app.app import GanApp
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.help import HelpScreen
from gantui.app.screens.launcher import LauncherScreen
from gantui.app.screens.run_picker import RunPickerScreen
from gantui.app.screens.runs import RunsScreen
from gantui.app.widgets.sample_view import SampleView
from gantui.app.widgets.toy_chart import ToyChart


def _app(runs_dir: Path) -> GanApp:
    return GanApp([runs_dir], graphics="ascii", train_mode="thread", poll_interval=0.05, probe_host=False)


async def _menus(pilot, wait_until) -> LauncherScreen:
    screen = pilot.app.screen
    assert isinstance(screen, LauncherScreen)
    await wait_until(pilot, lambda: screen.catalog is not None and screen.preview is not None, what="the menus")
    return screen


async def test_the_data_path_is_checked_as_you_type(runs_dir: Path, wait_until) -> None:
    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        await pilot.press("enter", *"imagefolder", "enter")
        assert screen.dataset == "imagefolder"
        reason = screen.query_one("#data-reason")
        assert reason.has_class("-problem") and "needs --data" in str(reason.render())
        await pilot.press("tab", *"nowhere")  # relative to the working directory, which has none
        assert reason.has_class("-problem") and "nowhere" in str(reason.render())
        await pilot.press("f5")
        assert isinstance(pilot.app.screen, LauncherScreen)  # refused, with the reason as a notification
        await wait_until(pilot, lambda: any("nowhere" in str(n.message) for n in pilot.app._notifications),
                         what="the refusal's notification")
        assert not any(runs_dir.iterdir())


async def test_toy_data_previews_as_a_chart(runs_dir: Path, wait_until) -> None:
    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        await pilot.press("enter", *"quadratic", "enter")
        await wait_until(pilot, lambda: screen.preview.dataset == "quadratic", what="the quadratic preview")
        view = screen.query_one("#preview", SampleView)
        assert view.values is not None and view.query_one(ToyChart).display
        assert screen.arch == "curve-mlp"  # the only architecture that fits
        assert screen.query_one("#loss").value == "bce"  # the tutorial's defaults came with it


async def test_open_an_existing_run_and_go_back(runs_dir: Path, image_run: Path, wait_until) -> None:
    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        assert isinstance(pilot.app.screen, RunsScreen)  # with runs, the app opens on their list
        await pilot.press("n")
        await _menus(pilot, wait_until)
        await pilot.press("f1")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape", "ctrl+o")
        assert isinstance(pilot.app.screen, RunPickerScreen)
        await pilot.press("enter")
        dashboard = pilot.app.screen
        assert isinstance(dashboard, DashboardScreen) and dashboard.path == image_run
        await wait_until(pilot, lambda: dashboard.poll is not None, what="the run")
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, LauncherScreen)
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, RunsScreen)


async def test_a_good_dataset_after_an_unusable_one_loads(runs_dir: Path, wait_until) -> None:
    """cifar10 without its files, then a bad path, then mnist: mnist's preview and architectures come back,
    and while the data is unusable F5 starts nothing."""
    from textual.widgets import OptionList

    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        assert screen.dataset == "mnist" and screen.arch is not None
        await pilot.press("enter", *"cifar10", "enter")
        assert screen.dataset == "cifar10" and screen.arch is None  # no files, no --download
        assert screen.query_one("#data-reason").has_class("-problem")
        await pilot.press("f5")
        await wait_until(pilot, lambda: any("Cannot start" in str(n.title) for n in pilot.app._notifications),
                         what="the refusal")
        await pilot.press("enter", *"mnist", "enter")  # the data shown before cifar10: loaded again
        await wait_until(pilot, lambda: screen.preview is not None and screen.preview.dataset == "mnist"
                         and screen.arch is not None, what="mnist loaded again after cifar10")
        await pilot.press("enter", *"imagefolder", "enter", "tab", *"nowhere")
        assert screen.arch is None and screen.query_one("#data-reason").has_class("-problem")
        await pilot.press(*["backspace"] * len("nowhere"), "shift+tab", "enter", *"mnist", "enter")
        assert screen.dataset == "mnist"
        await wait_until(pilot, lambda: screen.preview is not None and screen.preview.dataset == "mnist"
                         and screen.arch is not None, what="mnist loaded again after a bad path")
        menu = screen.query_one("#arch", OptionList)
        assert menu.option_count > 1 and "waiting" not in str(menu.get_option_at_index(0).prompt)
        assert not any(runs_dir.iterdir())


async def test_the_dataset_menu_offers_only_datasets(runs_dir: Path, wait_until) -> None:
    from textual.widgets import Select

    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        menu = screen.query_one("#dataset", Select)
        values = [value for _, value in menu._options]
        assert values == list(screen.catalog.datasets)  # no blank `loading…` entry to choose


async def test_the_focused_field_stands_out(runs_dir: Path, wait_until) -> None:
    from textual.widgets import Label

    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        rows = list(screen.query(".field"))
        labels = [row.query_one(Label) for row in rows]
        await pilot.press("tab")  # from the dataset menu to the data path
        focused = next(row for row in rows if pilot.app.focused in row.walk_children())
        others = [row for row in rows if row is not focused]
        accent = pilot.app.theme_variables["accent"]
        label = focused.query_one(Label)
        assert label.styles.color.hex.lower().startswith(accent.lower()[:7]) and label.styles.text_style.bold
        assert all(row.styles.background != focused.styles.background for row in others)
        assert all(not other.styles.text_style.bold for other in labels if other is not label)


async def test_the_launcher_says_when_the_terminal_is_too_small(runs_dir: Path, wait_until) -> None:
    from gantui.app.widgets.too_small import TooSmall

    async with _app(runs_dir).run_test(size=(40, 12)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, LauncherScreen)
        too_small = screen.query_one(TooSmall)
        await wait_until(pilot, lambda: too_small.display, what="the too-small note")
        assert "launcher needs at least 64×16; this terminal is 40×12 (ctrl+q quits)" in str(too_small.render())
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: not too_small.display and screen.query_one("#form").display,
                         what="the form back at 120×40")


async def test_download_can_be_asked_for_in_the_launcher(runs_dir: Path, wait_until, monkeypatch) -> None:
    """cifar10 says it needs --data or --download: ticking download clears that and loads it (a stand-in here:
    nothing is fetched in tests)."""
    import numpy as np
    import torchvision.datasets

    class FakeCifar:
        def __init__(self, root: str, train: bool = True, download: bool = False) -> None:
            assert download, "only a download was asked for"
            self.data = np.random.default_rng(0).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
            self.targets = [index % 10 for index in range(12)]
            self.classes = [f"class {index}" for index in range(10)]

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCifar)
    monkeypatch.setenv("GANTUI_DATASETS_DIR", str(runs_dir.parent / "datasets"))
    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        await pilot.press("enter", *"cifar10", "enter")
        reason = screen.query_one("#data-reason")
        await wait_until(pilot, lambda: "--download" in str(reason.render()), what="the need for data")
        download = screen.query_one("#download")
        assert not download.disabled
        for _ in range(10):
            if screen.focused is download:
                break
            await pilot.press("tab")
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.preview is not None and screen.preview.download
                         and screen.preview.error is None and screen.arch is not None, what="the fetched preview")
        assert not reason.has_class("-problem")
        assert screen.read_config().download is True


async def test_the_discriminator_wins_remedies_can_be_set_in_the_launcher(runs_dir: Path, wait_until) -> None:
    """The alarm's advice names --lr-d and --label-smoothing: the form has both, typed like any field."""
    async with _app(runs_dir).run_test(size=(120, 40)) as pilot:
        screen = await _menus(pilot, wait_until)
        assert screen.read_config().lr_d is None and screen.read_config().label_smoothing == 0.0
        for name, text in (("lr_d", "5e-5"), ("label_smoothing", "0.1")):
            field = screen.query_one(f"#{name}")
            for _ in range(30):
                if screen.focused is field:
                    break
                await pilot.press("tab")
            assert screen.focused is field
            await pilot.press("end", *["backspace"] * 4, *text)
        config = screen.read_config()
        assert (config.lr_d, config.label_smoothing) == (5e-5, 0.1)
