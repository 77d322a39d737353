"""Runs of several processes: torchrun's environment, the process group, and what the ranks share.

torchrun (torch.distributed.run) starts one process per device and tells each its place in RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE and GROUP_RANK. `World.from_env` reads them; `joined` sets up the
process group (nccl on CUDA, each rank on cuda:LOCAL_RANK; gloo on the CPU) and tears it down. A process
started without torchrun, or by torchrun alone, is a world of one: no process group, no collective, the
same code path as ever.

What the ranks exchange, once per log interval (exchange.py), is one all_gather of a small dict per rank: its
interval's sums, its own figures (ranks.csv) and its control requests. A rank that fails leaves its message
in torchrun's c10d store (`report_failure`) so that rank 0 can say which rank failed and why. The models'
side is here too: DistributedDataParallel, and a SyncBatchNorm that also runs on the CPU (gloo).
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from gantui.engine.devices import resolve_device
from gantui.engine.errors import UserError

# A lost peer ends every collective within this long; rank 0's quality evaluation, which the others wait
# for at a barrier, must fit inside it. A peer that dies ends them at once (its sockets close).
COLLECTIVE_TIMEOUT_S = 600
FAILURE_KEY = "gantui/failure"  # in the c10d store: "RANK\nmessage" of the first rank that failed
PEER_FAILURE_WAIT_S = 3.0  # how long rank 0, failing itself, looks for another rank's message first
# For tests only: the rank GANTUI_FAULT_RANK raises an error at step GANTUI_FAULT_STEP (see `fault_step`).
FAULT_RANK_ENV, FAULT_STEP_ENV = "GANTUI_FAULT_RANK", "GANTUI_FAULT_STEP"
TORCHRUN_ENV = "TORCHELASTIC_RUN_ID"  # set by torchrun (torch.distributed.run) in every worker it starts


@dataclass(frozen=True)
class World:
    """This process's place among the run's processes (a world of one without torchrun)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    nodes: int = 1
    launched: bool = False  # started by torchrun: DDP even for one process (`--nproc 1`, DDP's own cost)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> World:
        """The world torchrun describes in the environment; a world of one when it is not there."""
        env = dict(os.environ if env is None else env)
        try:
            world_size = int(env.get("WORLD_SIZE", "1"))
            rank, local_rank = int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0"))
            local_world_size = int(env.get("LOCAL_WORLD_SIZE", str(world_size)))
        except ValueError:
            raise UserError("RANK, LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE must be whole numbers") from None
        nodes = max(1, -(-world_size // max(local_world_size, 1)))  # torchrun gives every node the same count
        return cls(rank, local_rank, world_size, local_world_size, nodes, launched=TORCHRUN_ENV in env)

    @property
    def is_distributed(self) -> bool:
        """Under torchrun (a process group, DDP), however many processes; not for a plain `gantui train`."""
        return self.world_size > 1 or self.launched

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run folder."""
        return self.rank == 0

    def split(self, tensor: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch (dimension 0); the whole batch in a world of one."""
        if not self.is_distributed:
            return tensor
        return tensor.tensor_split(self.world_size)[self.rank]

    def local_batch(self, batch_size: int) -> int:
        """The samples each rank takes of a global batch of `batch_size`."""
        return batch_size // self.world_size

    def check_batch(self, batch_size: int) -> None:
        """UserError when the global batch cannot be split evenly among the processes."""
        if self.is_distributed and batch_size % self.world_size:
            raise UserError(f"--batch-size {batch_size} is the global batch and must divide among the "
                            f"{self.world_size} processes; use a multiple of {self.world_size}")

    def device(self, name: str) -> torch.device:
        """--device for this rank: each rank of a CUDA run has its own GPU, cuda:LOCAL_RANK."""
        device = resolve_device(name)
        if not self.is_distributed:
            return device
        if device.type == "cuda":
            if self.local_rank >= torch.cuda.device_count():
                raise UserError(f"{self.local_world_size} processes on this node but it has only "
                                f"{torch.cuda.device_count()} GPUs")
            return torch.device("cuda", self.local_rank)
        if device.type != "cpu":
            raise UserError(f"a run of several processes trains on cuda or cpu, not {device.type}")
        return device

    def describe(self, device: torch.device) -> dict[str, Any]:
        """config.json's "distributed" object; every rank's host and device (one small gather)."""
        ranks = gather({"rank": self.rank, "local_rank": self.local_rank, "host": socket.gethostname(),
                        "device": str(device)})
        return {"world_size": self.world_size, "nodes": self.nodes, "backend": dist.get_backend(),
                "ranks": sorted(ranks, key=lambda entry: entry["rank"])}


SINGLE = World()


@contextlib.contextmanager
def joined(device_name: str, env: dict[str, str] | None = None) -> Iterator[World]:
    """The process group for the world torchrun describes, for the length of the block; a world of one
    (nothing set up) without torchrun."""
    world = World.from_env(env)
    if not world.is_distributed:
        yield world
        return
    device = world.device(device_name)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S),
                            **({"device_id": device} if device.type == "cuda" else {}))
    try:
        yield world
    finally:
        with contextlib.suppress(Exception):  # a peer may be gone already
            dist.destroy_process_group()


