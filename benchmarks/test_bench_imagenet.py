"""ImageNet input pipeline and ResNet-50 throughput.

CPU (always): images/s per core of our decode + crop pipeline (torchvision.io.decode_jpeg,
crop-then-resize on uint8, batch normalisation) against plain torchvision ImageFolder + PIL
(RandomResizedCrop, flip, ToTensor, Normalize per image), both single-threaded in one process on the
same ImageNet-sized JPEGs (500×375, the training set's typical shape), interleaved in the same run,
at 224 px and at 128 px (fast.ai's first stage). Goal: ≥ 2× (not met: benchmarks/RESULTS.md).

GPU (only when CUDA is present; skipped otherwise): RN50 fp16 channels_last training images/s on
synthetic data at 128/224/288, to set beside NVIDIA's published figure for the GPU; and the JPEG path
decoding on the GPU.

    .venv/bin/pytest benchmarks/test_bench_imagenet.py --benchmark-only -s
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from repro.train.data import imagenet as inet
from tests.helpers_imagenet import make_tree

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")

SIZE = 224
N_IMAGES = 48
# NVIDIA's published RN50 v1.5 PyTorch training throughput, 1 GPU, mixed precision, 224 px (DALI input,
# pytorch-21.03 NGC container): DeepLearningExamples, PyTorch/Classification/ConvNets/resnet50v1.5/README.md,
# "Training performance results". No H100/H200 row is published there.
NVIDIA_RN50_AMP_IMG_S = {"A100": 2470, "V100": 1200}
NVIDIA_SOURCE = ("https://github.com/NVIDIA/DeepLearningExamples/blob/master/PyTorch/Classification/ConvNets/"
                 "resnet50v1.5/README.md#training-performance-results")


@pytest.fixture(scope="module")
def jpeg_tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("bench-imagenet"), classes=4, train_per_class=N_IMAGES // 4,
                     val_per_class=1, size=(500, 375), quality=90)


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # per core: both pipelines on one thread
    yield
    torch.set_num_threads(previous)


def ours(tree: inet.ImageTree, size: int = SIZE) -> int:
    data = inet.ImageNetData(tree, workers=0, seed=0)
    n = 0
    for x, _ in data.train_batches(1, 16, torch.Generator().manual_seed(0), size):
        n += x.shape[0]
    return n


def torchvision_pil(root: Path, size: int = SIZE) -> int:
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(root / "train", tf), batch_size=16, shuffle=True,
                                         num_workers=0, drop_last=True)
    n = 0
    for x, _ in loader:
        n += x.shape[0]
    return n


def test_bench_ours_decode_crop(benchmark, jpeg_tree):
    tree = inet.scan_tree(jpeg_tree)
    n = benchmark.pedantic(ours, args=(tree,), rounds=3, warmup_rounds=1)
    assert n == N_IMAGES
    benchmark.extra_info["images_per_s_per_core"] = n / benchmark.stats["mean"]


def test_bench_torchvision_imagefolder_pil(benchmark, jpeg_tree):
    n = benchmark.pedantic(torchvision_pil, args=(jpeg_tree,), rounds=3, warmup_rounds=1)
    assert n == N_IMAGES
    benchmark.extra_info["images_per_s_per_core"] = n / benchmark.stats["mean"]


@pytest.mark.parametrize("size", [224, 128])
def test_ratio_in_one_run(jpeg_tree, size):
    """Interleaved rounds, so load from other processes hits both pipelines alike."""
    tree = inet.scan_tree(jpeg_tree)
    ours(tree, size), torchvision_pil(jpeg_tree, size)  # warm-up
    t_ours = t_pil = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        ours(tree, size)
        t1 = time.perf_counter()
        torchvision_pil(jpeg_tree, size)
        t_ours += t1 - t0
        t_pil += time.perf_counter() - t1
    ips_ours, ips_pil = 5 * N_IMAGES / t_ours, 5 * N_IMAGES / t_pil
    print(f"\nimages/s per core at {size}: ours {ips_ours:.1f}, ImageFolder+PIL {ips_pil:.1f}, "
          f"ratio {ips_ours / ips_pil:.2f}× (goal ≥ 2×)")
    assert ips_ours > 0 and ips_pil > 0


# -- GPU: run as they stand when CUDA is present ----------------------------------------------------------
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")


@cuda
@pytest.mark.parametrize("size,batch", [(128, 256), (224, 256), (288, 192)])
def test_gpu_rn50_fp16_channels_last_images_per_s(size, batch):
    from torchvision.models import resnet50
    torch.backends.cudnn.benchmark = True
    model = resnet50(num_classes=1000).cuda().to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda")
    x = torch.randn(batch, 3, size, size, device="cuda").contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(15):
        step()
    torch.cuda.synchronize()
    t0, steps = time.perf_counter(), 50
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    ips = steps * batch / (time.perf_counter() - t0)
    name = torch.cuda.get_device_name()
    published = next((v for k, v in NVIDIA_RN50_AMP_IMG_S.items() if k in name), None)
    versus = (f" = {100 * ips / published:.0f} % of NVIDIA's published {published} img/s ({NVIDIA_SOURCE})"
              if published and size == 224 else "")
    print(f"\n{name} RN50 fp16 channels_last {size}px batch {batch}: {ips:.0f} images/s{versus}")
    assert ips > 0


@cuda
def test_gpu_decode_pipeline_images_per_s(jpeg_tree):
    data = inet.ImageNetData(inet.scan_tree(jpeg_tree), device="cuda", workers=4)
    t0 = time.perf_counter()
    n = sum(x.shape[0] for x, _ in data.train_batches(1, 16, torch.Generator().manual_seed(0), SIZE))
    torch.cuda.synchronize()
    print(f"\nGPU decode + crop: {n / (time.perf_counter() - t0):.0f} images/s")
    assert n == N_IMAGES
