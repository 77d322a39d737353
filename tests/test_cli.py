"""The command line as a user meets it: real subprocesses in a temporary folder."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from waiting import block_until

GANTUI = [sys.executable, "-m", "gantui"]


def gantui(*args, cwd, timeout=240):
    return subprocess.run([*GANTUI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def assert_one_line_error(result, *words):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def make_bad_files(root: Path) -> dict[str, Path]:
    files = {}
    files["short.csv"] = root / "short.csv"
    files["short.csv"].write_text("1,2,3\n4,5,6\n")
    files["words.csv"] = root / "words.csv"
    files["words.csv"].write_text("3," + ",".join(["x"] * 784) + "\n")
    files["label.csv"] = root / "label.csv"
    files["label.csv"].write_text("12," + ",".join(["0"] * 784) + "\n")
    files["empty.csv"] = root / "empty.csv"
    files["empty.csv"].write_text("")
    files["floats.h5"] = root / "floats.h5"
    with h5py.File(files["floats.h5"], "w") as handle:
        handle.create_dataset("x", data=np.full((4, 8, 8, 3), np.nan, dtype=np.float32))  # floats load; NaN does not
    files["rank.h5"] = root / "rank.h5"
    with h5py.File(files["rank.h5"], "w") as handle:
        handle.create_dataset("x", data=np.zeros((4,), dtype=np.uint8))
    files["flat-images"] = root / "flat-images"
    files["flat-images"].mkdir()
    from PIL import Image

    for index in range(3):
        Image.new("RGB", (30, 30), (index * 80, 0, 0)).save(files["flat-images"] / f"{index}.png")
    files["no-images"] = root / "no-images"
    files["no-images"].mkdir()
    (files["no-images"] / "broken.png").write_bytes(b"not a png")
    return files


BAD_INPUTS = [
    (["--dataset", "mnist-csv", "--arch", "mlp", "--data", "missing.csv"], ["missing.csv"]),
    (["--dataset", "mnist-csv", "--arch", "mlp", "--data", "{short.csv}"], ["short.csv"]),
    (["--dataset", "mnist-csv", "--arch", "mlp", "--data", "{words.csv}"], ["words.csv"]),
    (["--dataset", "mnist-csv", "--arch", "mlp", "--data", "{label.csv}"], ["label.csv"]),
    (["--dataset", "mnist-csv", "--arch", "mlp", "--data", "{empty.csv}"], ["empty.csv"]),
    (["--dataset", "hdf5", "--arch", "mlp", "--data", "{floats.h5}"], ["floats.h5"]),
    (["--dataset", "hdf5", "--arch", "mlp", "--data", "{rank.h5}"], ["rank.h5"]),
    (["--dataset", "imagefolder", "--arch", "dcgan64", "--data", "{no-images}"], ["no-images"]),
    (["--dataset", "pattern1010", "--arch", "cgan"], ["cgan"]),
    (["--dataset", "imagefolder", "--arch", "cgan", "--data", "{flat-images}"], ["cgan", "label"]),
    (["--dataset", "mnist", "--arch", "dcgan64", "--image-size", "32"], ["64"]),
    (["--dataset", "mnist", "--arch", "mlp", "--name", "a/../../escaped"], ["--name"]),
    (["--dataset", "mnist", "--arch", "mlp", "--seed", "-1"], ["--seed"]),
    (["--dataset", "mnist", "--arch", "mlp", "--lr", "0"], ["--lr"]),
    (["--dataset", "mnist", "--arch", "mlp", "--lr", "-1"], ["--lr"]),
    (["--dataset", "mnist", "--arch", "mlp", "--batch-size", "0"], ["--batch-size"]),
    (["--dataset", "mnist", "--arch", "mlp", "--steps", "0"], ["--steps"]),
    (["--dataset", "mnist", "--arch", "mlp", "--epochs", "-2"], ["--epochs"]),
    (["--dataset", "mnist", "--arch", "mlp", "--latent-dim", "0"], ["--latent-dim"]),
    (["--dataset", "mnist", "--arch", "mlp", "--device", "tpu"], ["tpu"]),
    (["--dataset", "mnist", "--arch", "mlp", "--device", "cuda"], ["CUDA"]),
    (["--dataset", "nope", "--arch", "mlp"], ["nope"]),
    (["--dataset", "mnist", "--arch", "nope"], ["nope"]),
    (["--dataset", "mnist", "--arch", "mlp", "--lr", "abc"], ["--lr"]),
]


@pytest.mark.parametrize(("args", "words"), BAD_INPUTS, ids=[" ".join(a[1::2])[:60] for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_no_run_folder(tmp_path, args, words):
    if "--device" in args and "cuda" in args:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    files = make_bad_files(tmp_path)
    args = [str(files[a[1:-1]]) if a.startswith("{") else a for a in args]
    if "--steps" not in args and "--epochs" not in args:
        args += ["--steps", "1"]
    result = gantui("train", *args, "--runs-dir", tmp_path / "runs", cwd=tmp_path)
    assert_one_line_error(result, *words)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_train_writes_a_run_and_runs_lists_it(tmp_path):
    result = gantui("train", "--dataset", "pattern1010", "--arch", "pattern-mlp", "--steps", "200",
                    "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "finished at step 200" in result.stdout  # plain progress lines when stdout is not a terminal
    listed = json.loads(gantui("runs", "--json", cwd=tmp_path).stdout)
    assert len(listed) == 1 and listed[0]["state"] == "finished" and listed[0]["step"] == 200
    assert listed[0]["arch"] == "pattern-mlp"
    table = gantui("runs", cwd=tmp_path)
    assert "pattern-mlp" in table.stdout and "finished" in table.stdout


def test_sample_export_and_check(tmp_path):
    trained = gantui("train", "-d", "mnist", "-a", "cgan", "--steps", "20", "--device", "cpu", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    run = next((tmp_path / "runs").iterdir())
    result = gantui("sample", run.name, "-n", "12", "--out", tmp_path / "grid.png", "--label", "7", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    assert Image.open(tmp_path / "grid.png").size[0] > 28 * 3
    assert_one_line_error(gantui("sample", run.name, "--out", tmp_path / "x.png", "--label", "11", cwd=tmp_path),
                          "--label")
    assert gantui("export", run, "--out", tmp_path / "g.pt", cwd=tmp_path).returncode == 0
    loaded = subprocess.run([sys.executable, "-c", "import sys, torch; g = torch.jit.load(sys.argv[1]); "
                             "print(tuple(g(torch.randn(2, 100), torch.tensor([3, 4])).shape))", tmp_path / "g.pt"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert loaded.stdout.strip() == "(2, 1, 28, 28)", loaded.stderr
    check = gantui("check", "-d", "mnist", "-a", "mlp", "--device", "cpu", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "D real vs noise" in check.stdout and "generator shape" in check.stdout


def test_listings():
    datasets = gantui("datasets", cwd=".").stdout
    for name in ("pattern1010", "quadratic", "mnist", "mnist-csv", "hdf5", "imagefolder", "fashion-mnist",
                 "cifar10", "shapes"):
        assert any(line.split()[0] == name for line in datasets.splitlines()), name
    archs = gantui("archs", cwd=".").stdout
    for name in ("pattern-mlp", "curve-mlp", "mlp", "dcgan28", "conv", "dcgan64", "cgan", "cdcgan"):
        line = next(line for line in archs.splitlines() if line.split()[0] == name)
        assert "G " in line and "D " in line, line


def test_sigterm_stops_gracefully_with_a_final_checkpoint(tmp_path):
    process = subprocess.Popen([*GANTUI, "train", "-d", "mnist", "-a", "mlp", "--epochs", "50", "--device", "cpu",
                                "--log-every", "5"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)

    def three_rows() -> Path | None:
        assert process.poll() is None, process.communicate()  # it ended before it was told to: say why
        found = list((tmp_path / "runs").glob("*/metrics.csv"))
        return found[0] if found and found[0].read_text().count("\n") >= 3 else None

    try:
        metrics = block_until(three_rows, timeout=120, what="three rows in the run's metrics.csv")
    except AssertionError:
        process.kill()
        raise
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0
    status = json.loads((metrics.parent / "status.json").read_text())
    assert status["state"] == "stopped"
    import torch

    assert torch.load(metrics.parent / "checkpoints" / "last.pt", weights_only=True)["step"] == status["step"]
    resumed = gantui("resume", metrics.parent, "--steps", str(status["step"] + 10), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    after = json.loads((metrics.parent / "status.json").read_text())
    assert after["state"] == "finished" and after["started"] == status["started"]
    steps = [int(line.split(",")[0]) for line in metrics.read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == status["step"] + 10  # continuous, no step twice


@pytest.mark.parametrize("command", [["runs"], ["watch", "RUN"], ["compare", "A", "B"], ["resume", "RUN"],
                                     ["sample", "RUN", "--out", "x.png"], ["export", "RUN", "--out", "g.pt"]])
def test_runs_dir_before_the_command_serves_it(command):
    from gantui.cli import parse_args

    assert parse_args(["--runs-dir", "a", "--runs-dir", "b", *command]).runs_dir == ["a", "b"]
    assert parse_args(["--runs-dir", "a", *command, "--runs-dir", "c"]).runs_dir == ["c"]  # its own wins
    assert parse_args(command).runs_dir is None


def test_runs_dir_before_train_and_graphics_before_watch():
    from gantui.cli import parse_args
    from gantui.engine.errors import UserError

    assert parse_args(["--runs-dir", "a", "train", "--dataset", "mnist"]).runs_dir == "a"
    with pytest.raises(UserError, match="one --runs-dir"):
        parse_args(["--runs-dir", "a", "--runs-dir", "b", "train"])
    assert parse_args(["--graphics", "ascii", "watch"]).graphics == "ascii"
    assert parse_args(["--graphics", "ascii", "watch", "--graphics", "sixel"]).graphics == "sixel"
    assert parse_args(["watch"]).graphics == "auto"


def test_runs_lists_the_folder_given_before_the_command(tmp_path):
    result = gantui("--runs-dir", tmp_path / "elsewhere", "runs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "elsewhere" in result.stdout and "runs\n" not in result.stdout
