"""ImageNet input pipeline and ResNet-50 throughput.

CPU (always): images/s per core of our decode + crop pipeline (crop-then-resize on uint8, batch
normalisation) against plain torchvision ImageFolder + PIL (RandomResizedCrop, flip, ToTensor,
Normalize per image), one thread each in one process on the same ImageNet-sized JPEGs (500×375, the
training set's typical shape), at 224 px and at 128 px (fast.ai's first stage). Ours runs with each
CPU decoder: torchvision's decode_jpeg of the whole file, and (with the repro[nvimgcodec] extra)
nvImageCodec's libjpeg-turbo decode of the crop's region only. Where NVIDIA DALI is installed
(nvidia-dali-cuda130), its CPU pipeline runs beside them: the region decoder
`fn.decoders.image_random_crop(device="cpu")`, `fn.resize` (linear, as NVIDIA's ResNet-50 example:
DeepLearningExamples PyTorch/Classification/ConvNets/image_classification/dataloaders.py at d08f065),
`fn.crop_mirror_normalize` with a coin-flip mirror. The ratio tests interleave the pipelines round by
round, so load from other processes hits all of them alike, and report wall-clock and CPU-seconds:
`test_ratio_in_one_run` one thread each in this process, `test_ratio_with_two_workers` two
persistent DataLoader workers each (DALI: two threads), CPU-seconds of the main process and its
workers together. Goal: ≥ 2× (benchmarks/RESULTS.md says where it stands).

GPU (only when CUDA is present; skipped otherwise): RN50 fp16 channels_last training images/s on
synthetic data at 128/224/288, to set beside NVIDIA's published figure for the GPU; and the JPEG path
decoding on the GPU.

    .venv/bin/pytest benchmarks/test_bench_imagenet.py --benchmark-only -s
    .venv/bin/pytest benchmarks/test_bench_imagenet.py -k ratio -s    (the ratios, side by side)
"""
from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
import torch

from repro.train.data import imagenet as inet
from tests.helpers_imagenet import make_tree

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")

SIZE = 224
N_IMAGES = 48
N_IMAGES_WORKERS = 240    # enough batches per epoch for two workers to reach a steady state
ROUNDS = 10
BASELINE = "ImageFolder+PIL"
# NVIDIA's published RN50 v1.5 PyTorch training throughput, 1 GPU, mixed precision, 224 px (DALI input,
# pytorch-21.03 NGC container): DeepLearningExamples, PyTorch/Classification/ConvNets/resnet50v1.5/README.md,
# "Training performance results". No H100/H200 row is published there.
NVIDIA_RN50_AMP_IMG_S = {"A100": 2470, "V100": 1200}
NVIDIA_SOURCE = ("https://github.com/NVIDIA/DeepLearningExamples/blob/master/PyTorch/Classification/ConvNets/"
                 "resnet50v1.5/README.md#training-performance-results")


def _tree(tmp_path_factory, n_images: int) -> Path:
    return make_tree(tmp_path_factory.mktemp("bench-imagenet"), classes=4, train_per_class=n_images // 4,
                     val_per_class=1, size=(500, 375), quality=90)


@pytest.fixture(scope="module")
def jpeg_tree(tmp_path_factory) -> Path:
    return _tree(tmp_path_factory, N_IMAGES)


@pytest.fixture(scope="module")
def jpeg_tree_workers(tmp_path_factory) -> Path:
    return _tree(tmp_path_factory, N_IMAGES_WORKERS)


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # per core: every pipeline on one thread (per worker)
    yield
    torch.set_num_threads(previous)


# -- the pipelines, each built once and then run an epoch at a time (returns the images it yielded) ----
def ours(root: Path, size: int = SIZE, decoder: str = "torchvision", workers: int = 0):
    data = inet.ImageNetData(inet.scan_tree(root), workers=workers, seed=0, decoder=decoder)
    g = torch.Generator().manual_seed(0)
    return lambda: sum(x.shape[0] for x, _ in data.train_batches(1, 16, g, size))


def torchvision_pil(root: Path, size: int = SIZE, workers: int = 0):
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(root / "train", tf), batch_size=16, shuffle=True,
                                         num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    return lambda: sum(x.shape[0] for x, _ in loader)


