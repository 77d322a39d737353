"""Quality: the FID trend, class coverage and histogram, the random embedding's precision, recall, density and
coverage of the latest evaluation, and an equilibrium gauge.

Evaluations come from eval.csv (followed incrementally, `RunPoll.evals`) and status.json["quality"] (the
latest row plus its class histogram); when the next comes, for a live run whose interval was left to the
default (spaced by the evaluations' cost), from status.json["next_eval_step"]; the gauge from the latest
metrics row against the loss's ideal values, which the dashboard passes in (`set_equilibrium`). Runs without
evaluations say so in one line.
"""

from __future__ import annotations

import math

from textual.content import Content

from gantui.app.format import count, meter
from gantui.app.runview.follow import RunPoll
from gantui.app.widgets.text_pane import TextPane

SPARK = "▁▂▃▄▅▆▇█"
NO_EVAL = "no quality evaluations: eval off or toy data"  # a run whose configuration does not say
EVAL_OFF = "no quality evaluations: off for this run (--eval-every)"
AUTO_EVERY = "every {every} steps or more, at most 10% of the time"  # eval_every left to the default
EMBEDDING_SCORES = ("precision", "recall", "density", "coverage")  # the *_rand columns shown in one line


class QualityPane(TextPane):
    """FID ↓/↑ with a sparkline, coverage k/n, class bars, and how far D and the losses are from equilibrium."""

    DEFAULT_CSS = """
    QualityPane {
        height: auto;
        min-height: 2;
    }
    """

    TITLE = "Quality"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # where each curve settles at equilibrium (None: no single value, e.g. a critic's, shown without a Δ)
        self.ideals: dict[str, float | None] = {"d_real": 0.5, "d_fake": 0.5, "loss_d": None, "loss_g": None}

    def set_equilibrium(self, loss_d: float | None, loss_g: float | None, d_prob: float | None) -> None:
        self.ideals = {"d_real": d_prob, "d_fake": d_prob, "loss_d": loss_d, "loss_g": loss_g}
        self._update()

    def _lines(self, poll: RunPoll) -> list[Content]:
        width = max(self.size.width, 30)
        quality = poll.status.get("quality") if isinstance(poll.status.get("quality"), dict) else {}
        lines = _eval_lines(poll.evals, quality, width) if poll.evals or quality else [Content(_not_yet(poll))]
        if (poll.evals or quality) and (coming := _next_evaluation(poll)):
            lines.insert(1, Content.styled(coming, "dim"))
        lines += self._equilibrium_lines(poll.metrics.latest)
        alarms = poll.status.get("alarms") if poll.is_live else None
        if alarms:
            lines.append(Content.assemble(("alarm ", "bold $warning"), "; ".join(str(a) for a in alarms)))
        return lines

    def _equilibrium_lines(self, latest: dict[str, float]) -> list[Content]:
        """`D(x) 0.62 Δ+0.12 · D(G(z)) 0.41 Δ-0.09` and the same for the losses against their ideal."""
        parts = []
        for pairs in ((("d_real", "D(x)"), ("d_fake", "D(G(z))")), (("loss_d", "loss D"), ("loss_g", "loss G"))):
            cells = []
            for column, label in pairs:
                value, ideal = _finite(latest.get(column)), self.ideals[column]
                if value is None:
                    cells.append(f"{label} –")
                elif ideal is None:
                    cells.append(f"{label} {value:.3g}")
                else:
                    cells.append(f"{label} {value:.3g} Δ{value - ideal:+.2f}")
            parts.append(Content(" · ".join(cells)))
        title = "equilibrium (Δ from ideal)" if any(ideal is not None for ideal in self.ideals.values()) \
            else "equilibrium"
        return [Content.styled(title, "bold"), *parts]


def _not_yet(poll: RunPoll) -> str:
    """Why there is no evaluation: off, or when the first one comes."""
    if "eval_every" not in poll.config:
        return NO_EVAL
    every = poll.config["eval_every"]
    if not isinstance(every, int) or every <= 0:
        return EVAL_OFF
    if poll.step < every and not poll.is_live and poll.total_steps and poll.step >= poll.total_steps:
        return f"no evaluation: the run ended at step {count(poll.step)}, before the first at {count(every)}"
    if poll.step < every:
        return f"no evaluation yet: first evaluation at step {count(every)}"
    if poll.config.get("eval_auto") is True:
        return f"no evaluation yet ({AUTO_EVERY.format(every=count(every))})"
    return f"no evaluation yet (every {count(every)} steps)"


