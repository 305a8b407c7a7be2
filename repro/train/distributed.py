"""Scale-out on an existing engine: torchrun (torch.distributed.run) starts the ranks, DDP syncs them.

    repro imagenet --gpus 8                       # one box: torchrun --standalone --nproc-per-node 8
    repro imagenet --gpus 8 --nnodes 2 --node-rank 0 --rdzv-endpoint head:29400   # on each box

`repro … --gpus N` (N > 1) re-executes the same command under torchrun; each rank then finds RANK,
WORLD_SIZE and LOCAL_RANK in its environment (STYLE: detect torchrun from the environment), joins the
process group (NCCL on GPUs, gloo on CPU), and trains its share of every global batch. Only rank 0
writes files (RunSession). The kit has no scheduler of its own: placement across boxes is torchrun's
c10d rendezvous, spot retries are SkyPilot's.

Equivalence with one process: every rank draws the same global order (same seed), takes its slice
of each global batch, and scales its summed loss by world_size / global_batch, so DDP's gradient
average equals the one-process gradient of the whole batch, ragged last batch included.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class LaunchError(ValueError):
    """The requested ranks or rendezvous cannot be launched; the message says what to change."""


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


def setup(device: str) -> DistContext:
    """Join torchrun's process group when launched by it (idempotent); a plain context otherwise.
    On CUDA each rank takes GPU LOCAL_RANK of its box."""
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device(device)
    if dev.type == "cuda":
        if world_size > 1 and torch.cuda.device_count() <= local_rank:
            raise LaunchError(f"rank {rank} wants GPU {local_rank} but this box shows "
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
    if not ctx.active:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


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


# -- launching -----------------------------------------------------------------------------------
def torchrun_command(cli_args: Sequence[str], *, nproc_per_node: int, nnodes: int = 1, node_rank: int = 0,
                     rdzv_endpoint: str | None = None, rdzv_id: str | None = None) -> list[str]:
    """`python -m torch.distributed.run … -m repro.cli <cli_args>`: standalone on one box, c10d
    rendezvous at `rdzv_endpoint` across boxes."""
    if nproc_per_node < 1:
        raise LaunchError(f"--gpus must be ≥ 1, got {nproc_per_node}")
    if nnodes < 1 or not 0 <= node_rank < nnodes:
        raise LaunchError(f"--node-rank must be in 0..{nnodes - 1} for --nnodes {nnodes}, got {node_rank}")
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc_per_node}"]
    if nnodes == 1 and rdzv_endpoint is None:
        cmd.append("--standalone")
    else:
        if rdzv_endpoint is None:
            raise LaunchError(f"--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT, reachable from every box "
                              "(e.g. the first box's address and a free port such as 29400)")
        cmd += [f"--nnodes={nnodes}", f"--node-rank={node_rank}", "--rdzv-backend=c10d",
                f"--rdzv-endpoint={rdzv_endpoint}", f"--rdzv-id={rdzv_id or os.environ.get('REPRO_RDZV_ID', 'repro')}"]
    return cmd + ["-m", "repro.cli", *cli_args]


def launch(cli_args: Sequence[str], **kwargs) -> int:
    """Run the command under torchrun and wait; returns torchrun's exit code. SIGTERM/SIGINT sent to
    this process reach torchrun, which passes them to every rank (each saves a checkpoint)."""
    import signal

    cmd = torchrun_command(cli_args, **kwargs)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.Popen(cmd, env=env)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def forward(signum, frame):
        proc.send_signal(signum)

    for s in previous:
        signal.signal(s, forward)
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


FAMILY_COMMANDS = {"imagenet": "imagenet", "cifar10": "cifar"}  # recipe.data.name → `repro` sub-command


def cli_args(*, recipe_name: str, recipe, runs: int, seed: int, target, epochs, precision, overrides,
             results_dir, device, data_dir, synthetic: bool, snapshot_path, stop_at_target: bool, gpus,
             resume, printer) -> list[str]:
    """The `repro <family> …` arguments that make every rank repeat this call."""
    family = FAMILY_COMMANDS.get(recipe.data.name)
    if family is None:
        raise LaunchError(f"recipe {recipe.name!r} ({recipe.data.name}) has no multi-rank launcher; "
                          f"--gpus > 1 works for the {', '.join(FAMILY_COMMANDS)} recipes")
    args = [family, "--recipe", recipe_name or recipe.name, "--runs", str(runs), "--seed", str(seed),
            "--results", str(results_dir), "--gpus", str(gpus or 1)]
    for flag, value in (("--target", target), ("--epochs", epochs), ("--precision", precision),
                        ("--device", device), ("--data", data_dir), ("--snapshot", snapshot_path),
                        ("--resume", resume)):
        if value is not None:
            args += [flag, str(value)]
    for o in overrides or []:
        args += ["--set", o]
    if synthetic:
        args.append("--synthetic")
    if stop_at_target:
        args.append("--stop-at-target")
    if getattr(printer, "as_json", False):
        args.append("--json")
    elif getattr(printer, "quiet", False):
        args.append("--quiet")
    return args


def default_gpus(recipe, device: str) -> int:
    """Without --gpus: every local GPU the recipe's published figure used (capped by what the box has);
    one process on CPU."""
    if not str(device).startswith("cuda") or recipe.data.name not in FAMILY_COMMANDS:
        return 1
    return max(1, min(recipe.gpus, torch.cuda.device_count()))
