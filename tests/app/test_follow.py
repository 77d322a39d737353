"""Following a run folder: what arrives, when nothing changed, torn lines, failures told by the handle."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gantui.app.runview.follow import DashboardFollower


def test_follower_reads_a_finished_run(image_run: Path) -> None:
    follower = DashboardFollower(image_run, probe_host=False)
    poll = follower.poll()
    assert poll is not None
    assert poll.state == "finished" and poll.step == 600 and poll.total_steps == 600
    assert poll.metrics.count == 60
    assert poll.sample_steps == (0, 200, 400, 600)
    assert [event["event"] for event in poll.events] == ["start", "warning", "checkpoint", "end"]
    assert follower.poll() is None  # nothing changed


def test_follower_sees_appended_rows_but_not_a_torn_line(image_run: Path) -> None:
    follower = DashboardFollower(image_run, probe_host=False)
    first = follower.poll()
    header = (image_run / "metrics.csv").read_text().splitlines()[0].split(",")
    row = {"step": "610", "epoch": "3", "time": "30.5", "loss_d": "0.7", "loss_g": "0.7"}
    with open(image_run / "metrics.csv", "a") as handle:
        handle.write(",".join(row.get(column, "") for column in header) + "\n")
        handle.write("620,3,31")  # half-written: no newline yet
    poll = follower.poll()
    assert poll is not None and poll.metrics.count == first.metrics.count + 1
    assert poll.metrics.latest["step"] == 610
    assert first.metrics.count == 60  # the earlier poll is unchanged


class _DeadChild:
    def failure(self) -> str | None:
        return "gantui train exited with status 2: gantui: error: no such file: /nope"


def test_a_child_that_died_before_its_folder_existed_reads_as_failed(tmp_path: Path) -> None:
    poll = DashboardFollower(tmp_path / "never-created", handle=_DeadChild(), probe_host=False).poll()
    assert poll is not None and poll.state == "failed"
    assert "no such file" in (poll.failure or "")


def test_a_folder_that_does_not_exist_yet_is_starting(tmp_path: Path) -> None:
    poll = DashboardFollower(tmp_path / "soon", probe_host=False).poll()
    assert poll is not None and poll.state == "starting" and poll.metrics.count == 0


def test_follower_reads_eval_csv_incrementally(eval_run: Path) -> None:
    follower = DashboardFollower(eval_run, probe_host=False)
    poll = follower.poll()
    assert poll is not None
    assert [row["step"] for row in poll.evals] == [100, 200, 300, 400, 500, 600]
    assert poll.evals[-1]["fid"] == 25.71 and poll.status["quality"]["num_classes"] == 10
    offset = follower.run.eval_tail.offset
    header = (eval_run / "eval.csv").read_text().splitlines()[0].split(",")
    with open(eval_run / "eval.csv", "a") as handle:
        handle.write(",".join({"step": "700", "fid": "20.5"}.get(column, "") for column in header) + "\n")
    poll = follower.poll()
    assert poll is not None and len(poll.evals) == 7 and poll.evals[-1]["fid"] == 20.5
    assert follower.run.eval_tail.offset > offset  # only the appended bytes were read


def test_quality_pane_lines(eval_run: Path, image_run: Path) -> None:
    from gantui.app.widgets.quality_pane import NO_EVAL, QualityPane

    pane = QualityPane()
    pane.set_equilibrium(0.6931, 0.6931, 0.5)
    text = "\n".join(line.plain for line in pane._lines(DashboardFollower(eval_run, probe_host=False).poll()))
    assert "FID 25.7 ↓ (was 30)" in text and "coverage 9/10 classes" in text
    assert "\n9 " in text and "0%" in text and "D(x) 0.507 Δ+0.01" in text
    pane.set_equilibrium(0.0, None, None)  # a critic (wgan-gp): only its loss settles, at 0; G's has no ideal
    text = "\n".join(line.plain for line in pane._lines(DashboardFollower(eval_run, probe_host=False).poll()))
    assert "Δ" in text.split("loss D", 1)[1].split("·")[0] and "loss G" in text
    assert "Δ" not in text.split("loss G", 1)[1].splitlines()[0] and "Δ" not in text.split("D(x)", 1)[1].split("·")[0]
    text = "\n".join(line.plain for line in pane._lines(DashboardFollower(image_run, probe_host=False).poll()))
    assert text.splitlines()[0] == NO_EVAL and "equilibrium" in text  # no eval_every in its configuration
    config = json.loads((image_run / "config.json").read_text())
    ended_early = "no evaluation: the run ended at step 600, before the first at 1,000"  # a finished run
    for every, said in ((1000, ended_early), (500, "every 500 steps"), (None, "off")):
        (image_run / "config.json").write_text(json.dumps({**config, "eval_every": every}))
        text = "\n".join(line.plain for line in pane._lines(DashboardFollower(image_run, probe_host=False).poll()))
        assert said in text.splitlines()[0], (every, text)


def test_quality_pane_says_when_an_automatic_schedule_evaluates_next(eval_run: Path, image_run: Path) -> None:
    from gantui.app.widgets.quality_pane import QualityPane

    pane = QualityPane()
    config = json.loads((eval_run / "config.json").read_text())
    status = json.loads((eval_run / "status.json").read_text())
    (eval_run / "config.json").write_text(json.dumps({**config, "eval_every": 500, "eval_auto": True}))
    (eval_run / "status.json").write_text(json.dumps({**status, "state": "running", "step": 700, "pid": os.getpid(),
                                                      "heartbeat": time.time(), "total_steps": 3000,
                                                      "next_eval_step": 1400}))
    lines = [line.plain for line in pane._lines(DashboardFollower(eval_run, probe_host=False).poll())]
    assert lines[1] == "next evaluation at about step 1,400 (every 500 steps or more, at most 10% of the time)"
    (eval_run / "config.json").write_text(json.dumps({**config, "eval_every": 500}))  # chosen: no such line
    lines = [line.plain for line in pane._lines(DashboardFollower(eval_run, probe_host=False).poll())]
    assert not any("next evaluation" in line for line in lines)
    config = json.loads((image_run / "config.json").read_text())
    status = json.loads((image_run / "status.json").read_text())
    (image_run / "config.json").write_text(json.dumps({**config, "eval_every": 500, "eval_auto": True}))
    (image_run / "status.json").write_text(json.dumps({**status, "step": 800}))
    text = "\n".join(line.plain for line in pane._lines(DashboardFollower(image_run, probe_host=False).poll()))
    assert text.splitlines()[0] == "no evaluation yet (every 500 steps or more, at most 10% of the time)"


def test_event_lines_tell_the_best_checkpoint_from_the_last() -> None:
    from gantui.app.widgets.events_pane import describe

    last = describe({"event": "checkpoint", "step": 4000, "path": "runs/r/checkpoints/last.pt"})
    best = describe({"event": "checkpoint", "step": 4000, "path": "runs/r/checkpoints/best.pt"})
    assert last == "checkpoint at step 4,000" and best == "best-FID checkpoint at step 4,000"
    assert describe({"event": "end", "state": "diverged", "step": 7, "message": "loss is NaN"}) == \
        "diverged at step 7: loss is NaN"


def test_the_runs_list_reads_only_what_eval_csv_gained_and_forgets_deleted_runs(runs_dir: Path, eval_run: Path,
                                                                                 image_run: Path) -> None:
    import shutil

    from gantui.app.runview.run_rows import RunScanner

    scanner = RunScanner([runs_dir])
    rows = {row.path: row for row in scanner.scan()}
    assert rows[eval_run].best == 25.71 and rows[image_run].best is None and rows[eval_run].state == "finished"
    tail = scanner._followers[eval_run].eval_tail
    offset = tail.offset
    scanner.scan()  # nothing new: nothing read
    assert tail.offset == offset
    header = (eval_run / "eval.csv").read_text().splitlines()[0].split(",")
    with open(eval_run / "eval.csv", "a") as handle:
        handle.write(",".join({"step": "700", "fid": "20.5"}.get(column, "") for column in header) + "\n")
    assert {row.path: row.best for row in scanner.scan()}[eval_run] == 20.5 and tail.offset > offset
    shutil.rmtree(image_run)
    assert [row.path for row in scanner.scan()] == [eval_run] and list(scanner._followers) == [eval_run]


def test_quality_pane_and_runs_list_fall_back_to_the_random_embedding(eval_run: Path) -> None:
    from gantui.app.runview.run_rows import RunScanner
    from gantui.app.widgets.quality_pane import QualityPane

    rows = [{"step": 100, "fid_rand": 40.0, "precision_rand": 0.5, "recall_rand": 0.25, "density_rand": 0.4,
             "coverage_rand": 0.3}, {"step": 200, "fid_rand": 12.5, "recall_rand": 0.75}]
    lines = (eval_run / "eval.csv").read_text().splitlines()
    header = lines[0].split(",") + ["fid_rand", "precision_rand", "recall_rand", "density_rand", "coverage_rand"]
    (eval_run / "eval.csv").write_text(",".join(header) + "\n" + "".join(
        ",".join(str(row.get(column, "")) for column in header) + "\n" for row in rows))
    status = json.loads((eval_run / "status.json").read_text())
    (eval_run / "status.json").write_text(json.dumps({**status, "quality": {}}))
    text = "\n".join(line.plain for line in QualityPane()._lines(DashboardFollower(eval_run, probe_host=False).poll()))
    assert "FID rand 12.5 ↓ (was 40)" in text
    assert "precision – · recall 0.75 · density – · coverage – (rand)" in text
    row = RunScanner([eval_run.parent]).scan()[0]
    assert (row.best, row.best_label) == (12.5, "FID rand")


def test_a_run_resumed_across_an_embedding_upgrade_counts_only_the_newer_embedding_numbers(eval_run: Path) -> None:
    from gantui.app.runview.run_rows import RunScanner
    from gantui.app.widgets.quality_pane import QualityPane
    from gantui.engine.run.tails import load_eval

    header = ["step", "fid_rand", "recall_rand", "embedding_version", "diversity"]
    path = eval_run / "eval.csv"
    path.write_text(",".join(header) + "\n100,8.0,0.9,,0.5\n200,9.0,0.8,,0.6\n")  # before versions were written
    status = json.loads((eval_run / "status.json").read_text())
    (eval_run / "status.json").write_text(json.dumps({**status, "quality": {}}))
    scanner, follower = RunScanner([eval_run.parent]), DashboardFollower(eval_run, probe_host=False)
    assert scanner.scan()[0].best == 8.0  # one version so far: its numbers compare among themselves
    assert "FID rand 9 ↑ (was 8)" in "\n".join(line.plain for line in QualityPane()._lines(follower.poll()))

    with open(path, "a") as handle:  # resumed after the upgrade: a new version's rows
        handle.write("300,30.0,0.2,3,0.7\n400,25.0,0.3,3,0.7\n")
    assert scanner.scan()[0].best == 25.0  # not the older version's 8.0
    text = "\n".join(line.plain for line in QualityPane()._lines(follower.poll()))
    assert "FID rand 25 ↓ (was 30)" in text and "recall 0.30" in text
    frame = load_eval(path)
    assert frame["fid_rand"].isna().tolist() == [True, True, False, False]
    assert frame["diversity"].tolist() == [0.5, 0.6, 0.7, 0.7]  # the other metrics are not the embedding's