# ---- collectives (called on every rank in the same order) ---------------------------------------------
def gather(value: Any) -> list[Any]:
    """Every rank's `value` (picklable), in rank order."""
    values: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def broadcast(value: Any, world: World) -> Any:
    """Rank 0's `value` on every rank."""
    if not world.is_distributed:
        return value
    box = [value if world.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    """Every rank waits here until all arrive (rank 0 evaluating, exporting)."""
    if world.is_distributed:
        dist.barrier()


def all_true(flag: bool, world: World) -> bool:
    """Whether `flag` holds on every rank."""
    if not world.is_distributed:
        return flag
    return all(gather(bool(flag)))


# ---- failures ------------------------------------------------------------------------------------------
def _store() -> Any | None:
    with contextlib.suppress(Exception):
        return dist.distributed_c10d._get_default_store()
    return None


def report_failure(world: World, message: str) -> None:
    """Leave this rank's failure in the c10d store for rank 0 (the first failure is kept)."""
    store = _store()
    if store is None:
        return
    with contextlib.suppress(Exception):
        store.compare_set(FAILURE_KEY, "", f"{world.rank}\n{message}")


def peer_failure(world: World, wait_s: float = PEER_FAILURE_WAIT_S) -> tuple[int, str] | None:
    """(rank, message) of another rank that failed, looked for up to `wait_s`; None when none did."""
    store = _store()
    if store is None or not world.is_distributed:
        return None
    deadline = time.monotonic() + wait_s
    while True:
        with contextlib.suppress(Exception):
            if store.check([FAILURE_KEY]):
                rank_text, _, message = store.get(FAILURE_KEY).decode("utf-8", "replace").partition("\n")
                if rank_text.isdigit() and int(rank_text) != world.rank:
                    return int(rank_text), message
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def fault_step(world: World, env: dict[str, str] | None = None) -> int | None:
    """For tests only: the step at which this rank must raise (GANTUI_FAULT_RANK and GANTUI_FAULT_STEP)."""
    env = os.environ if env is None else env
    rank, step = env.get(FAULT_RANK_ENV, ""), env.get(FAULT_STEP_ENV, "")
    if rank.isdigit() and step.isdigit() and int(rank) == world.rank:
        return int(step)
    return None


class InjectedFault(RuntimeError):
    """The error GANTUI_FAULT_RANK / GANTUI_FAULT_STEP ask for (tests of a failing rank)."""


# ---- models ----------------------------------------------------------------------------------------------
class SyncBatchNorm(nn.SyncBatchNorm):
    """torch's SyncBatchNorm (CUDA), with a gloo path for the CPU, which torch's does not take.

    On the CPU the batch's per-channel sums travel in one differentiable all_reduce, so the statistics, and
    their gradients, are those of the global batch, as on CUDA.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.device.type != "cpu" or not self.training or not dist.is_initialized():
            return super().forward(input)
        channels = input.shape[1]
        dims = [0, *range(2, input.dim())]
        count = torch.tensor([input.numel() / channels], dtype=input.dtype)
        stats = _SumOverRanks.apply(torch.cat([input.sum(dims), (input * input).sum(dims), count]))
        total = stats[-1]
        mean = stats[:channels] / total
        var = (stats[channels:2 * channels] / total - mean * mean).clamp_min(0)
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                unbiased = var * (total / (total - 1).clamp_min(1))
                self.running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased.detach())
        shape = [1, channels] + [1] * (input.dim() - 2)
        output = (input - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            output = output * self.weight.view(shape) + self.bias.view(shape)
        return output


class _SumOverRanks(torch.autograd.Function):
    """The sum of a tensor over the ranks, and of its gradient on the way back."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


def with_sync_batchnorm(module: nn.Module) -> nn.Module:
    """`module` with every BatchNorm layer synchronised across the ranks (the same parameters and buffers)."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
        synced = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                               module.track_running_stats)
        _move_state(module, synced)
        synced.plain_class = type(module)  # what `without_sync_batchnorm` turns it back into
        return synced
    for name, child in module.named_children():
        module.add_module(name, with_sync_batchnorm(child))
    return module


def without_sync_batchnorm(module: nn.Module) -> nn.Module:
    """The inverse of `with_sync_batchnorm` (TorchScript cannot take SyncBatchNorm): the same state."""
    if isinstance(module, SyncBatchNorm):
        plain = module.plain_class(module.num_features, module.eps, module.momentum, module.affine,
                                   module.track_running_stats)
        _move_state(module, plain)
        return plain
    for name, child in module.named_children():
        module.add_module(name, without_sync_batchnorm(child))
    return module


def _move_state(source: nn.Module, target: nn.Module) -> None:
    if source.affine:
        target.weight, target.bias = source.weight, source.bias
    target.running_mean, target.running_var = source.running_mean, source.running_var
    target.num_batches_tracked = source.num_batches_tracked
    target.train(source.training)


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` inside DistributedDataParallel; its buffers stay per rank (SyncBatchNorm keeps them equal)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    newer = "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters  # torch 2.14 renamed it
    no_sync = {"forward_sync_buffers": False} if newer else {"broadcast_buffers": False}
    return DistributedDataParallel(module, device_ids=ids, **no_sync)
