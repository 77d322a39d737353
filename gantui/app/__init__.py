"""The terminal app: a launcher to start runs and a dashboard that follows a run directory.

Everything here reads runs only through `gantui.engine.run`; torch is imported lazily (the launcher's
preview and the in-process thread mode), so `gantui watch` starts fast.
"""