def dali_cpu(root: Path, size: int = SIZE, threads: int = 1):
    """NVIDIA DALI on the CPU, no prefetching thread: files → region decode of a random resized crop →
    antialiased linear resize → mirror + normalise to float NCHW, each batch handed over to torch."""
    import nvidia.dali.fn as fn
    import nvidia.dali.types as types
    from nvidia.dali.pipeline import pipeline_def

    @pipeline_def(batch_size=16, num_threads=threads, device_id=None, exec_async=False, exec_pipelined=False)
    def pipe():
        jpegs, labels = fn.readers.file(file_root=str(root / "train"), random_shuffle=True, name="files")
        images = fn.decoders.image_random_crop(jpegs, device="cpu", output_type=types.RGB, num_attempts=10,
                                               random_area=[0.08, 1.0], random_aspect_ratio=[3 / 4, 4 / 3])
        images = fn.resize(images, resize_x=size, resize_y=size, interp_type=types.INTERP_LINEAR)
        images = fn.crop_mirror_normalize(images, dtype=types.FLOAT, output_layout="CHW",
                                          mean=list(inet.MEAN), std=list(inet.STD),
                                          mirror=fn.random.coin_flip(probability=0.5))
        return images, labels

    built = pipe(seed=0)
    built.build()
    steps = built.epoch_size("files") // 16

    def epoch() -> int:
        n = 0
        for _ in range(steps):
            images, labels = built.run()
            x, y = torch.from_dlpack(images.as_tensor()), torch.from_numpy(labels.as_array())
            n += x.shape[0]
        return n
    return epoch


def region_decoder_missing() -> str | None:
    from repro.train.data import imagenet_roi
    return imagenet_roi.missing()


def dali_missing() -> str | None:
    try:
        import nvidia.dali  # noqa: F401
    except ImportError as exc:
        return f"NVIDIA DALI is not installed ({exc}); pip install 'nvidia-dali-cuda130==2.4.0'"
    return None


def pipelines(root: Path, size: int, workers: int = 0) -> dict:
    """Every pipeline this machine can run, the baseline first. `workers` DataLoader processes for
    the torch pipelines; DALI gets as many threads instead (one when there are no workers)."""
    out = {BASELINE: torchvision_pil(root, size, workers), "ours, torchvision decode": ours(root, size, workers=workers)}
    if not region_decoder_missing():
        out["ours, nvimgcodec region decode"] = ours(root, size, "nvimgcodec", workers)
    if not dali_missing():
        out["DALI CPU (region decode)"] = dali_cpu(root, size, max(1, workers))
    return out


def interleave(runs: dict, rounds: int, cpu_seconds) -> dict[str, tuple[float, float]]:
    """{name: (images/s, CPU-ms/image)} over `rounds` rounds, one epoch of each pipeline per round in
    turn, so load from other processes hits every pipeline alike."""
    for run in runs.values():   # warm-up; starts the workers
        run()
    images, wall, cpu = dict.fromkeys(runs, 0), dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0.0)
    for _ in range(rounds):
        for name, run in runs.items():
            t0, c0 = time.perf_counter(), cpu_seconds()
            images[name] += run()
            wall[name] += time.perf_counter() - t0
            cpu[name] += cpu_seconds() - c0
    return {name: (images[name] / wall[name], 1000 * cpu[name] / images[name]) for name in runs}


def report(title: str, results: dict[str, tuple[float, float]]) -> None:
    base_ips, base_ms = results[BASELINE]
    print(f"\n{title}")
    for name, (ips, ms) in results.items():
        print(f"  {name:32s} {ips:7.1f} images/s ({ips / base_ips:.2f}× wall), {ms:.2f} CPU-ms/image "
              f"({base_ms / ms:.2f}× CPU) (goal ≥ 2×)")


