"""`gantui watch` must start fast: the app and a dashboard on a run never import torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = str(Path(__file__).parents[1])  # the scripts wait with tests/waiting.py
SCRIPT = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv.pop(1))
from waiting import wait_until
from gantui.app.app import GanApp
from gantui.app.screens.dashboard import DashboardScreen

async def main():
    run = Path(sys.argv[1])
    app = GanApp([run.parent], watch=run, graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen.poll is not None,
                         what="the first poll")
        assert app.screen.poll.metrics.count == 60
    print("torch" in sys.modules)

asyncio.run(main())
"""


def test_watching_a_run_never_imports_torch(image_run: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, TESTS, str(image_run)], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


LIST_AND_COMPARE = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, sys.argv.pop(1))
from waiting import wait_until
from gantui.app.app import GanApp
from gantui.app.screens.compare import CompareScreen
from gantui.app.screens.explorer import ExplorerScreen  # torch only once it draws

async def main():
    runs = [Path(p) for p in sys.argv[1:]]
    app = GanApp([runs[0].parent], graphics="ascii", poll_interval=0.05, probe_host=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.screen.rows, what="the runs list")
        app.open_compare(runs)
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.loads_seen,
                         what="compare loaded")
    print("torch" in sys.modules)

asyncio.run(main())
"""


def test_the_runs_list_and_compare_never_import_torch(image_run: Path, pattern_run: Path) -> None:
    result = subprocess.run([sys.executable, "-c", LIST_AND_COMPARE, TESTS, str(image_run), str(pattern_run)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
