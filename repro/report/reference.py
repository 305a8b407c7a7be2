"""Published reference results, shown beside the measured leaderboards and never ranked with them.

Each row names its source. `checked` says how the figure was verified on 2026-11-25. The DAWNBench
v1 rows come from the entries' own files in stanford-futuredata/dawn-bench-entries: the time is the
`hours` of the first epoch at or over the target in the entry's TSV (the DAWNBench rule), the cost
that time × the entry's `costPerHour`.
"""
from __future__ import annotations

from collections import defaultdict

ENTRIES = "https://github.com/stanford-futuredata/dawn-bench-entries/blob/master/"
DAWNBENCH_V1 = "https://dawn.cs.stanford.edu/benchmark/v1/index.html"
FASTAI_POST = "https://www.fast.ai/posts/2018-04-30-dawnbench-fastai.html"
AIRBENCH_PAPER = "https://arxiv.org/abs/2404.00498"
NVIDIA_MLPERF = "https://developer.nvidia.com/deep-learning-performance-training-inference/training"

PUBLISHED: tuple[dict, ...] = (
    {"task": "cifar10", "entry": "fast.ai + students, custom wide ResNet (DAWNBench v1)",
     "hardware": "8 × V100 (AWS p3.16xlarge)", "time_to_target_s": 173.96,
     "accuracy": "94.03 % top-1", "cost_usd": "1.18", "cost_note": "$24.48/h on-demand",
     "date": "2018-04-18", "source": ENTRIES + "CIFAR10/train/fastai_pytorch.tsv",
     "source_title": "DAWNBench entry fastai_pytorch (json + tsv)",
     "checked": "epoch 35 reaches 94.03 % at 0.0483219 h = 2 min 54 s; × $24.48/h = $1.18"},
    {"task": "cifar10", "entry": "fast.ai + students, same net on one GPU (DAWNBench v1, cheapest)",
     "hardware": "1 × V100 (Paperspace Volta)", "time_to_target_s": 404.08,
     "accuracy": "94.04 % top-1", "cost_usd": "0.26", "cost_note": "Paperspace, $2.30/h",
     "date": "2018-04-19", "source": ENTRIES + "CIFAR10/train/fastai_pytorch_single_volta.tsv",
     "source_title": "DAWNBench entry fastai_pytorch_single_volta (json + tsv)",
     "checked": "epoch 26 reaches 94.04 % at 0.1122454 h = 6 min 44 s; × $2.30/h = $0.26 "
                "(the fast.ai post's 'CIFAR10 for USD 0.26')"},
    {"task": "cifar10", "entry": "airbench94.py (Keller Jordan)",
     "hardware": "1 × A100", "time_to_target_s": 3.83, "accuracy": "94.01 % mean top-1",
     "cost_usd": None, "cost_note": None, "date": "2024-03", "source": AIRBENCH_PAPER,
     "source_title": "arXiv 2404.00498: 94% on CIFAR-10 in 3.29 Seconds on a Single GPU",
     "checked": "3.83 s for airbench94.py (3.29 s with torch.compile), paper v2 and repo README"},
    {"task": "imagenet-top5", "entry": "fast.ai + students, ResNet-50 (DAWNBench v1)",
     "hardware": "8 × V100 (AWS p3.16xlarge)", "time_to_target_s": 10647.12,
     "accuracy": "93.00 % top-5", "cost_usd": "72.40", "cost_note": "$24.48/h on-demand",
     "date": "2018-04-20", "source": ENTRIES + "ImageNet/train/fastai_pytorch.tsv",
     "source_title": "DAWNBench entry fastai_pytorch (json + tsv)",
     "checked": "epoch 41 reaches 93.002 % top-5 at 2.9575332 h = 2 h 57 min 27 s (the "
                "leaderboard at " + DAWNBENCH_V1 + " lists 2:57:28); × $24.48/h = $72.40"},
    {"task": "imagenet-top5", "entry": "fast.ai, same recipe on AWS spot",
     "hardware": "8 × V100 (AWS p3.16xlarge, spot)", "time_to_target_s": None,
     "accuracy": "93 % top-5", "cost_usd": "25", "cost_note": "spot, as the team reported",
     "date": "2018-04-30", "source": FASTAI_POST,
     "source_title": "fast.ai: Training Imagenet in 3 hours for USD 25; and CIFAR10 for USD 0.26",
     "checked": "USD 25 and about 3 h from the post's title; no exact spot time published"},
    {"task": "imagenet-top1",
     "entry": "NVIDIA, ResNet-50 v1.5, MLPerf Training 3.0 closed (3.0-2053)",
     "hardware": "8 × H100 SXM5 80GB", "time_to_target_s": 13.466 * 60,
     "accuracy": "75.90 % top-1", "cost_usd": None, "cost_note": None, "date": "2023-06",
     "source": NVIDIA_MLPERF, "source_title": "NVIDIA: performance on MLPerf 3.0 Training",
     "checked": "13.466 min, single node, closed division, NVIDIA's results table"},
    {"task": "imagenet-top1",
     "entry": "CoreWeave / NVIDIA, ResNet-50 v1.5, MLPerf Training 3.0 closed (3.0-2002)",
     "hardware": "3584 × H100 SXM5 80GB", "time_to_target_s": 0.183 * 60,
     "accuracy": "75.90 % top-1", "cost_usd": None, "cost_note": None, "date": "2023-06",
     "source": NVIDIA_MLPERF, "source_title": "NVIDIA: performance on MLPerf 3.0 Training",
     "checked": "0.183 min, multi node, closed division, NVIDIA's results table"},
)


def published_by_task() -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in PUBLISHED:
        grouped[row["task"]].append(dict(row))
    return dict(grouped)
