"""A run folder, owned in one place: how it is laid out, the states a run is in, writing and reading it.

- `layout`: every file name of a run folder (`RunLayout`) and the naming of new run folders.
- `state`: `RunState`, its LIVE and FINAL sets, and the state a status.json really means now.
- `writer`: `RunDir` and `RunDirSink`, the trainer's side.
- `reader`: `RunSnapshot` (config, status and state of a run) and listing and finding runs.
- `tails`: `MetricsTail` / `EventsTail`, following append-only files, and whole-file loads.
- `history`: histories of those rows, bounded (`MetricsHistory`, `LatestRows`) or whole (`AllRows`).
- `ranks`: ranks.csv of a run of several processes, followed into the latest row of each rank.
- `follower`: `RunFollower`, one run followed incrementally into an immutable `FollowedRun`.
"""
