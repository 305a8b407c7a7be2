"""torchrun command lines: standalone on one box, c10d rendezvous across boxes, checked ranks."""
import sys

import pytest

from repro.launch.torchrun import LaunchError, Ranks, torchrun_command


def test_standalone_command_for_one_box():
    cmd = torchrun_command("repro.orchestrator.worker", ["/tmp/plan.json"], Ranks(nproc_per_node=8))
    assert cmd[:4] == [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=8"]
    assert "--standalone" in cmd
    assert cmd[cmd.index("-m", 3):] == ["-m", "repro.orchestrator.worker", "/tmp/plan.json"]


def test_multi_node_command_uses_c10d_rendezvous():
    cmd = torchrun_command("m", [], Ranks(nproc_per_node=4, nnodes=2, node_rank=1,
                                          rdzv_endpoint="10.0.0.1:29400", rdzv_id="job7"))
    assert "--standalone" not in cmd
    for part in ("--nnodes=2", "--node-rank=1", "--rdzv-backend=c10d", "--rdzv-endpoint=10.0.0.1:29400",
                 "--rdzv-id=job7"):
        assert part in cmd


@pytest.mark.parametrize("ranks, message", [
    (Ranks(nproc_per_node=4, nnodes=2), "needs --rdzv-endpoint"),
    (Ranks(nproc_per_node=4, nnodes=2, node_rank=2, rdzv_endpoint="h:1"), "--node-rank must be in 0..1"),
    (Ranks(nproc_per_node=0), "--gpus must be ≥ 1"),
])
def test_bad_ranks_are_refused(ranks, message):
    with pytest.raises(LaunchError, match=message):
        torchrun_command("m", [], ranks)
