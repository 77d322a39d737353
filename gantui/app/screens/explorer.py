"""The latent explorer: a run's generator on two seeds, the interpolation between them, seed arithmetic
(a + b, a − b) and, for conditional models, one latent rendered as every class.

The generator (its last checkpoint) is loaded and run in a worker thread, which posts `ExplorerRendered`
with plain uint8 pictures; torch is imported there, never when this module is.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from gantui.app.messages import ExplorerRendered
from gantui.app.screens.help import HelpScreen
from gantui.app.widgets.sample_view import SampleView
from gantui.app.widgets.too_small import TooSmall
from gantui.engine.grid import GridLayout
from gantui.engine.places import place_of

MIN_SIZE = (50, 16)  # columns, rows below which the strips are empty boxes: TooSmall says so instead
STEPS_CHOICES = (4, 6, 8, 10, 12, 16)
STRIPS = (("interpolation", "Interpolation a → b"), ("arithmetic", "a · b · a + b · a − b"),
          ("classes", "Seed a as every class"))


class ExplorerScreen(Screen):
    """Seeds a and b of one run's generator, and what lies between and around them."""

    ACTION_HELP = {
        "reroll_a": "a new seed a", "reroll_b": "a new seed b", "swap": "swap seeds a and b",
        "fewer": "fewer interpolation steps", "more": "more interpolation steps",
        "label": "conditional models: render as this class (digit keys)",
        "save": "save every strip shown as PNG (in the run folder's exports/) and say where",
        "help": "this list", "back": "back",
    }
    BINDINGS = [
        Binding("a", "reroll_a", "Re-roll a"),
        Binding("b", "reroll_b", "Re-roll b"),
        Binding("tab", "swap", "Swap", show=False),
        Binding("left_square_bracket", "fewer", "Fewer", key_display="["),
        Binding("right_square_bracket", "more", "More", key_display="]"),
        Binding("s", "save", "Save PNG"),
        *[Binding(str(digit), f"label({digit})", "Class", show=False) for digit in range(10)],
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self, path: Path, *, graphics: str = "ascii", seed_a: int = 0, seed_b: int = 1) -> None:
        super().__init__()
        self.path = Path(path)
        self.graphics = graphics
        self.seed_a, self.seed_b = seed_a, seed_b
        self.steps = 8
        self.label: int | None = None
        self.conditional = False
        self.num_classes = 0
        self.drawn: dict[str, Any] = {}  # name → uint8 picture, as last drawn
        self.renders = 0
        self._rng = random.Random(seed_a * 1_000_003 + seed_b)
        self._loaded: Any = None  # the run's StripMaker (the generator loaded), touched only by the worker thread
        self.saved: list[Path] = []  # the files the last save wrote

    def compose(self) -> ComposeResult:
        yield TooSmall("latent explorer", MIN_SIZE)
        yield Static(f"{self.path.name}: loading the generator…", id="explorer-caption", markup=False)
        with Vertical(id="explorer-strips"):
            for name, title in STRIPS:
                yield SampleView(self.graphics, title=title, id=f"strip-{name}", classes="pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#strip-classes").display = False
        self.query_one(TooSmall).fit(self.size)
        self._draw()

    def on_resize(self) -> None:
        self.query_one(TooSmall).fit(self.size)

    # ---- drawing (a thread; torch lives there) -----------------------------------------------------------
    def _draw(self) -> None:
        self._generate_strips(self.seed_a, self.seed_b, self.steps, self.label)

    @work(thread=True, exclusive=True, group="explore", exit_on_error=False)
    def _generate_strips(self, seed_a: int, seed_b: int, steps: int, label: int | None) -> None:
        try:
            if self._loaded is None:  # here, or the agent of the run's host (where the checkpoint is)
                self._loaded = place_of(self.path).strip_maker(self.path)
            made = self._loaded.make(seed_a, seed_b, steps, label)
            strips = dict(made.pictures)
            classes = made.num_classes
            conditional = classes > 0
            shown = f" · class {label if label is not None else 0} of 0–{classes - 1}" if conditional else ""
            caption = (f"{self.path.name} · generator at step {made.step:,} · seed a {seed_a} · "
                       f"seed b {seed_b} · {steps} steps{shown}")
            counts = {"interpolation": max(steps, 2), "arithmetic": 4, "classes": classes}
            layouts = {name: GridLayout.row_of(counts[name], picture.shape[1], picture.shape[0])
                       for name, picture in strips.items()} if made.is_image else {}
            self.post_message(ExplorerRendered({**strips, "_classes": classes if conditional else 0}, caption,
                                               layouts=layouts))
        except Exception as error:  # a missing or foreign checkpoint: say why on the screen
            self.post_message(ExplorerRendered({}, error=f"{type(error).__name__}: {error}".splitlines()[0]))

    @on(ExplorerRendered)
    def _rendered(self, message: ExplorerRendered) -> None:
        caption = self.query_one("#explorer-caption", Static)
        if message.error is not None:
            caption.update(f"cannot explore {self.path.name}: {message.error}")
            return
        strips = dict(message.strips)
        self.num_classes = int(strips.pop("_classes", 0))
        self.conditional = self.num_classes > 0
        self.drawn = strips
        self.renders += 1
        caption.update(message.caption)
        for name, _ in STRIPS:
            view = self.query_one(f"#strip-{name}", SampleView)
            view.display = name in strips
            if name in strips:
                view.show_picture(strips[name], message.layouts.get(name))

    # ---- keys -----------------------------------------------------------------------------------------------
    def action_reroll_a(self) -> None:
        self.seed_a = self._rng.randrange(1_000_000)
        self._draw()

    def action_reroll_b(self) -> None:
        self.seed_b = self._rng.randrange(1_000_000)
        self._draw()

    def action_swap(self) -> None:
        self.seed_a, self.seed_b = self.seed_b, self.seed_a
        self._draw()

    def _set_steps(self, offset: int) -> None:
        index = STEPS_CHOICES.index(self.steps) if self.steps in STEPS_CHOICES else 2
        self.steps = STEPS_CHOICES[min(max(index + offset, 0), len(STEPS_CHOICES) - 1)]
        self._draw()

    def action_fewer(self) -> None:
        self._set_steps(-1)

    def action_more(self) -> None:
        self._set_steps(+1)

    def action_label(self, digit: int) -> None:
        if not self.conditional:
            self.notify("this generator is not conditional: no classes to choose", severity="warning")
            return
        if digit >= self.num_classes:
            self.notify(f"classes are 0–{self.num_classes - 1}", severity="warning")
            return
        self.label = digit
        self._draw()

    def action_save(self) -> None:
        if not self.drawn:
            self.notify("nothing drawn yet", severity="warning")
            return
        self._save(dict(self.drawn), f"a{self.seed_a}-b{self.seed_b}" +
                   (f"-class{self.label}" if self.label is not None else ""))

    @work(thread=True, group="explore-save", exit_on_error=False)
    def _save(self, strips: dict[str, Any], stem: str) -> None:
        from gantui.engine.generate import save_png

        folder = place_of(self.path).exports(self.path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = [save_png(picture, folder / f"{name}-{stem}.png") for name, picture in strips.items()]
        except Exception as error:
            self.app.call_from_thread(self.notify, f"cannot save: {error}", severity="error")
            return
        self.saved = written
        where = "\n".join(str(path.resolve()) for path in written)
        self.app.call_from_thread(self.notify, where, title="Strips saved", timeout=10)

    def action_help(self) -> None:
        lines = [(binding.key_display or binding.key, self.ACTION_HELP.get(binding.action, binding.description))
                 for binding in self.BINDINGS if binding.show] + [("0–9", self.ACTION_HELP["label"]),
                                                                  ("tab", self.ACTION_HELP["swap"])]
        self.app.push_screen(HelpScreen("Latent explorer keys", lines))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.dismiss()