def cpu_seconds_with_children() -> float:
    """User + system seconds of this process and every live child (the DataLoader's workers)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


# -- pytest-benchmark: each pipeline alone --------------------------------------------------------------
@pytest.mark.parametrize("decoder", ["torchvision", "nvimgcodec"])
def test_bench_ours_decode_crop(benchmark, jpeg_tree, decoder):
    if decoder == "nvimgcodec" and (why := region_decoder_missing()):
        pytest.skip(why)
    n = benchmark.pedantic(ours(jpeg_tree, SIZE, decoder), rounds=3, warmup_rounds=1)
    assert n == N_IMAGES
    benchmark.extra_info["images_per_s_per_core"] = n / benchmark.stats["mean"]


def test_bench_torchvision_imagefolder_pil(benchmark, jpeg_tree):
    n = benchmark.pedantic(torchvision_pil(jpeg_tree, SIZE), rounds=3, warmup_rounds=1)
    assert n == N_IMAGES
    benchmark.extra_info["images_per_s_per_core"] = n / benchmark.stats["mean"]


def test_bench_dali_cpu(benchmark, jpeg_tree):
    if why := dali_missing():
        pytest.skip(why)
    n = benchmark.pedantic(dali_cpu(jpeg_tree, SIZE), rounds=3, warmup_rounds=1)
    assert n == N_IMAGES
    benchmark.extra_info["images_per_s_per_core"] = n / benchmark.stats["mean"]


# -- ratios, measured side by side ----------------------------------------------------------------------
@pytest.mark.parametrize("size", [224, 128])
def test_ratio_in_one_run(jpeg_tree, size):
    """One thread each, in this process; CPU-seconds count every thread of the process (DALI's and
    nvImageCodec's too)."""
    results = interleave(pipelines(jpeg_tree, size), ROUNDS, time.process_time)
    report(f"{size} px, {ROUNDS} interleaved rounds of {N_IMAGES} images, one thread each:", results)
    assert all(ips > 0 for ips, _ in results.values())


@pytest.mark.parametrize("size", [224, 128])
def test_ratio_with_two_workers(jpeg_tree_workers, size):
    """As training runs: two persistent DataLoader workers each (DALI: two threads). The baseline's
    workers hand over float batches, ours uint8 ones normalised in the main process; CPU-seconds
    are those of the main process and its workers together."""
    results = interleave(pipelines(jpeg_tree_workers, size, workers=2), 3, cpu_seconds_with_children)
    report(f"{size} px, 3 interleaved rounds of {N_IMAGES_WORKERS} images, two workers each:", results)
    assert all(ips > 0 for ips, _ in results.values())


# -- the decode alone: where a region saves time ----------------------------------------------------------
def cpu_ms_per_image(decode, n_images: int, repeats: int = 5) -> float:
    """Best of `repeats` passes, CPU-seconds of the whole process (decoder threads included)."""
    decode()
    best = float("inf")
    for _ in range(repeats):
        c0 = time.process_time()
        decode()
        best = min(best, time.process_time() - c0)
    return 1000 * best / n_images


def test_decode_alone_cpu_ms_per_image(jpeg_tree):
    """Whole files against regions: the pipeline's own random-resized crops, and fixed boxes that show
    that the rows above a region are still entropy-decoded while those below it are not."""
    from torchvision.io import ImageReadMode, decode_jpeg, read_file
    if why := region_decoder_missing():
        pytest.skip(why)
    from repro.train.data.imagenet_roi import RegionDecoder
    paths = [p for p, _ in inet.scan_tree(jpeg_tree).train]
    blobs = [read_file(p) for p in paths]
    region = RegionDecoder()
    boxes = {"whole file": lambda k, h, w: (0, 0, h, w),
             "the pipeline's random-resized crops": lambda k, h, w: inet.random_resized_crop_box(
                 h, w, inet.sample_generator(0, 1, k)),
             "16×16 at the top left": lambda k, h, w: (0, 0, 16, 16),
             "16×16 at the bottom right": lambda k, h, w: (h - 16, w - 16, 16, 16),
             "top half, full width": lambda k, h, w: (0, 0, h // 2, w),
             "bottom half, full width": lambda k, h, w: (h // 2, 0, h - h // 2, w),
             "all rows, 100 columns": lambda k, h, w: (0, w // 2 - 50, h, 100)}
    rows = {"torchvision decode_jpeg, whole file":
            cpu_ms_per_image(lambda: [decode_jpeg(b, mode=ImageReadMode.RGB) for b in blobs], len(blobs))}
    for name, box in boxes.items():
        rows[f"nvimgcodec, {name}"] = cpu_ms_per_image(lambda: region.decode_files(paths, box), len(paths))
    print(f"\ndecode alone, {len(paths)} files of 500×375, one thread, CPU-ms per image (best of 5):")
    for name, ms in rows.items():
        print(f"  {name:52s} {ms:.2f}")
    assert rows["nvimgcodec, 16×16 at the top left"] < rows["nvimgcodec, whole file"]


def dali_stage(root: Path, stage: str):
    """DALI's CPU pipeline cut after one stage ("whole file", "region", "region + resize"), one thread;
    returns a function that runs one epoch."""
    import nvidia.dali.fn as fn
    import nvidia.dali.types as types
    from nvidia.dali.pipeline import pipeline_def

    @pipeline_def(batch_size=16, num_threads=1, device_id=None, exec_async=False, exec_pipelined=False)
    def pipe():
        jpegs, _ = fn.readers.file(file_root=str(root / "train"), random_shuffle=True)
        if stage == "whole file":
            return fn.decoders.image(jpegs, device="cpu", output_type=types.RGB)
        images = fn.decoders.image_random_crop(jpegs, device="cpu", output_type=types.RGB, num_attempts=10)
        if stage == "region":
            return images
        return fn.resize(images, resize_x=SIZE, resize_y=SIZE, interp_type=types.INTERP_LINEAR)

    built = pipe(seed=0)
    built.build()
    return lambda: [built.run() for _ in range(N_IMAGES // 16)]


def test_dali_stages_cpu_ms_per_image(jpeg_tree):
    """Where DALI's CPU pipeline spends its time: its region decode is nvImageCodec's, its resize is not
    torch's uint8 kernel."""
    if why := dali_missing():
        pytest.skip(why)
    stages = {stage: cpu_ms_per_image(dali_stage(jpeg_tree, stage), N_IMAGES)
              for stage in ("whole file", "region", "region + resize")}
    print(f"\nDALI CPU, {N_IMAGES} files of 500×375, one thread, CPU-ms per image (best of 5):")
    for stage, ms in stages.items():
        print(f"  {stage:20s} {ms:.2f}")
    print(f"  resize to {SIZE} px alone ≈ {stages['region + resize'] - stages['region']:.2f}")
    assert stages["region"] < stages["whole file"]


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
