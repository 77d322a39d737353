"""Runs of several processes (torchrun, DistributedDataParallel) on the CPU with gloo: real launches.

Each launch of two processes costs a few seconds of start-up; the runs themselves are a few dozen steps.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from waiting import block_until

from gantui.cli import main
from gantui.engine.config import resolve_config
from gantui.engine.control import request
from gantui.engine.data.base import DataInfo
from gantui.engine.distributed import FAULT_RANK_ENV, FAULT_STEP_ENV, World
from gantui.engine.prepare import prepare_resume, prepare_run
from gantui.engine.run.layout import RunLayout
from gantui.engine.run.reader import read_run
from gantui.engine.trainer import train

GANTUI = [sys.executable, "-m", "gantui"]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
MLP = ["-d", "mnist", "-a", "mlp", "--device", "cpu", "--batch-size", "32", "--log-every", "5", "--eval-every", "0"]


def plain_mlp_run(runs_dir: Path):
    """A plain run (no process group) of MLP's flags, trained in this process."""
    prepared = prepare_run(resolve_config("mnist", "mlp", steps=10, batch_size=32, log_every=5, eval_every=0,
                                          device="cpu", runs_dir=str(runs_dir)))
    assert train(prepared) == "finished"
    return prepared


def launch(*args, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180):
    return subprocess.run([*map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **(env or {})})


def only_run(runs: Path) -> Path:
    folders = [path for path in runs.iterdir() if path.is_dir() and not path.name.startswith(".")]
    assert len(folders) == 1, folders
    return folders[0]


def metric_rows(run: Path) -> list[dict[str, str]]:
    lines = (run / "metrics.csv").read_text().splitlines()
    return [dict(zip(lines[0].split(","), line.split(","), strict=True)) for line in lines[1:]]


