"""(b) cifar-fastai-2018: fp16 and bf16 against fp32, channels-last on and off, through repro's loop.

Six runs on the same synthetic CIFAR set, one per (precision, memory format); each reports its
steady epoch time (`train_s`, steps only). Speed-ups are fp32's time over the other's, at the same
memory format. On a CPU autocast has no fp16, so an fp16 run trains in fp32 there (the loop's
rule): the dry run proves the six configurations run, not what they gain.
"""
from __future__ import annotations

from pathlib import Path

from repro.bench.common import Budget, epochs_of, ratio, steady, train_record
from repro.bench.profile import Profile

PRECISIONS = ("fp32", "fp16", "bf16")
EPOCHS = 3      # the first warms up; the median of the others is reported


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    rows = []
    for channels_last in (True, False):
        for precision in PRECISIONS:
            budget.need(5 if profile.dry_run else 20, f"cifar-fastai-2018 {precision}")
            record = train_record("cifar-fastai-2018", [
                f"epochs={EPOCHS}", f"precision={precision}", f"channels_last={channels_last}",
                f"data.batch_size={profile.fastai_batch}", f"data.synthetic_images={profile.fastai_images}",
                f"model.width={profile.fastai_width}"], device=profile.device, work_dir=work_dir)
            epoch_s = [row["train_s"] for row in epochs_of(record)]
            rows.append({"precision": precision, "channels_last": channels_last, "epoch_train_s": epoch_s,
                         "steady_epoch_s": steady(epoch_s),
                         "images_per_s": steady([row["images_per_s"] for row in epochs_of(record)])})
    for row in rows:
        fp32 = next(r for r in rows if r["precision"] == "fp32" and r["channels_last"] == row["channels_last"])
        row["speedup_vs_fp32"] = ratio(fp32["steady_epoch_s"], row["steady_epoch_s"])
    return {"recipe": "cifar-fastai-2018", "images": profile.fastai_images, "batch_size": profile.fastai_batch,
            "model_width": profile.fastai_width, "epochs": EPOCHS, "runs": rows,
            "note": ("CPU: fp16 trains in fp32 (no fp16 autocast on a CPU)" if profile.device == "cpu" else None)}
