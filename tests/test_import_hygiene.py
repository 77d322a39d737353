"""The engine is headless: importing all of it must not pull in textual or rich."""

import subprocess
import sys

ENGINE_MODULES = [
    "gantui.engine.prepare", "gantui.engine.trainer", "gantui.engine.run.reader", "gantui.engine.run.writer",
    "gantui.engine.run.follower", "gantui.engine.run.history", "gantui.engine.run.layout",
    "gantui.engine.check", "gantui.engine.generate", "gantui.engine.data", "gantui.engine.models",
    "gantui.engine.losses", "gantui.engine.packh5", "gantui.engine.control", "gantui.engine.devices",
    "gantui.engine.places", "gantui.engine.spawn", "gantui.engine.explore", "gantui.engine.remote.agent",
    "gantui.engine.remote.mirror", "gantui.engine.remote.ssh", "gantui.engine.remote.settings",
    "gantui.engine.remote.host",
]


def test_engine_imports_neither_textual_nor_rich():
    code = (
        "import importlib, sys\n"
        f"for name in {ENGINE_MODULES!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"engine imported UI modules: {result.stdout}"
