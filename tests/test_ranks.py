"""ranks.csv and the world size of a run of several processes, as every view reads them (SPEC section 3)."""

from __future__ import annotations

import json

from distributed_run import RANKS_HEADER, make_distributed, rank_line

from gantui.engine.events import RunStarted
from gantui.engine.run.follower import RunFollower
from gantui.engine.run.ranks import MAX_RANKS, LatestRanks, slowest
from gantui.engine.run.reader import read_run
from gantui.engine.run.writer import RunDir, RunDirSink


def _run(tmp_path):
    path = tmp_path / "20260101-000000-mnist-mlp-ddp"
    RunDirSink(RunDir(path)).handle(RunStarted(
        config={"dataset": "mnist", "arch": "mlp", "loss": "bce"}, device="cpu", device_name="CPU", step=0,
        total_steps=100, steps_per_epoch=50, params_g=1, params_d=2))
    return path


def test_world_size_and_nodes_come_from_the_config(tmp_path):
    path = _run(tmp_path)
    single = read_run(path)
    assert (single.world_size, single.nodes, single.failed_rank, single.distributed) == (1, 1, None, {})
    make_distributed(path, [("a", "cuda:0"), ("a", "cuda:1"), ("b", "cuda:0"), ("b", "cuda:1")],
                     [10.0, 11.0, 12.0, 13.0], failed_rank=3, message="CUDA out of memory")
    run = read_run(path)
    assert (run.world_size, run.nodes, run.failed_rank) == (4, 2, 3)
    assert [rank["host"] for rank in run.distributed["ranks"]] == ["a", "a", "b", "b"]


def test_the_follower_keeps_the_latest_row_of_each_rank(tmp_path):
    path = _run(tmp_path)
    follower = RunFollower(path, ranks=True)
    assert follower.poll().ranks == ()
    make_distributed(path, [("box", "cpu"), ("box", "cpu")], [900.0, 450.0], steps=(10, 20))
    ranks = follower.poll().ranks
    assert [(row.rank, row.step, row.samples_per_s) for row in ranks] == [(0, 20, 900.0), (1, 20, 450.0)]
    assert ranks[1].memory == 536_870_912 + 1_048_576 and ranks[1].mem_allocated is None
    assert slowest(ranks).rank == 1
    same = follower.poll()
    assert same.ranks is ranks  # nothing new: the same record again
    with open(path / "ranks.csv", "a") as handle:  # a torn last line waits for its newline
        handle.write(rank_line(30, 1, "box", "cpu", 950.0, 1.0) + rank_line(30, 0, "box", "cpu", 400.0, 1.0)[:9])
    ranks = follower.poll().ranks
    assert [(row.step, row.samples_per_s) for row in ranks] == [(20, 900.0), (30, 950.0)]
    with open(path / "ranks.csv", "a") as handle:
        handle.write(rank_line(30, 0, "box", "cpu", 400.0, 1.0)[9:])
    ranks = follower.poll().ranks
    assert slowest(ranks).rank == 0 and ranks[0].step == 30


def test_a_rewritten_ranks_file_starts_over_and_bad_rows_are_skipped(tmp_path):
    path = tmp_path / "ranks.csv"
    path.write_text(RANKS_HEADER + "\n" + rank_line(5, 0, "h", "cpu", 1.0, 1.0) + rank_line(5, 1, "h", "cpu", 2.0, 1.0))
    latest = LatestRanks(path)
    assert latest.poll() and len(latest.rows) == 2
    assert slowest(latest.rows).rank == 0
    assert slowest(latest.rows[:1]) is None  # one rank: nobody to be slower than
    path.write_text(RANKS_HEADER + "\n" + "x,y\n" + "7,nope,h,cpu,1,,,,\n" + rank_line(7, 0, "h", "cpu", 3.0, 2.0))
    assert latest.poll()
    assert [(row.rank, row.step) for row in latest.rows] == [(0, 7)]


def test_ranks_going_equally_fast_have_no_straggler(tmp_path):
    path = tmp_path / "ranks.csv"
    path.write_text(RANKS_HEADER + "\n" + rank_line(5, 0, "h", "cpu", 7.0, 1.0) + rank_line(5, 1, "h", "cpu", 7.0, 1.0))
    latest = LatestRanks(path)
    latest.poll()
    assert slowest(latest.rows) is None


def test_ranks_are_bounded(tmp_path):
    path = tmp_path / "ranks.csv"
    path.write_text(RANKS_HEADER + "\n" + "".join(rank_line(1, rank, "h", "cpu", 1.0, 1.0)
                                                   for rank in range(MAX_RANKS + 10)))
    latest = LatestRanks(path)
    latest.poll()
    assert len(latest.rows) == MAX_RANKS


def test_a_single_process_run_never_reads_ranks_csv(tmp_path):
    path = _run(tmp_path)
    (path / "ranks.csv").write_text(RANKS_HEADER + "\n" + rank_line(1, 0, "h", "cpu", 1.0, 1.0))
    assert RunFollower(path, ranks=True).poll().ranks == ()
    config = json.loads((path / "config.json").read_text())
    assert "distributed" not in config
