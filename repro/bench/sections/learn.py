"""(f) A short real training that must reach a stated accuracy: cifar-airbench (fp16 + GradScaler +
channels-last on a GPU) on a learnable synthetic set (repro.bench.cifar_sets.learnable_set), through
repro's loop with the set written as CIFAR-10 python batches and read with `--data`. It proves the
path trains, not only runs. The run also counts host–device syncs per training step
(repro.bench.syncs; on CUDA with torch's own sync detector), whose goal is at most one per 50 steps.
On a CPU fp16 trains in fp32 and there is no GradScaler (the loop's rule), so the dry run proves
the data path, the loop and the accuracy, not the fp16 kernels.

The peak LR is airbench's scaled to the profile's batch: airbench sums the loss over the batch and
divides its LR by 1,024 (its `kilostep_scale`), so its step per image is the same at any batch; repro
averages the loss, so at batch B the same step per image is AIRBENCH_PEAK_LR · B / 1024. Without the
scaling a batch of 64 trains at 16× airbench's step and the accuracy swings between epochs (measured:
0.09–0.92 on the dry-run set, and different CPUs land on different sides of the target).
"""
from __future__ import annotations

import math
from pathlib import Path

from repro.bench.cifar_sets import learnable_set, write_repro_layout
from repro.bench.common import Budget, epochs_of, train_record
from repro.bench.profile import Profile
from repro.bench.syncs import count_syncs
from repro.recipes.cifar import AIRBENCH_BATCH, AIRBENCH_PEAK_LR

MAX_SYNCS_PER_STEP = 1 / 50


def scaled_peak_lr(batch: int) -> float:
    """airbench's per-image step at `batch` under repro's mean loss (see the module docstring)."""
    return AIRBENCH_PEAK_LR * batch / AIRBENCH_BATCH


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    budget.need(20 if profile.dry_run else 30, "the learnable-set training")
    data_dir = write_repro_layout(learnable_set(profile.learn_images, math.ceil(profile.learn_images / 5)),
                                  work_dir / "learnable")
    overrides = [f"epochs={profile.learn_epochs}", f"data.batch_size={profile.learn_batch}",
                 f"model.width={profile.learn_width}", f"target={profile.learn_target}",
                 f"optim.peak_lr={scaled_peak_lr(profile.learn_batch)!r}"]
    steps: list[tuple[int, int, int, int]] = []
    with count_syncs(profile.device) as counter:
        def on_batch(epoch: int, done: int, total: int) -> None:
            steps.append((epoch, done, total, counter.syncs))
        record = train_record("cifar-airbench", overrides, device=profile.device, work_dir=work_dir,
                              synthetic=False, data_dir=data_dir, on_batch=on_batch)
    steady = [(b[3] - a[3]) for a, b in zip(steps, steps[1:]) if a[0] == b[0] and 1 < b[1] < b[2]]
    final = epochs_of(record)[-1]
    syncs_per_step = sum(steady) / len(steady) if steady else None
    return {"recipe": "cifar-airbench", "precision": record["config"]["precision"],
            "channels_last": record["config"]["channels_last"], "model_width": profile.learn_width,
            "train_images": profile.learn_images, "epochs": profile.learn_epochs,
            "batch_size": profile.learn_batch, "peak_lr": scaled_peak_lr(profile.learn_batch),
            "target_top1": profile.learn_target, "final_top1": final["top1"],
            "reached": bool(record["outcome"]["reached"]), "epochs_to_target": record["outcome"]["epochs_to_target"],
            "steady_steps": len(steady), "host_syncs_in_steady_steps": sum(steady),
            "host_syncs_per_step": syncs_per_step,
            "syncs_goal_met": None if not steady else sum(steady) <= math.ceil(len(steady) * MAX_SYNCS_PER_STEP),
            "failed": None if record["outcome"]["reached"] else f"top-1 {final['top1']:.3f} never reached the stated {profile.learn_target}",
            "grad_scaler": profile.device == "cuda" and record["config"]["precision"] == "fp16",
            "note": "CPU: fp16 trains in fp32 without a GradScaler" if profile.device == "cpu" else None}
