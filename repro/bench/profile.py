"""How big each section of `repro bench gpu` is: full sizes on GPUs, tiny ones for the CPU dry run.

The GPU sizes are an estimate, not yet a measurement (no GPU has run this command): they aim at
the 8-minute budget on one H100-class GPU, with torch.compile of ResNet-50 at three sizes the
largest item, and a section that would not fit what is left of the budget is reported as such.
The dry-run sizes let every code path run on a 2-core CPU in a few minutes.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUDGET_S = 480.0          # `make gpu-check` must fit in 8 minutes


@dataclass(frozen=True)
class Profile:
    dry_run: bool
    device: str                                   # cuda | cpu
    # (a) cifar-airbench against airbench94's train94, same synthetic tensors, same batch
    cifar_images: int
    cifar_batch: int
    cifar_epochs: int                             # epochs 2 … epochs-1 are timed (1 warms up)
    # (b) cifar-fastai-2018 precision × channels-last
    fastai_images: int
    fastai_batch: int
    fastai_width: int                             # preact ResNet-18's base width (64 is the recipe's)
    # (c) ResNet-50 through the loop: image size → global batch
    rn50_batches: tuple[tuple[int, int], ...]
    rn50_epochs: int                              # the last epoch's images/s is reported
    rn50_steps: int                               # steps an epoch
    compile_backend: str                          # inductor on GPUs; eager in the dry run (no codegen)
    # (d) JPEG decode + random-resized-crop
    jpeg_images: int
    jpeg_shape: tuple[int, int]                   # (width, height) of the generated JPEGs
    jpeg_batch: int
    jpeg_size: int
    jpeg_workers: int
    # (e) DDP: digits steps for the parameter check, cifar-fastai-2018 images per rank for scaling
    ddp_epochs: int
    ddp_scaling_images: int
    ddp_scaling_batch_per_rank: int
    # (f) a learnable synthetic set that must reach a stated accuracy
    learn_images: int
    learn_batch: int
    learn_epochs: int
    learn_width: int
    learn_target: float


def gpu_profile() -> Profile:
    return Profile(
        dry_run=False, device="cuda",
        cifar_images=50_000, cifar_batch=1024, cifar_epochs=5,
        fastai_images=10_240, fastai_batch=512, fastai_width=64,
        rn50_batches=((128, 256), (224, 256), (288, 192)), rn50_epochs=2, rn50_steps=32, compile_backend="inductor",
        jpeg_images=512, jpeg_shape=(500, 375), jpeg_batch=128, jpeg_size=224, jpeg_workers=8,
        ddp_epochs=2, ddp_scaling_images=16_384, ddp_scaling_batch_per_rank=512,
        learn_images=20_000, learn_batch=512, learn_epochs=4, learn_width=64, learn_target=0.90,
    )


def dry_run_profile() -> Profile:
    return Profile(
        dry_run=True, device="cpu",
        cifar_images=128, cifar_batch=32, cifar_epochs=3,
        fastai_images=32, fastai_batch=16, fastai_width=8,
        rn50_batches=((32, 2), (48, 2), (64, 2)), rn50_epochs=1, rn50_steps=6, compile_backend="eager",
        jpeg_images=16, jpeg_shape=(500, 375), jpeg_batch=8, jpeg_size=64, jpeg_workers=0,
        ddp_epochs=1, ddp_scaling_images=32, ddp_scaling_batch_per_rank=16,
        learn_images=1_024, learn_batch=64, learn_epochs=4, learn_width=16, learn_target=0.90,
    )
