"""bench/shapes_recipes.py's summary of a recipe's run: its best and last evaluations and the step it became good."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import shapes_recipes  # noqa: E402


def test_a_recipe_is_good_from_its_first_evaluation_with_recall_and_coverage_at_the_threshold(tmp_path):
    run = tmp_path / "20261202-120000-shapes-dcgan64-recipe-smooth"
    run.mkdir()
    (run / "eval.csv").write_text(
        "step,fid_rand,recall_rand,coverage_rand,diversity,embedding_version\n"
        "250,300,0.0,0.1,0.2,3\n"
        "500,60,0.6,0.4,0.7,3\n"  # recall enough, coverage not
        "750,40,0.5,0.5,0.8,3\n"  # both at the threshold: good from here
        "1000,45,0.2,0.3,0.8,3\n")
    summary = shapes_recipes._summary(tmp_path, "smooth")
    assert summary["good_at"] == 750 and summary["evaluations"] == 4
    assert summary["best"]["step"] == 750 and summary["last"]["step"] == 1000
    table = shapes_recipes._table({"smooth": summary, "hinge": shapes_recipes._summary(tmp_path, "hinge")})
    assert "| smooth | --label-smoothing 0.1 | 750 | 40.0 | 0.50 | 0.50 | 1000 | 45.0 |" in table
    assert "| hinge | --loss hinge | – |" in table and table.rstrip().endswith("never |")


def test_a_run_that_ignores_the_stop_signal_is_killed_after_the_grace():
    with subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                           "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
                           "time.sleep(600)"], stdout=subprocess.PIPE, text=True) as stubborn:
        assert stubborn.stdout.readline() == "ready\n"  # its handler is in place
        stubborn.terminate()
        shapes_recipes._stop(stubborn, grace=0.5)
        assert stubborn.returncode == -9  # SIGKILL; the sweep goes on instead of raising TimeoutExpired
