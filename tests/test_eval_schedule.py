"""The evaluation schedule: an explicit --eval-every followed exactly, the default spaced by the evaluations' cost."""

import json
import time

import pytest
import torch

from gantui.engine.config import TrainConfig, config_to_args, override, read_config, resolve_config, write_config
from gantui.engine.quality import schedule as schedule_module
from gantui.engine.quality.schedule import EvalSchedule, next_step, tidy_unit


# ---- the arithmetic -------------------------------------------------------------------------------------
def test_the_next_evaluation_waits_for_nine_times_its_cost_of_training():
    # 0.5 s of evaluation, 5 ms a step: 4.5 s of training = 900 steps after 500, rounded up to 1400
    assert next_step(500, 500, 100, step_seconds=0.005, eval_seconds=0.5) == 1400
    # cheap evaluations (dcgan64's ~1%): never sooner than the least interval
    assert next_step(500, 500, 100, step_seconds=0.1, eval_seconds=0.5) == 1000
    # rounded up to the unit: 9 × 0.3 / 0.01 = 270 steps -> 770 -> 800; to log_every when 100 is no multiple
    assert next_step(500, 100, 100, step_seconds=0.01, eval_seconds=0.3) == 800
    assert next_step(500, 100, 30, step_seconds=0.01, eval_seconds=0.3) == 780
    assert tidy_unit(10) == 100 and tidy_unit(25) == 100 and tidy_unit(30) == 30 and tidy_unit(1000) == 1000
    # over budget so far (2.5 s of training, 1.0 s of evaluations): the next waits until the run's training
    # is 9 × (1.0 + 0.5) s = 13.5 s, 11 s = 2,200 steps on
    assert next_step(500, 500, 100, 0.005, 0.5, training_total=2.5, eval_total=1.0) == 2700
    # no timing to go by: the least interval
    assert next_step(500, 500, 100, step_seconds=0.0, eval_seconds=0.5) == 1000


def test_the_automatic_schedule_keeps_evaluation_within_a_tenth():
    schedule = EvalSchedule.start(500, automatic=True, log_every=10)
    step_seconds, cost = 0.005, 0.5  # mnist + mlp on a contended CPU: 2.5 s per 500 steps, 0.5 s an evaluation
    steps = [s for s in range(1, 20001) if schedule.due(s, 20000)
             and schedule.record(s, (s - schedule.last_step) * step_seconds, cost)]
    assert steps[0] == 500 and all(later - earlier >= 500 for earlier, later in zip(steps, steps[1:], strict=False))
    assert all(s % 100 == 0 for s in steps)
    training, evaluating = 20000 * step_seconds, len(steps) * cost
    assert evaluating / (training + evaluating) <= 0.10
    assert len(steps) >= 15  # and no sparser than that needs: ~17 fit in 100 s
    # the last step gets one more only when the budget allows it
    assert schedule.due(20000, 20000) == (20000 in steps)


def test_building_the_evaluator_counts_in_the_budget_but_not_as_the_next_evaluations_cost():
    schedule = EvalSchedule.start(500, automatic=True, log_every=10)
    # 2.5 s of training, then 1.0 s building and 0.5 s evaluating: the run's training must reach
    # 9 × (1.5 + 0.5) = 18 s before the next, 15.5 s = 3,100 steps on
    assert schedule.record(500, 2.5, 0.5, setup_seconds=1.0) == 3600
    assert not schedule.due(3599, 3599) and schedule.due(3599 + 1, 10000)


def test_a_fixed_schedule_is_every_interval_and_a_distant_end():
    schedule = EvalSchedule.start(500, automatic=False, log_every=10)
    assert [s for s in range(1, 3301) if schedule.due(s, 3300)] == [500, 1000, 1500, 2000, 2500, 3000, 3300]
    assert schedule.record(500, 99.0, 99.0) == 1000  # timings change nothing
    assert not EvalSchedule.start(0, automatic=True, log_every=10).due(500, 500)


def test_a_resumed_automatic_schedule_starts_at_the_next_least_interval():
    schedule = EvalSchedule.start(500, automatic=True, log_every=10, start_step=1600)
    assert [s for s in range(1601, 2401) if schedule.due(s, 2400)] == [2000, 2400]  # nothing recorded: no budget
    assert not schedule.due(1700, 1700)  # half an interval has not passed since the resume


