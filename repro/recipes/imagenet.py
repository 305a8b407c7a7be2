"""ImageNet recipes: torchvision ResNets on the ImageFolder tree, progressive resizing, fp16, torchrun.

    repro imagenet --recipe imagenet-fastai-2018 --data /data/imagenet            # all local GPUs
    repro imagenet --recipe imagenet-rn18-1gpu --data /data/imagenet --gpus 1

Size knots are (fraction of training, size): `--epochs` rescales the image-size schedule with the LR
schedule. With size knots, `data.image_size` is the size `data.batch_size` is stated for; the batch
follows the pixels per image (repro.train.schedule.batch_for_size) and, with
`optim.lr_scale_with_batch`, the LR follows the batch (linear scaling rule).
"""
from repro.recipes.base import DataSpec, ModelSpec, OptimSpec, Recipe, ScheduleSpec

# the DAWNBench submission files (JSON and TSV) at the commit read for docs/recipes.md
DAWNBENCH_ENTRIES = ("https://github.com/stanford-futuredata/dawn-bench-entries/blob/"
                     "fb27b827bd83eff9021698ffe576b33a100e0b78/ImageNet/train/")


def _epoch_steps(epochs: int, steps: tuple[tuple[int, float], ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Piecewise knots for a per-epoch step schedule: ((first epoch, multiplier), …) → a flat segment
    per step, a repeated fraction at each change (the value from that epoch on)."""
    xs: list[float] = []
    ys: list[float] = []
    for i, (start, value) in enumerate(steps):
        end = steps[i + 1][0] if i + 1 < len(steps) else epochs
        xs += [start / epochs, end / epochs]
        ys += [value, value]
    return tuple(xs), tuple(ys)


# fastai/imagenet-fast@c4b2255 imagenet_nv/main.py, adjust_learning_rate (lines 395-402) for --lr 0.40
# --epochs 45: lr/(4 - epoch) for epochs 0-3, lr until int(45·0.47 + 0.5) = 21, lr/10 until 35, lr/100
# until 43, lr/1000 after
FASTAI_2018_LR = _epoch_steps(45, ((0, 1 / 4), (1, 1 / 3), (2, 1 / 2), (3, 1.0), (21, 0.1), (35, 0.01),
                                   (43, 0.001)))

IMAGENET_FASTAI_2018 = Recipe(
    name="imagenet-fastai-2018",
    task="imagenet-top5",
    description="fast.ai's DAWNBench ImageNet entry as submitted (April 2018, imagenet_nv/main.py -a resnet50 "
                "--lr 0.40 --epochs 45 --small): ResNet-50, SGD momentum 0.9, weight decay 1e-4, LR 0.1, "
                "0.133, 0.2 in epochs 0-2, 0.4 from epoch 3, 0.04 from 21, 0.004 from 35, 0.0004 from 43; "
                "128 px for epochs 0-17, 224 px for 18-40, 288 px for 41-44; 192 images per GPU, 128 at 288 "
                "px; 8 GPUs, fp16. docs/recipes.md lists each setting against its source.",
    model=ModelSpec(name="resnet50", num_classes=1000, zero_init_residual=False),
    data=DataSpec(name="imagenet", batch_size=1536, eval_batch_size=1536, image_size=0,
                  # main.py lines 153-156 and 168-177: 128 until epoch int(45·0.4 + 0.5) = 18, 224 until
                  # int(45·0.92 + 0.5) = 41, then 288
                  size_knots=((0.0, 128), (18 / 45, 128), (18 / 45, 224), (41 / 45, 224), (41 / 45, 288),
                              (1.0, 288)),
                  size_multiple=32, batch_ratio_per_size=((288, 128 / 192),),
                  eval_size=0, flip=True, workers=8, loader="dataloader"),
    optim=OptimSpec(name="sgd", peak_lr=0.4, weight_decay=1e-4, nesterov=False, no_bn_weight_decay=False,
                    label_smoothing=0.0, lr_scale_with_batch=False),
    schedule=ScheduleSpec(kind="piecewise", knots_x=FASTAI_2018_LR[0], knots_y=FASTAI_2018_LR[1],
                          momentum_max=0.9, momentum_min=0.9),
    epochs=45,
    target_metric="top5",
    target=0.93,
    precision="fp16",
    channels_last=True,
    gpus=8,
    published_claim="93 % top-5 on ImageNet first reached at epoch 41 (0-based) after 2.9575 h on 8 × V100 "
                    "(AWS p3.16xlarge, USD 24.48/h), fast.ai + students, DAWNBench, April 2018",
    published_source=DAWNBENCH_ENTRIES + "fastai_pytorch.tsv",
)

IMAGENET_RN50_ONECYCLE = Recipe(
    name="imagenet-rn50-onecycle",
    task="imagenet-top5",
    description="ResNet-50 in the style of fast.ai 2018 but with a modern schedule (not the submitted entry: "
                "see imagenet-fastai-2018): progressive resizing 128 → 224 → 288 with batch and LR adapted "
                "per stage, linear warm-up to 0.8 over ~2 of 35 epochs then linear decay, no weight decay on "
                "BN and biases, fp16, 8 GPUs, 93 % top-5.",
    model=ModelSpec(name="resnet50", num_classes=1000),
    data=DataSpec(name="imagenet", batch_size=1024, eval_batch_size=256, image_size=224,
                  # staged: a repeated fraction is a step (= schedule.staged_knots(((0, 128), (0.45, 224), (0.88, 288))))
                  size_knots=((0.0, 128), (0.45, 128), (0.45, 224), (0.88, 224), (0.88, 288), (1.0, 288)),
                  size_multiple=32,
                  eval_size=0, flip=True, workers=8, loader="dataloader"),
    optim=OptimSpec(name="sgd", peak_lr=0.8, weight_decay=5e-5, nesterov=False, no_bn_weight_decay=True,
                    label_smoothing=0.0, lr_scale_with_batch=True),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.06, 1.0), knots_y=(0.1, 1.0, 0.005),
                          momentum_max=0.9, momentum_min=0.9),
    epochs=35,
    target_metric="top5",
    target=0.93,
    precision="fp16",
    channels_last=True,
    gpus=8,
)

IMAGENET_RN50_FAST = Recipe(
    name="imagenet-rn50-fast",
    task="imagenet-top1",
    description="A modern short ResNet-50 schedule in the style of FFCV's rn50 configs: linear resolution "
                "ramp 160 → 192, eval at 256, label smoothing, step-free warm-up + linear decay; "
                "targets MLPerf's 75.9 % top-1.",
    model=ModelSpec(name="resnet50", num_classes=1000),
    data=DataSpec(name="imagenet", batch_size=1024, eval_batch_size=256, image_size=0,
                  size_knots=((0.0, 160), (0.7, 160), (0.85, 192), (1.0, 192)), size_multiple=32,
                  eval_size=256, flip=True, workers=8, loader="dataloader"),
    # peak 2.0 = 0.5 per 256 images; end LR 2.0 × 5e-5 = 1e-4 and weight decay 1e-4, as MLPerf's SGD rules ask
    optim=OptimSpec(name="sgd", peak_lr=2.0, weight_decay=1e-4, nesterov=False, no_bn_weight_decay=True,
                    label_smoothing=0.1),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.05, 1.0), knots_y=(0.05, 1.0, 5e-5),
                          momentum_max=0.9, momentum_min=0.9),
    epochs=56,
    target_metric="top1",
    target=0.759,
    precision="fp16",
    channels_last=True,
    gpus=8,
    published_claim="MLPerf Training's ResNet-50 quality target: 75.90 % top-1 on the ImageNet validation set",
    published_source="https://github.com/mlcommons/training_policies/blob/master/training_rules.adoc",
)

IMAGENET_RN18_1GPU = Recipe(
    name="imagenet-rn18-1gpu",
    task="imagenet-top1",
    description="ResNet-18 on one GPU: resolution ramp 160 → 192, eval at 224, label smoothing, fp16 "
                "channels_last; the single-GPU entry point (no published figure reproduced).",
    model=ModelSpec(name="resnet18", num_classes=1000),
    data=DataSpec(name="imagenet", batch_size=512, eval_batch_size=256, image_size=0,
                  size_knots=((0.0, 160), (0.7, 160), (0.85, 192), (1.0, 192)), size_multiple=32,
                  eval_size=224, flip=True, workers=12, loader="dataloader"),
    optim=OptimSpec(name="sgd", peak_lr=1.0, weight_decay=5e-5, nesterov=False, no_bn_weight_decay=True,
                    label_smoothing=0.1),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.06, 1.0), knots_y=(0.05, 1.0, 1e-4),
                          momentum_max=0.9, momentum_min=0.9),
    epochs=32,
    target_metric="top1",
    target=0.69,
    precision="fp16",
    channels_last=True,
    gpus=1,
)

IMAGENET_RECIPES = (IMAGENET_FASTAI_2018, IMAGENET_RN50_ONECYCLE, IMAGENET_RN50_FAST, IMAGENET_RN18_1GPU)
