"""Turning a run folder into one of several processes, exactly as the distributed trainer writes it
(SPEC section 3): config.json's "distributed", status.json's "world_size", and ranks.csv. The display
tests use it so that they need no torchrun."""

from __future__ import annotations

import json
from pathlib import Path

RANKS_HEADER = "step,rank,host,device,samples_per_s,mem_allocated,mem_peak,rss,time"


def rank_line(step: int, rank: int, host: str, device: str, samples_per_s: float, time: float,
              mem_allocated: int | None = None, mem_peak: int | None = None, rss: int | None = 536_870_912) -> str:
    cells = (step, rank, host, device, samples_per_s, mem_allocated, mem_peak, rss, time)
    return ",".join("" if cell is None else str(cell) for cell in cells) + "\n"


def make_distributed(path: Path, devices: list[tuple[str, str]], speeds: list[float], *, steps: tuple[int, ...] = (
        580, 590, 600), time: float = 1_767_225_630.0, cuda_memory: bool = False, failed_rank: int | None = None,
        message: str | None = None) -> Path:
    """`path` (a run folder) as a run of len(devices) processes: (host, device) per rank, each rank's samples/s;
    ranks.csv gets one row per rank for each of `steps`, the last at unix `time`."""
    world = len(devices)
    hosts = sorted({host for host, _ in devices})
    config_path, status_path = path / "config.json", path / "status.json"
    config = json.loads(config_path.read_text())
    config["distributed"] = {
        "world_size": world, "nodes": len(hosts), "backend": "nccl" if cuda_memory else "gloo",
        "ranks": [{"rank": rank, "local_rank": [h for h, _ in devices[:rank]].count(host), "host": host,
                   "device": device} for rank, (host, device) in enumerate(devices)]}
    config_path.write_text(json.dumps(config, indent=2))
    status = json.loads(status_path.read_text())
    status["world_size"] = world
    if failed_rank is not None:
        status.update(state="failed", failed_rank=failed_rank, message=message or f"rank {failed_rank} failed")
    status_path.write_text(json.dumps(status, indent=2))
    lines = [RANKS_HEADER + "\n"]
    for index, step in enumerate(steps):
        at = time - (len(steps) - 1 - index) * 5.0
        for rank, ((host, device), speed) in enumerate(zip(devices, speeds, strict=True)):
            memory = (2_000_000_000 + rank * 100_000_000, 2_500_000_000 + rank * 100_000_000) if cuda_memory \
                else (None, None)
            lines.append(rank_line(step, rank, host, device, speed, at - rank * 0.5, *memory,
                                   rss=536_870_912 + rank * 1_048_576))
    (path / "ranks.csv").write_text("".join(lines))
    return path
