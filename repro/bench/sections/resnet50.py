"""(c) ResNet-50 training images/s through repro's own loop: fp16, channels-last, at three image
sizes, with and without torch.compile.

Each configuration is one run of the imagenet-fastai-2018 recipe (ResNet-50, fp16, channels-last)
at a fixed size on synthetic ImageNet batches made on the device, so the
figure is the model, the optimiser and the loop, not the JPEG pipeline (section d). The reported
figure is the last epoch's `images_per_s` (the first pays for cuDNN autotuning and compilation).
The goal, ≥ 3,500 images/s at 224 px on one H100-class GPU, is judged only on a GPU. The dry run
compiles with dynamo's `eager` backend: the graph capture runs, inductor's code generation (minutes
of C++ compilation per size on a small CPU) does not.
"""
from __future__ import annotations

from pathlib import Path

from repro.bench.common import Budget, epochs_of, train_record
from repro.bench.profile import Profile

GOAL_IMAGES_PER_S = 3500      # at 224 px, fp16 channels-last, one H100-class GPU
GOAL_GPUS = ("H100", "H200", "GH200")


def _one(profile: Profile, work_dir: Path, size: int, batch: int, compiled: bool) -> dict:
    overrides = [f"epochs={profile.rn50_epochs}", "data.size_knots=[]", f"data.image_size={size}",
                 f"data.batch_size={batch}", f"data.eval_batch_size={batch}", f"compile={compiled}",
                 f"data.synthetic_images={profile.rn50_steps * batch}"]
    record = train_record("imagenet-fastai-2018", overrides, device=profile.device, work_dir=work_dir)
    epochs = epochs_of(record)
    return {"image_size": size, "batch_size": batch, "compile": compiled,
            "compile_backend": profile.compile_backend if compiled else None,
            "images_per_s": epochs[-1]["images_per_s"], "epoch_train_s": [e["train_s"] for e in epochs]}


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    import torch

    rows = []
    for compiled in (False, True):
        for size, batch in profile.rn50_batches:
            budget.need(15 if profile.dry_run else (90 if compiled else 20),
                        f"ResNet-50 at {size} px{' compiled' if compiled else ''}")
            if compiled and profile.compile_backend != "inductor":
                with _compile_backend(torch, profile.compile_backend):
                    rows.append(_one(profile, work_dir, size, batch, compiled))
            else:
                rows.append(_one(profile, work_dir, size, batch, compiled))
    at_224 = [r["images_per_s"] for r in rows if r["image_size"] == 224]
    gpu = torch.cuda.get_device_name() if profile.device == "cuda" else None
    judged = gpu is not None and any(name in gpu for name in GOAL_GPUS) and at_224
    return {"recipe": "imagenet-fastai-2018", "model": "resnet50", "precision": "fp16", "channels_last": True,
            "data": "synthetic batches made on the device", "runs": rows,
            "goal": f"≥ {GOAL_IMAGES_PER_S} images/s at 224 px on one H100-class GPU",
            "goal_met": (max(at_224) >= GOAL_IMAGES_PER_S) if judged else None,
            "note": "CPU: fp16 trains in fp32 (no fp16 autocast on a CPU)" if profile.device == "cpu" else None}


class _compile_backend:
    """torch.compile with another backend while the block runs (the loop calls torch.compile)."""

    def __init__(self, torch, backend: str) -> None:
        self.torch, self.backend, self.saved = torch, backend, torch.compile

    def __enter__(self):
        saved, backend = self.saved, self.backend
        self.torch.compile = lambda model=None, **kwargs: saved(model, **{**kwargs, "backend": backend})
        return self

    def __exit__(self, *exc) -> None:
        self.torch.compile = self.saved
