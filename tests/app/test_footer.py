"""Footers and help: at 60 and 80 columns every key shown in a footer is whole (nothing cut beside the
palette key), and every key of a screen is in its `?` help and the command palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXED_TIME
from textual.widgets._footer import FooterKey

from gantui.app.app import GanApp
from gantui.app.screens.compare import CompareScreen
from gantui.app.screens.dashboard import DashboardScreen
from gantui.app.screens.help import HelpScreen
from gantui.app.screens.runs import RunsScreen
from gantui.app.widgets.fitting_footer import FittingFooter


def _apps(runs_dir: Path, image_run: Path, pattern_run: Path) -> dict[str, tuple[GanApp, type]]:
    options = {"graphics": "ascii", "poll_interval": 0.05, "probe_host": False, "clock": lambda: FIXED_TIME}
    return {"dashboard": (GanApp([runs_dir], watch=image_run, **options), DashboardScreen),
            "runs": (GanApp([runs_dir], **options), RunsScreen),
            "compare": (GanApp([runs_dir], compare=[image_run, pattern_run], **options), CompareScreen)}


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("which", ["dashboard", "runs", "compare"])
async def test_footer_keys_are_whole_and_every_key_is_in_help_and_palette(runs_dir, image_run, pattern_run,
                                                                          wait_until, which, width) -> None:
    app, kind = _apps(runs_dir, image_run, pattern_run)[which]
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, kind), what=f"the {which} screen")
        screen = app.screen
        footer = screen.query_one(FittingFooter)

        def whole() -> bool:
            keys = list(footer.query(FooterKey))
            palette = [key for key in keys if key.has_class("-command-palette")]
            shown = [key for key in keys if key.display and key not in palette]
            return (bool(palette) and len(shown) >= 3 and all(key.region.right <= palette[0].region.x
                                                              for key in shown)
                    and palette[0].region.right <= width)

        await wait_until(pilot, whole, what="only whole keys beside the palette key")
        shown = {key.action for key in footer.query(FooterKey) if key.display}
        assert "help" in shown  # what is not in the footer is one key away
        palette = " ".join(command.title for command in app.get_system_commands(screen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        help_text = " ".join(text for _, text in app.screen.lines)
        for binding in screen.BINDINGS:
            if binding.action == "back":
                continue
            assert screen.ACTION_HELP.get(binding.action, "?") in help_text or binding.description in help_text, \
                binding
            assert binding.description in palette, binding
