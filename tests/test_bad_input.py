"""The whole bad-input corpus (tests/corpus.py): each case is one line on stderr and exit status 2, with no
traceback, no new run folder and no change to any run, the damaged one included."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

import pytest
from corpus import CASES, Case, expand

WITNESS = "20260101-000000-mnist-mlp-witness"  # a finished run that no case may touch


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A short finished mnist + mlp run with its checkpoint, made by the engine."""
    from gantui.engine.config import resolve_config
    from gantui.engine.prepare import prepare_run
    from gantui.engine.trainer import train

    root = tmp_path_factory.mktemp("corpus-runs")
    config = resolve_config("mnist", "mlp", steps=2, batch_size=8, log_every=1, sample_every=2, eval_every=0,
                            device="cpu", runs_dir=str(root))
    prepared = prepare_run(config)
    assert train(prepared) == "finished"
    return prepared.path


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with a digest of its bytes (the lock file aside: taking it is no change)."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"}


def test_the_corpus_is_large_and_named_once() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 60 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_line_and_exit_2(case: Case, tmp_path: Path, finished_run: Path, capfd) -> None:
    from gantui.cli import main

    if not case.root_refuses and os.geteuid() == 0:
        pytest.skip("root ignores file permissions; the read-only disk test covers this as root")
    runs = tmp_path / "runs"
    shutil.copytree(finished_run, runs / WITNESS)
    run = None
    if case.needs_run:
        run = runs / "20260101-000100-mnist-mlp-damaged"
        shutil.copytree(finished_run, run)
    folder = tmp_path / "case"
    folder.mkdir()
    if case.build is not None:
        case.build(folder, run)
    before = tree(runs)
    capfd.readouterr()
    with warnings.catch_warnings(), pytest.raises(SystemExit) as exited:
        warnings.simplefilter("always")  # a warning printed once per process must still show in every case
        main(expand(case, folder, runs, run))
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert exited.value.code == 2, (out, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in case.words:
        assert word in lines[0], lines[0]
    assert tree(runs) == before  # no new run, nothing changed in any run
