"""The rank program of section (e), started by torchrun:

    python -m torch.distributed.run --standalone --nproc-per-node=N -m repro.bench.ddp_worker \\
        equal|scaling OUT.json DEVICE EPOCHS [IMAGES_PER_RANK BATCH_PER_RANK MODEL_WIDTH]

`equal` trains digits with a BatchNorm-free net (BN statistics are per rank under DDP: a real,
intended difference between 1 and N ranks) and rank 0 names its checkpoint; `scaling` trains
cifar-fastai-2018 on synthetic data with a fixed batch per rank and rank 0 reports images/s.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from torch import nn

from repro.bench.common import train_record
from repro.harness.store import CHECKPOINT_FILE, atomic_write_json
from repro.train import distributed as dist_
from repro.train.models import register_model

FLAT_MODEL = "bench_flat_mlp"


@register_model(FLAT_MODEL)
def flat_mlp(spec) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, spec.width), nn.ReLU(), nn.Linear(spec.width, spec.num_classes))


def main(argv: list[str]) -> None:
    mode, out, device, epochs = argv[0], Path(argv[1]), argv[2], int(argv[3])
    world = int(os.environ.get("WORLD_SIZE", 1))
    work_dir = out.parent / f"{mode}-{world}"
    if mode == "equal":
        record = train_record("digits", [f"model.name={FLAT_MODEL}", f"epochs={epochs}", "data.batch_size=50"],
                              device=device, work_dir=work_dir, seed=7, synthetic=False)
        result = {}
    else:
        images_per_rank, batch_per_rank, width = int(argv[4]), int(argv[5]), int(argv[6])
        record = train_record("cifar-fastai-2018", [
            f"epochs={epochs}", f"data.batch_size={batch_per_rank * world}", f"model.width={width}",
            f"data.synthetic_images={images_per_rank * world}"], device=device, work_dir=work_dir)
        result = {"images_per_s": record["outcome"]["epochs"][-1]["images_per_s"]}
    dist_.teardown()
    if int(os.environ.get("RANK", 0)) == 0:
        run_dir = work_dir / "runs" / record["recipe"] / record["run_id"]
        atomic_write_json(out, {**result, "world_size": world, "checkpoint": str(run_dir / CHECKPOINT_FILE),
                                "status": record["status"]})


if __name__ == "__main__":
    main(sys.argv[1:])
