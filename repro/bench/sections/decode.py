"""(d) JPEG decode + random-resized-crop images/s: the GPU path (the batch's files decoded by
nvJPEG in one call, crops on the GPU) against the CPU path (worker processes decoding only what
each crop needs), both through repro's ImageNet DataSource on the same generated files.

Each path runs one warm-up pass and one timed pass over the files; the timed figure includes the
copy to the device and the normalisation, i.e. a batch ready for the model. The dry run runs the
batched-decode code path on the CPU (torchvision decodes a list there too), so it proves the code,
not a speed.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from repro.bench.common import Budget, ratio, sync
from repro.bench.jpegs import make_jpeg_tree
from repro.bench.profile import Profile
from repro.train.data.imagenet import ImageNetData
from repro.train.data.imagenet_tree import scan_tree


def _images_per_s(data: ImageNetData, profile: Profile, device: str) -> float:
    def one_pass(epoch: int) -> int:
        g = torch.Generator().manual_seed(epoch)
        return sum(x.shape[0] for x, _ in data.train_batches(epoch, profile.jpeg_batch, g, profile.jpeg_size))
    one_pass(1)
    sync(device)
    t0 = time.perf_counter()
    n = one_pass(2)
    sync(device)
    return n / (time.perf_counter() - t0)


def run(profile: Profile, work_dir: Path, budget: Budget) -> dict:
    budget.need(10 if profile.dry_run else 30, "JPEG decode")
    tree = scan_tree(make_jpeg_tree(work_dir / "jpegs", images=profile.jpeg_images, shape=profile.jpeg_shape))
    cpu = ImageNetData(tree, device="cpu", workers=profile.jpeg_workers, gpu_decode=False)
    batched = ImageNetData(tree, device=profile.device, workers=profile.jpeg_workers, gpu_decode=True)
    cpu_ips = _images_per_s(cpu, profile, "cpu")
    device_ips = _images_per_s(batched, profile, profile.device)
    return {"images": len(tree.train), "image_shape": list(profile.jpeg_shape), "output_size": profile.jpeg_size,
            "batch_size": profile.jpeg_batch, "workers": profile.jpeg_workers,
            "cpu_path_images_per_s": cpu_ips,
            "batched_decode_device": profile.device, "batched_decode_images_per_s": device_ips,
            "ratio_batched_to_cpu": ratio(device_ips, cpu_ips),
            "decoder": "torchvision.io.decode_jpeg(list, device=...)" + (" (nvJPEG)" if profile.device == "cuda" else ""),
            "dali": "not measured: NVIDIA DALI is not installed by repro; the choice between it and nvJPEG through "
                    "torchvision waits for this section's figures on a GPU"}