# ---- the configuration ----------------------------------------------------------------------------------
def test_the_default_is_automatic_and_an_explicit_interval_is_not(tmp_path):
    default = resolve_config("mnist", "mlp")
    assert (default.eval_every, default.eval_auto) == (500, True)
    assert "--eval-every" not in config_to_args(default)  # started elsewhere, it stays automatic
    chosen = resolve_config("mnist", "mlp", eval_every=500)
    assert (chosen.eval_every, chosen.eval_auto) == (500, False)
    assert config_to_args(chosen)[config_to_args(chosen).index("--eval-every") + 1] == "500"
    assert resolve_config("mnist", "mlp", eval_every=0).eval_auto is False
    assert resolve_config("pattern1010", "pattern-mlp").eval_auto is False  # toys: off
    assert override(default, eval_every=300).eval_auto is False
    assert override(default, steps=10).eval_auto is True
    back = read_config(write_config(default, tmp_path / "config.json"))
    assert back.eval_auto is True and back.eval_every == 500


def test_an_old_config_without_the_marker_reads_as_a_fixed_interval(tmp_path):
    data = resolve_config("mnist", "mlp").to_dict()
    del data["eval_auto"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    old = read_config(tmp_path / "config.json")
    assert (old.eval_every, old.eval_auto) == (500, False)
    assert TrainConfig.from_dict({**data, "eval_auto": True}).eval_auto is True


# ---- a short run with slow evaluations ------------------------------------------------------------------
EVAL_SLEEP_S = 0.05


class SlowEvaluator:
    """An evaluation that costs EVAL_SLEEP_S and measures nothing (no classifier to train)."""

    classifier = None

    def evaluate(self, generator):
        time.sleep(EVAL_SLEEP_S)
        return type("Report", (), {"as_dict": staticmethod(dict)})()


@pytest.fixture
def slow_evaluations(monkeypatch):
    from gantui.engine.quality.tracker import QualityTracker

    monkeypatch.setattr(QualityTracker, "_build_evaluator", lambda self: SlowEvaluator())
    monkeypatch.setattr(schedule_module, "TIDY_STEP", 10)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads on two shared cores make a step's time swing tenfold
    yield
    torch.set_num_threads(threads)


def _train(tmp_path, name, **options):
    from gantui.engine.prepare import prepare_run
    from gantui.engine.run.tails import load_eval
    from gantui.engine.trainer import train

    config = resolve_config("mnist", "mlp", steps=600, batch_size=16, log_every=10, sample_every=1000,
                            checkpoint_every=1000, device="cpu", runs_dir=str(tmp_path), name=name, **options)
    if "eval_every" not in options:  # the default, with a least interval a short test reaches
        config = config.replace(eval_every=10)
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    status = json.loads((prepared.path / "status.json").read_text())
    return load_eval(prepared.path / "eval.csv"), status


def test_slow_evaluations_are_spaced_to_a_tenth_while_an_explicit_interval_is_followed(tmp_path, slow_evaluations):
    frame, status = _train(tmp_path, "auto")
    steps = list(frame["step"])
    # every 10 steps would be 60; how many fewer depends on how fast this machine's steps are against the
    # evaluation's fixed cost, so the schedule's own rules are what is asserted below, from the recorded times
    assert steps[0] == 10 and 2 <= len(steps) < 30, steps
    assert all(later - earlier >= 10 for earlier, later in zip(steps, steps[1:], strict=False))
    # between two evaluations, at least 9 × the earlier one's cost of training (slack for noisy steps; the
    # last step's evaluation is only held to the whole run's budget)
    rows = [row for row in frame.to_dict("records") if row["step"] != 600]
    for earlier, later in zip(rows[1:], rows[2:], strict=False):
        training = later["time"] - later["eval_seconds"] - earlier["time"]
        assert training >= 0.5 * 9 * earlier["eval_seconds"], (earlier, later)
    share = frame["eval_seconds"].sum() / status["elapsed"]
    assert share <= 0.12, (share, steps)
    assert status["next_eval_step"] > steps[-1]

    fixed, _ = _train(tmp_path, "fixed", eval_every=50)
    assert list(fixed["step"]) == list(range(50, 601, 50))  # followed exactly, whatever it costs


def test_a_resumed_run_keeps_the_automatic_schedule(tmp_path, slow_evaluations):
    from gantui.engine.prepare import prepare_resume, prepare_run
    from gantui.engine.run.tails import load_eval
    from gantui.engine.trainer import train

    config = resolve_config("mnist", "mlp", steps=300, batch_size=16, log_every=10, sample_every=1000,
                            checkpoint_every=1000, device="cpu", runs_dir=str(tmp_path)).replace(eval_every=10)
    first = prepare_run(config)
    assert train(first) == "finished"
    before = list(load_eval(first.path / "eval.csv")["step"])
    resumed = prepare_resume(first.path, steps=600)
    assert resumed.config.eval_auto is True
    assert train(resumed) == "finished"
    assert json.loads((first.path / "config.json").read_text())["eval_auto"] is True
    steps = list(load_eval(first.path / "eval.csv")["step"])
    after = [step for step in steps if step > 300]
    assert steps[:len(before)] == before and after[0] == 310  # the next least interval after the resume
    assert len(after) < 15, after  # then spaced by their cost again (every 10 steps would be 30)
