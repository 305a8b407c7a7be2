"""Published reference results, shown beside the measured leaderboards and never ranked with them.

Each row names its source. `checked` says what was verified on 2026-11-25 by reading the source (or
a copy of it) and what was taken from the project's seed brief without the source's table in view.
"""
from __future__ import annotations

from collections import defaultdict

DAWNBENCH_V1 = "https://dawn.cs.stanford.edu/benchmark/v1/index.html"
FASTAI_POST = "https://www.fast.ai/posts/2018-04-30-dawnbench-fastai.html"
AIRBENCH_PAPER = "https://arxiv.org/abs/2404.00498"
NVIDIA_MLPERF = "https://developer.nvidia.com/deep-learning-performance-training-inference/training"

PUBLISHED: tuple[dict, ...] = (
    {"task": "cifar10", "entry": "fast.ai + students, custom wide ResNet (DAWNBench v1)",
     "hardware": "8 × V100 (AWS p3.16xlarge)", "time_to_target_s": 2 * 60 + 54,
     "accuracy": "94 % top-1", "cost_usd": "1.18", "cost_note": "on-demand, DAWNBench rule",
     "date": "2018-04", "source": DAWNBENCH_V1, "source_title": "DAWNBench v1 leaderboard",
     "checked": "time and cost from the seed brief; the source's CIFAR-10 table was not "
                "readable here (Lambda's 2019 post puts the fast.ai winner at over twice 79 s)"},
    {"task": "cifar10", "entry": "fast.ai, cheapest CIFAR-10 entry (DAWNBench v1)",
     "hardware": "1 × GPU (Paperspace)", "time_to_target_s": None,
     "accuracy": "94 % top-1", "cost_usd": "0.26", "cost_note": "Paperspace",
     "date": "2018-04", "source": FASTAI_POST,
     "source_title": "fast.ai: Training Imagenet in 3 hours for USD 25; and CIFAR10 for USD 0.26",
     "checked": "cost from the post's title"},
    {"task": "cifar10", "entry": "airbench94.py (Keller Jordan)",
     "hardware": "1 × A100", "time_to_target_s": 3.83, "accuracy": "94.01 % mean top-1",
     "cost_usd": None, "cost_note": None, "date": "2024-03", "source": AIRBENCH_PAPER,
     "source_title": "arXiv 2404.00498: 94% on CIFAR-10 in 3.29 Seconds on a Single GPU",
     "checked": "3.83 s for airbench94.py (3.29 s compiled) as listed in the paper, v2"},
    {"task": "imagenet-top5", "entry": "fast.ai + students, ResNet-50 (DAWNBench v1)",
     "hardware": "8 × V100 (AWS p3.16xlarge)", "time_to_target_s": 2 * 3600 + 57 * 60 + 28,
     "accuracy": "93 % top-5", "cost_usd": "72.40", "cost_note": "on-demand, DAWNBench rule",
     "date": "2018-04", "source": DAWNBENCH_V1, "source_title": "DAWNBench v1 leaderboard",
     "checked": "2:57:28 in the leaderboard's training-time table; $72.40 in its cost table"},
    {"task": "imagenet-top5", "entry": "fast.ai, same recipe on AWS spot",
     "hardware": "8 × V100 (AWS p3.16xlarge, spot)", "time_to_target_s": 3 * 3600,
     "accuracy": "93 % top-5", "cost_usd": "25", "cost_note": "spot, as the team reported",
     "date": "2018-04", "source": FASTAI_POST,
     "source_title": "fast.ai: Training Imagenet in 3 hours for USD 25; and CIFAR10 for USD 0.26",
     "checked": "about 3 h and USD 25 from the post's title"},
    {"task": "imagenet-top1", "entry": "NVIDIA, ResNet-50 v1.5, MLPerf Training 3.0 closed (3.0-2053)",
     "hardware": "8 × H100 SXM5 80GB", "time_to_target_s": 13.466 * 60,
     "accuracy": "75.90 % top-1", "cost_usd": None, "cost_note": None, "date": "2023-06",
     "source": NVIDIA_MLPERF, "source_title": "NVIDIA: performance on MLPerf 3.0 Training",
     "checked": "13.466 min, single node, closed division"},
    {"task": "imagenet-top1",
     "entry": "CoreWeave / NVIDIA, ResNet-50 v1.5, MLPerf Training 3.0 closed (3.0-2002)",
     "hardware": "3584 × H100 SXM5 80GB", "time_to_target_s": 0.183 * 60,
     "accuracy": "75.90 % top-1", "cost_usd": None, "cost_note": None, "date": "2023-06",
     "source": NVIDIA_MLPERF, "source_title": "NVIDIA: performance on MLPerf 3.0 Training",
     "checked": "0.183 min, multi node, closed division"},
)


def published_by_task() -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in PUBLISHED:
        grouped[row["task"]].append(dict(row))
    return dict(grouped)
