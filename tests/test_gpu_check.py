"""bench/gpu_check.sh, the one prepared check for a lent GPU machine, rehearsed on the CPU (`--cpu`) so that it
is known to work before any GPU time is spent on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_gpu_check_rehearses_every_step_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--cpu", "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads((out / "gpu_check.json").read_text())
    assert data["mode"] == "cpu"
    steps = {record["step"]: record for record in data["steps"]}
    assert list(steps) == ["environment", "cuda_tests", "architectures", "device_pane", "ddp_1gpu", "figure_7",
                           "monitor_cost", "compile"]
    assert all(record["status"] in ("ok", "skipped") for record in steps.values()), steps
    ran = [record for record in steps.values() if record["status"] == "ok"]
    assert len(ran) >= 6  # the budget left room for nearly everything
    archs = steps["architectures"]
    assert archs["status"] != "ok" or archs["mlp"]["state"] == "finished" and archs["dcgan28"]["state"] == "finished"
    ddp = steps["ddp_1gpu"]
    assert ddp["status"] != "ok" or ddp["plain"]["state"] == "finished"
    assert ddp["status"] != "ok" or isinstance(ddp["nproc_1"], dict) or "not available" in ddp["nproc_1"]
    assert "## architectures" in (out / "gpu_check.md").read_text()