def _next_evaluation(poll: RunPoll) -> str | None:
    """`next evaluation at about step 2,400`: a live run's automatic schedule, as its trainer last decided."""
    if not poll.is_live or poll.config.get("eval_auto") is not True:
        return None
    coming, total = poll.status.get("next_eval_step"), poll.status.get("total_steps")
    if not isinstance(coming, int) or coming <= poll.step or (isinstance(total, int) and coming > total):
        return None
    every = poll.config.get("eval_every")
    spacing = AUTO_EVERY.format(every=count(every)) if isinstance(every, int) else "at most 10% of the time"
    return f"next evaluation at about step {count(coming)} ({spacing})"


def _eval_lines(evals: tuple[dict[str, float], ...], quality: dict, width: int) -> list[Content]:
    """The classifier's FID trend where there is one, else the random embedding's; then coverage and scores."""
    column, label = ("fid", "FID") if _latest(evals, quality, "fid") is not None else ("fid_rand", "FID rand")
    lines = [_trend_line(evals, quality, column, label, width)]
    coverage = _latest(evals, quality, "coverage")
    histogram = [float(v) for v in quality.get("class_histogram") or []] if quality else []
    classes = quality.get("num_classes") if quality else None
    classes = int(classes) if isinstance(classes, (int, float)) and classes else len(histogram) or None
    if coverage is not None:
        covered = f"{round(coverage * classes)}/{classes} classes" if classes else f"{coverage:.0%}"
        lines.append(Content(f"coverage {covered}"))
    scores = [(name, _latest(evals, quality, f"{name}_rand")) for name in EMBEDDING_SCORES]
    if any(value is not None for _, value in scores):
        cells = " · ".join(f"{name} {'–' if value is None else f'{value:.2f}'}" for name, value in scores)
        lines.append(Content(f"{cells} (rand)"))
    lines += _histogram_lines(histogram, width)
    return lines


def _latest(evals: tuple[dict[str, float], ...], quality: dict, column: str) -> float | None:
    """The latest evaluation's `column`: status.json's row, else eval.csv's last."""
    value = _finite(quality.get(column)) if quality else None
    if value is None and evals:
        value = _finite(evals[-1].get(column))
    return value


def _trend_line(evals: tuple[dict[str, float], ...], quality: dict, column: str, label: str, width: int
                ) -> Content:
    """`FID 7.1 ↓ (was 8.1)  ▇▅▃▂▁`: the latest value, the previous one and a sparkline of them all."""
    history = [row[column] for row in evals if _finite(row.get(column)) is not None]
    latest = _latest(evals, quality, column)
    if latest is None:
        return Content(f"{label} –")
    head = f"{label} {latest:.3g}"
    if len(history) >= 2:
        before = history[-2]
        arrow = "↓" if latest < before else ("↑" if latest > before else "=")
        head += f" {arrow} (was {before:.3g})"
    spark = _sparkline(history, max(width - len(head) - 2, 0))
    return Content.assemble((head, "bold"), "  ", (spark, "$accent"))


def _histogram_lines(shares: list[float], width: int) -> list[Content]:
    """One bar per class; two columns side by side when the pane is wide enough."""
    if not shares:
        return []
    top = max(max(shares), 1e-9)
    columns = 2 if width >= 52 and len(shares) > 4 else 1
    cell = width // columns - 1
    label = len(str(len(shares) - 1))
    bar = max(cell - label - 7, 3)
    cells = [Content.assemble(f"{index:>{label}} ", (meter(share / top, bar), "$secondary"), f" {share:>4.0%}")
             for index, share in enumerate(shares)]
    rows = math.ceil(len(cells) / columns)
    lines = []
    for row in range(rows):
        parts = [cells[row + rows * column] for column in range(columns) if row + rows * column < len(cells)]
        lines.append(Content("  ").join(parts))
    return lines


def _sparkline(values: list[float], width: int) -> str:
    values = values[-width:] if width > 0 else []
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = high - low or 1.0
    return "".join(SPARK[min(int((value - low) / span * (len(SPARK) - 1) + 0.5), len(SPARK) - 1)]
                   for value in values)


def _finite(value: object) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None
