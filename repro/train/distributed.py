"""Scale-out inside a rank: torchrun (torch.distributed.run) starts the ranks, DDP syncs them.

Each rank finds RANK, WORLD_SIZE and LOCAL_RANK in its environment, joins the process group (NCCL
on GPUs, gloo on CPU), and trains its share of every global batch. Only rank 0 writes files
(RunSession). Starting the ranks is repro.launch.torchrun's job, from a resolved plan.

Equivalence with one process: every rank draws the same global order (same seed), takes its slice
of each global batch, and scales its summed loss by world_size / global_batch, so DDP's gradient
average equals the one-process gradient of the whole batch, ragged last batch included.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None          # nccl | gloo when a process group is up

    @property
    def active(self) -> bool:
        return self.world_size > 1


def under_torchrun() -> bool:
    return all(k in os.environ for k in TORCHRUN_ENV)


def env_rank() -> tuple[int, int]:
    """(rank, world_size) from torchrun's environment; (0, 1) when not launched by it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def setup(device: str) -> DistContext:
    """Join torchrun's process group when launched by it (idempotent); a plain context otherwise.
    On CUDA each rank takes GPU LOCAL_RANK of its box."""
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device)
    if dev.type == "cuda":
        if world_size > 1 and torch.cuda.device_count() <= local_rank:
            raise RuntimeError(f"rank {rank} wants GPU {local_rank} but this box shows "
                              f"{torch.cuda.device_count()}; pass --gpus ≤ the GPUs per box")
        dev = torch.device("cuda", local_rank if world_size > 1 else (dev.index or 0))
        torch.cuda.set_device(dev)
    if world_size <= 1:
        return DistContext(device=dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size,
                                device_id=dev if dev.type == "cuda" else None)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=dev, backend=backend)


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """DDP around the model when there is more than one rank; the model itself otherwise."""
    if not ctx.active:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP
    return DDP(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model under DDP / torch.compile wrappers (what a checkpoint stores)."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if inner is None:
            return model
        model = inner


def for_eval(model: nn.Module, ctx: DistContext) -> nn.Module:
    """The bare model for evaluation, holding rank 0's BatchNorm statistics on every rank. Evaluating
    through DDP would make every forward a collective, and ranks may hold different numbers of eval
    batches (the eval set rarely divides evenly)."""
    if not ctx.active:
        return model
    bare = unwrap(model)
    for buf in bare.buffers():
        dist.broadcast(buf, src=0)
    return bare


def all_reduce_sum(values: Sequence[float], ctx: DistContext) -> list[float]:
    """Sum a few numbers over the ranks (eval counts, loss sums); returns them unchanged on one rank."""
    if not ctx.active:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank when any rank's flag is set (a SIGTERM seen by one rank stops all at the
    same step, so their checkpoint agrees)."""
    return any_rank_flags([flag], ctx)[0]


def any_rank_flags(flags: Sequence[bool | torch.Tensor], ctx: DistContext) -> list[bool]:
    """For each flag, True on every rank when it is set on any rank. A flag may be a 0-d tensor on
    the device (`~torch.isfinite(loss)`), computed without reading it: all the flags travel in one
    MAX all-reduce and are read back with one device→host copy, the only host–device sync here."""
    if not ctx.active:
        return [bool(f) for f in flags]
    t = torch.stack([torch.as_tensor(f, device=ctx.device).reshape(()).to(torch.int32) for f in flags])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def shard_rows(n: int, ctx: DistContext) -> slice:
    """This rank's rows of a global batch of n: contiguous slices, sizes differing by at most one."""
    base, extra = divmod(n, ctx.world_size)
    start = ctx.rank * base + min(ctx.rank, extra)
    return slice(start, start + base + (1 if ctx.rank < extra else 0))


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        dist.barrier()


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
