"""torchrun (torch.distributed.run) as the engine that starts ranks: on one box `--standalone`,
across boxes the c10d rendezvous at an address every box can reach.

    torchrun --standalone --nproc-per-node 8 -m MODULE ARGS…
    torchrun --nnodes 2 --node-rank 0 --rdzv-backend c10d --rdzv-endpoint head:29400 -m MODULE ARGS…

repro starts `repro.orchestrator.worker PLAN_FILE` this way: the ranks read the resolved plan from
the file, so nothing about the run is re-stated on a command line. The kit has no scheduler of its
own: placement across boxes is torchrun's rendezvous, spot retries are SkyPilot's.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from repro.harness.signals import forwarded_to


class LaunchError(ValueError):
    """The requested ranks or rendezvous cannot be launched; the message says what to change."""


@dataclass(frozen=True)
class Ranks:
    """How many processes, on how many boxes, meeting where."""
    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    rdzv_id: str = "repro"

    def check(self) -> None:
        if self.nproc_per_node < 1:
            raise LaunchError(f"--gpus must be ≥ 1, got {self.nproc_per_node}")
        if self.nnodes < 1 or not 0 <= self.node_rank < self.nnodes:
            raise LaunchError(f"--node-rank must be in 0..{max(self.nnodes, 1) - 1} for --nnodes {self.nnodes}, "
                              f"got {self.node_rank}")
        if self.nnodes > 1 and self.rdzv_endpoint is None:
            raise LaunchError(f"--nnodes {self.nnodes} needs --rdzv-endpoint HOST:PORT, reachable from every box "
                              "(e.g. the first box's address and a free port such as 29400)")

    @property
    def many(self) -> bool:
        return self.nproc_per_node > 1 or self.nnodes > 1


def torchrun_command(module: str, args: Sequence[str], ranks: Ranks) -> list[str]:
    """`python -m torch.distributed.run … -m module args…`."""
    ranks.check()
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={ranks.nproc_per_node}"]
    if ranks.nnodes == 1 and ranks.rdzv_endpoint is None:
        cmd.append("--standalone")
    else:
        cmd += [f"--nnodes={ranks.nnodes}", f"--node-rank={ranks.node_rank}", "--rdzv-backend=c10d",
                f"--rdzv-endpoint={ranks.rdzv_endpoint}", f"--rdzv-id={ranks.rdzv_id}"]
    return cmd + ["-m", module, *args]


def start(module: str, args: Sequence[str], ranks: Ranks) -> subprocess.Popen:
    """Start torchrun; one CPU thread per rank unless OMP_NUM_THREADS says otherwise."""
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    return subprocess.Popen(torchrun_command(module, args, ranks), env=env)


def wait(process: subprocess.Popen, poll=None, every_s: float = 0.2) -> int:
    """Wait for torchrun, calling `poll()` every `every_s` seconds meanwhile; SIGTERM/SIGINT sent to
    this process reach torchrun, which passes them to every rank (each saves a checkpoint)."""
    with forwarded_to(process):
        while True:
            try:
                return process.wait(timeout=every_s)
            except subprocess.TimeoutExpired:
                if poll is not None:
                    poll()
