"""Runs adapted for the views: what the dashboard (`follow`), compare (`compare_data`) and the runs list
(`run_rows`) show of a run, each built on the engine's `RunFollower` and `RunSnapshot`."""
