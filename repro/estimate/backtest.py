"""The shipped throughput table against published results it was not built from.

Each case is a published DAWNBench entry, expressed as the repro recipe with the entry's own model,
length and image sizes, and the epoch at which the entry's TSV first reached the target; the table
(repro.estimate.throughput) supplies the speed. So the backtest checks the throughput table and its
scaling rules only, not the epochs-to-target table. docs/estimate.md shows what this computes.

The scaling check (`spec_rule_check`) predicts each GPU of one benchmark series from another GPU of
the same series by the spec rule and compares with the series' own figure.
"""
from __future__ import annotations

from dataclasses import dataclass

from repro.estimate import projection, tables, throughput
from repro.estimate.measured import Hardware
from repro.estimate.steps import EpochsToTarget
from repro.recipes import ModelSpec, resolve

ENTRIES = "https://github.com/stanford-futuredata/dawn-bench-entries/blob/fb27b827bd83eff9021698ffe576b33a100e0b78/"
# fast.ai's ImageNet entry (imagenet-fast c4b2255, imagenet_nv/main.py, --epochs 45 --small): 128 px until
# epoch int(45 · 0.4 + 0.5) = 18, 224 px until int(45 · 0.92 + 0.5) = 41, then 288 px (0-based epochs)
@dataclass(frozen=True)
class Case:
    entry: str
    recipe: str
    overrides: tuple[str, ...]
    epochs_to_target: int
    gpu_model: str
    gpu_count: int
    published_s: float
    source: str


CASES = (
    Case("fast.ai CIFAR-10, wrn_22, 8 × V100 (AWS p3.16xlarge)", "cifar-fastai-2018-8gpu", (), 36,
         "V100", 8, 173.96, ENTRIES + "CIFAR10/train/fastai_pytorch.tsv"),
    Case("fast.ai CIFAR-10, wrn_22, 1 × V100 (Paperspace)", "cifar-fastai-2018", (), 27,
         "V100", 1, 404.08, ENTRIES + "CIFAR10/train/fastai_pytorch_single_volta.tsv"),
    Case("fast.ai ImageNet, ResNet-50, 8 × V100 (AWS p3.16xlarge)", "imagenet-fastai-2018",
         (), 42, "V100", 8, 2.9575332 * 3600,
         ENTRIES + "ImageNet/train/fastai_pytorch.tsv"),
)


def run_case(case: Case) -> dict:
    recipe = resolve(case.recipe, overrides=case.overrides)
    epochs = EpochsToTarget((case.epochs_to_target,), f"epoch {case.epochs_to_target} (the entry's TSV)",
                            "published", (case.source,))
    proj = projection.from_table(recipe, epochs, Hardware(case.gpu_model, case.gpu_count))
    return {"entry": case.entry, "published_s": case.published_s, "estimate_s": proj.time_to_target_s,
            "error": (proj.time_to_target_s - case.published_s) / case.published_s,
            "scaled": proj.scaled, "detail": proj.detail, "source": case.source}


def backtest() -> list[dict]:
    return [run_case(case) for case in CASES]


def spec_rule_check(series: str = "lambda", anchor: str = "A100-80GB", model: str = "resnet50") -> list[dict]:
    """Each 1-GPU figure of `series` predicted from its `anchor` figure by the spec rule alone."""
    figs = {f.gpu_model: f for f in tables.figures()
            if f.series == series and f.model == model and f.gpu_count == 1 and f.precision == "fp16"}
    base = figs[anchor]
    rows = []
    for gpu, fig in sorted(figs.items()):
        if gpu == anchor:
            continue
        predicted = base.images_per_s * throughput.spec_ratio(gpu, anchor, "fp16")
        rows.append({"gpu": gpu, "published": fig.images_per_s, "predicted": predicted,
                     "error": (predicted - fig.images_per_s) / fig.images_per_s})
    return rows


def reference_flops() -> dict[str, float]:
    """Forward GFLOPs per image of the table's reference models (for the docs)."""
    from repro.estimate.flops import forward_flops

    out = {}
    for f in tables.figures():
        key = f"{f.model} at {f.image_size} px"
        if key not in out:
            spec = ModelSpec(name=f.model, num_classes=f.num_classes, width=f.width, depth=f.depth)
            out[key] = forward_flops(spec, 3, f.image_size) / 1e9
    return out