@pytest.mark.parametrize(("args", "words"), [
    (["--nproc", "0"], ["--nproc must be at least 1"]),
    (["--nproc", "two"], ["--nproc takes a whole number"]),
    (["--nproc", "2", "--batch-size", "33"], ["--batch-size 33", "2 processes", "multiple of 2"]),
])
def test_bad_nproc_is_one_line_and_starts_nothing(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as exit_status:
        main(["train", *MLP, "--steps", "5", "--runs-dir", str(tmp_path), *args])
    assert exit_status.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and all(word in error for word in words), error
    assert not any(tmp_path.iterdir())


def test_each_rank_takes_its_slice_of_every_global_batch():
    from gantui.engine.data.stream_source import StreamSource
    from gantui.engine.data.tensor_source import TensorSource

    info = DataInfo("numbers", "vector", (1,), size=40)
    source = TensorSource(torch.arange(40.0).reshape(40, 1), None, info)
    whole = [batch for batch, _ in source.epoch(8, torch.device("cpu"), torch.Generator().manual_seed(3))]
    halves = [[batch for batch, _ in source.epoch(8, torch.device("cpu"), torch.Generator().manual_seed(3),
                                                    World(rank=rank, world_size=2))] for rank in (0, 1)]
    assert len(halves[0]) == len(halves[1]) == len(whole) == 5
    for batch, first, second in zip(whole, *halves, strict=True):
        assert torch.equal(torch.cat([first, second]), batch)  # two ranks train on what one process would

    stream = StreamSource(list(range(40)), 40, info, num_workers=0)
    shares = [stream._rank_batches(8, torch.Generator().manual_seed(3), World(rank=rank, world_size=2))
              for rank in (0, 1)]
    assert [len(share) for share in shares] == [5, 5] and all(len(b) == 4 for share in shares for b in share)
    seen = [index for share in shares for batch in share for index in batch]
    assert sorted(seen) == list(range(40))  # DistributedSampler: disjoint shares of one epoch


@pytest.mark.slow
def test_two_processes_train_like_one_and_write_one_normal_run(tmp_path, capsys):
    single = plain_mlp_run(tmp_path / "one")
    result = launch(*GANTUI, "train", "--nproc", "2", *MLP, "--steps", "10", "--runs-dir", tmp_path / "two",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = only_run(tmp_path / "two")

    snapshot = read_run(run)  # the existing readers open it as any run
    assert snapshot.state == "finished" and snapshot.status["world_size"] == 2
    distributed = snapshot.config["distributed"]
    assert distributed["world_size"] == 2 and distributed["nodes"] == 1 and distributed["backend"] == "gloo"
    assert [entry["rank"] for entry in distributed["ranks"]] == [0, 1]
    with pytest.raises(SystemExit):
        main(["runs", "--json", "--runs-dir", str(tmp_path / "two")])
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1 and listed[0]["step"] == 10

    ranks = (run / "ranks.csv").read_text().splitlines()
    assert ranks[0] == "step,rank,host,device,samples_per_s,mem_allocated,mem_peak,rss,time"
    assert [row.split(",")[:2] for row in ranks[1:]] == [["5", "0"], ["5", "1"], ["10", "0"], ["10", "1"]]
    assert all(float(row.split(",")[4]) > 0 and abs(float(row.split(",")[-1]) - time.time()) < 600
               for row in ranks[1:])

    # global batch 32 in two processes of 16: the same losses and weights as one process of 32 (mlp: no dropout)
    for one, two in zip(metric_rows(single.path), metric_rows(run), strict=True):
        assert one["step"] == two["step"]
        for name in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert float(two[name]) == pytest.approx(float(one[name]), rel=1e-3, abs=1e-4), name
    weights_one = torch.load(single.path / "checkpoints" / "last.pt", weights_only=True)["generator"]
    weights_two = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["generator"]
    assert weights_one.keys() == weights_two.keys()
    for name, value in weights_one.items():
        torch.testing.assert_close(weights_two[name], value, rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_nproc_1_is_one_ddp_process_under_torchrun_that_trains_like_a_plain_run(tmp_path):
    plain = plain_mlp_run(tmp_path / "plain")
    ddp = launch(*GANTUI, "train", "--nproc", "1", *MLP, "--steps", "10", "--runs-dir", tmp_path / "ddp",
                 cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    plain_run, ddp_run = plain.path, only_run(tmp_path / "ddp")
    assert "distributed" not in read_run(plain_run).config  # no --nproc: no process group, no DDP
    distributed = read_run(ddp_run).config["distributed"]  # --nproc 1: torchrun, a process group of one
    assert distributed["world_size"] == 1 and distributed["backend"] == "gloo"
    assert read_run(ddp_run).world_size == 1  # shown as a one-process run: no Ranks pane
    for one, two in zip(metric_rows(plain_run), metric_rows(ddp_run), strict=True):
        assert float(two["loss_d"]) == pytest.approx(float(one["loss_d"]), rel=1e-4, abs=1e-5)


@pytest.mark.slow
def test_two_nodes_meet_through_c10d_rendezvous_and_write_one_run(tmp_path):
    """Two torchrun launchers, as on two machines (here both on 127.0.0.1), one process each."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
               "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "two-nodes",
               "-m", "gantui", "train", *MLP, "--steps", "10", "--runs-dir", str(tmp_path / "runs"), "--plain"]
    nodes = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [node.communicate(timeout=180)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    run = only_run(tmp_path / "runs")  # rank 0 wrote the one folder; the other node wrote nothing
    snapshot = read_run(run)
    assert snapshot.state == "finished" and snapshot.world_size == 2 and snapshot.nodes == 2
    assert [row.split(",")[1] for row in (run / "ranks.csv").read_text().splitlines()[1:3]] == ["0", "1"]


@pytest.mark.slow
def test_resume_from_two_processes_to_one_and_back_continues_the_steps(tmp_path):
    started = launch(*TORCHRUN, "-m", "gantui", "train", *MLP, "--steps", "10", "--runs-dir", tmp_path, cwd=tmp_path)
    assert started.returncode == 0, started.stderr[-3000:]
    run = only_run(tmp_path)
    assert read_run(run).status["world_size"] == 2

    assert train(prepare_resume(run, steps=20)) == "finished"  # 2 -> 1, in this process
    status = json.loads((run / "status.json").read_text())
    assert status["step"] == 20 and status["world_size"] == 1
    assert "distributed" not in json.loads((run / "config.json").read_text())

    again = launch(*GANTUI, "resume", run, "--nproc", "2", "--steps", "30", cwd=tmp_path)  # 1 -> 2
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_run(run).status["step"] == 30 and read_run(run).status["world_size"] == 2
    steps = [int(row["step"]) for row in metric_rows(run)]
    assert steps == [5, 10, 15, 20, 25, 30]  # continuous, no step twice
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    notes = [event["message"] for event in events if event["event"] == "warning"]
    assert any("2 processes and resumes with 1" in note for note in notes), notes
    assert any("1 process and resumes with 2" in note for note in notes), notes
    ranks = [line.split(",")[:2] for line in (run / "ranks.csv").read_text().splitlines()[1:]]
    assert ranks == [[str(step), str(rank)] for step in (5, 10, 25, 30) for rank in (0, 1)]


def test_bad_input_found_by_the_workers_is_one_line_once_and_exit_2(tmp_path):
    result = launch(*GANTUI, "train", "--nproc", "2", "-d", "pattern1010", "-a", "mlp", "--device", "cpu",
                    "--runs-dir", tmp_path / "runs", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gantui: error: mlp needs images"), \
        result.stderr[-3000:]  # both workers refused it; said once, without torchrun's traceback or banner
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.slow
def test_a_rank_that_fails_ends_both_and_status_names_it(tmp_path):
    began = time.monotonic()
    result = launch(*GANTUI, "train", "--nproc", "2", *MLP, "--steps", "100000", "--runs-dir", tmp_path,
                    cwd=tmp_path, env={FAULT_RANK_ENV: "1", FAULT_STEP_ENV: "7"}, timeout=120)
    assert result.returncode == 1
    assert "InjectedFault" in result.stderr and "ChildFailedError" not in result.stderr, result.stderr[-3000:]
    assert time.monotonic() - began < 120
    run = only_run(tmp_path)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and status["failed_rank"] == 1 and status["step"] == 7
    assert status["message"].startswith("rank 1 failed: InjectedFault at step 7")
    assert status["ended"] - status["started"] < 30  # both ranks gone within seconds, not a hung job


def start_long_run(tmp_path: Path, *extra: str, command: tuple[str, ...] = (*TORCHRUN, "-m", "gantui", "train")
                   ) -> subprocess.Popen:
    """Two processes training for good, started by `command` (raw torchrun unless told otherwise)."""
    return subprocess.Popen([*command, *MLP, "--steps", "100000", "--runs-dir", str(tmp_path), *extra], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(process: subprocess.Popen, tmp_path: Path) -> Path:
    """The run's folder once its metrics.csv has two rows (the process killed if that never happens)."""
    def two_rows() -> Path | None:
        assert process.poll() is None, process.communicate()
        found = list(tmp_path.glob("*/metrics.csv"))
        return found[0].parent if found and found[0].read_text().count("\n") >= 3 else None

    try:
        return block_until(two_rows, timeout=120, what="two rows in the run's metrics.csv")
    except AssertionError:
        process.kill()
        raise


def assert_stopped_with_final_checkpoint(run: Path) -> dict:
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "stopped" and status["world_size"] == 2
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"] == status["step"]
    ranks = (run / "ranks.csv").read_text().splitlines()[1:]
    assert {line.split(",")[1] for line in ranks} == {"0", "1"} and ranks[-1].split(",")[0] == str(status["step"])
    return status


@pytest.mark.slow
def test_a_stop_from_control_json_stops_both_with_a_final_checkpoint(tmp_path):
    process = start_long_run(tmp_path, "--eval-every", "10")
    run = wait_for_rows(process, tmp_path)
    try:
        request(run, "stop")
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0
    assert_stopped_with_final_checkpoint(run)
    # rank 0 evaluated at step 10 while rank 1 waited (nothing inside an evaluation may be a collective)
    assert (run / "eval.csv").read_text().splitlines()[1].startswith("10,")


@pytest.mark.slow
def test_sigterm_on_nproc_stops_both_with_a_final_checkpoint_and_exits_0(tmp_path):
    process = start_long_run(tmp_path, command=(*GANTUI, "train", "--nproc", "2"))
    run = wait_for_rows(process, tmp_path)
    try:
        process.send_signal(signal.SIGTERM)  # the launcher passes it on to torchrun, torchrun to every worker
        _, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert_stopped_with_final_checkpoint(run)
    assert process.returncode == 0, errors[-3000:]  # torchrun's own exit 1 after a signal is not passed on
    assert "Traceback" not in errors and "SignalException" not in errors, errors[-3000:]  # nor its traceback


@pytest.mark.slow
def test_a_worker_killed_by_a_signal_is_named_in_one_line_and_the_run_stays_readable(tmp_path):
    process = start_long_run(tmp_path, "--checkpoint-every", "20", command=(*GANTUI, "train", "--nproc", "2"))
    run = wait_for_rows(process, tmp_path)
    try:
        # the kill comes after the first checkpoint, which is what a resume needs (the rows come first)
        block_until(RunLayout(run).last_checkpoint.exists, timeout=120, what="the run's first checkpoint")
        workers = [child for child in psutil.Process(process.pid).children(recursive=True)
                   if "gantui.cli.torchrun" not in " ".join(child.cmdline())]
        assert len(workers) == 2, workers
        workers[-1].kill()  # as the out-of-memory killer would
        _, errors = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGKILL
    assert errors.splitlines()[-1].endswith(f"(pid {workers[-1].pid}) was killed by SIGKILL"), errors[-3000:]
    assert "Traceback" not in errors, errors[-3000:]
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed"
    assert prepare_resume(run).checkpoint is not None  # resumable from its last checkpoint


# ---- SyncBatchNorm, in two processes started here --------------------------------------------------------
def _batchnorm_rank(rank: int, init_file: str, out: str) -> None:
    import torch.distributed as dist
    from torch import nn

    from gantui.engine.data.base import DataInfo
    from gantui.engine.models import build_models
    from gantui.engine.step import GanStep

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        world = World(rank=rank, local_rank=rank, world_size=2, local_world_size=2)
        config = resolve_config("mnist", "dcgan28", batch_size=8, device="cpu")
        torch.manual_seed(config.seed)
        generator, discriminator = build_models("dcgan28", DataInfo("mnist", "image", (1, 28, 28)), config.latent_dim)
        gan = GanStep(config, generator, discriminator, torch.device("cpu"), None, world)
        synced = [sum(isinstance(m, nn.SyncBatchNorm) for m in net.modules()) for net in (gan.generator,
                                                                                           gan.discriminator)]
        real = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(rank)) * 2 - 1  # differs by rank
        losses = [gan.step(real, None, measure_norms=True) for _ in range(2)]
        first_bn = next(m for m in gan.discriminator.modules() if isinstance(m, nn.SyncBatchNorm))
        Path(out).write_text(json.dumps({
            "synced": synced, "losses": [float(result.loss_d) for result in losses],
            "running_mean": first_bn.running_mean.tolist(),
            "weight": next(gan.generator.parameters()).flatten()[:20].tolist(),
        }))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_dcgan28_in_two_processes_synchronises_batchnorm_and_trains(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_batchnorm_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    for rank in ranks:
        assert rank["synced"][0] > 0 and rank["synced"][1] > 0  # SyncBatchNorm in both module trees
        assert all(torch.isfinite(torch.tensor(rank["losses"])))
    # the ranks saw different samples, yet keep the same statistics (of the global batch) and the same weights
    assert ranks[0]["running_mean"] == pytest.approx(ranks[1]["running_mean"], abs=1e-6)
    assert ranks[0]["weight"] == pytest.approx(ranks[1]["weight"], abs=1e-6)


def _batchnorm_worker(rank: int, init_file: str, folder: str) -> None:
    _batchnorm_rank(rank, init_file, str(Path(folder) / f"rank{rank}.json"))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_a_synchronised_generator_exports_as_plain_torchscript(tmp_path):
    from torch import nn

    from gantui.engine.distributed import with_sync_batchnorm
    from gantui.engine.export import export_generator
    from gantui.engine.models import build_models

    torch.manual_seed(0)
    generator, _ = build_models("dcgan28", DataInfo("mnist", "image", (1, 28, 28)), 100)
    plain = sum(isinstance(m, nn.BatchNorm2d) for m in generator.modules())
    synced = with_sync_batchnorm(generator).eval()
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in synced.modules()) == plain > 0
    latent = torch.randn(4, 100)
    loaded = torch.jit.load(str(export_generator(synced, tmp_path / "generator.pt")))
    assert not any("SyncBatchNorm" in type(m).__name__ for m in loaded.modules())
    torch.testing.assert_close(loaded(latent, None), synced(latent, None))
    assert not torch.distributed.is_initialized()  # a run of one process never sets up a process group
