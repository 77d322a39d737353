"""The plots' data: EMA, bounded history, decimation to the pane's width."""

from __future__ import annotations

import numpy as np

from gantui.engine.run.history import MetricsHistory, ema, window


def _reference_ema(values: np.ndarray, factor: float) -> np.ndarray:
    out, last = [], values[0]
    for value in values:
        last = factor * last + (1 - factor) * value
        out.append(last)
    return np.array(out)


def test_ema_matches_the_recurrence_across_calls_and_chunks() -> None:
    values = np.random.default_rng(0).normal(size=1000)
    expected = _reference_ema(values, 0.99)
    first = ema(values[:333], 0.99)
    rest = ema(values[333:], 0.99, previous=first[-1])
    assert np.allclose(np.concatenate([first, rest]), expected, atol=1e-12)


def test_ema_carries_over_missing_values() -> None:
    values = np.array([1.0, np.nan, 3.0])
    assert np.allclose(ema(values, 0.5), [1.0, 1.0, 2.0])


def _rows(start: int, count: int) -> dict[str, np.ndarray]:
    steps = np.arange(start, start + count, dtype=float)
    return {"step": steps, "loss_d": np.sin(steps), "loss_g": np.cos(steps), "d_real": steps * 0 + 0.6,
            "d_fake": steps * 0 + 0.4, "time": steps / 100}


def test_history_is_bounded_and_frames_stay_valid() -> None:
    history = MetricsHistory(capacity=1000)
    history.extend(_rows(0, 600))
    frame = history.frame()
    before = frame.series("loss_d").copy()
    for start in range(600, 5000, 300):
        history.extend(_rows(start, 300))
    assert history.count <= 1000
    assert np.array_equal(frame.series("loss_d"), before)  # an old frame is never written under
    steps = history.frame().step_column()
    assert steps[0] == 0 and steps[-1] == 5099 and np.all(np.diff(steps) > 0)
    assert history.frame().rate is not None


def test_window_selects_the_last_steps() -> None:
    steps = np.arange(0, 10_000, 10, dtype=float)
    rows = window(steps, 1000)
    assert steps[rows][0] == 8990 and steps[rows][-1] == 9990
    assert window(steps, None) == slice(0, steps.size)
