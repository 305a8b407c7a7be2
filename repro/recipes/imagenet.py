"""ImageNet recipes: torchvision ResNets on the ImageFolder tree, progressive resizing, fp16, torchrun.

    repro imagenet --recipe imagenet-fastai-2018 --data /data/imagenet            # all local GPUs
    repro imagenet --recipe imagenet-rn18-1gpu --data /data/imagenet --gpus 1

Size knots are (fraction of training, size): `--epochs` rescales the image-size schedule with the LR
schedule. With size knots, `data.image_size` is the size `data.batch_size` is stated for; the batch
follows the pixels per image (repro.train.schedule.batch_for_size) and, with
`optim.lr_scale_with_batch`, the LR follows the batch (linear scaling rule).
"""
from repro.recipes.base import DataSpec, ModelSpec, OptimSpec, Recipe, ScheduleSpec

IMAGENET_FASTAI_2018 = Recipe(
    name="imagenet-fastai-2018",
    task="imagenet-top5",
    description="fast.ai's DAWNBench 2018 ImageNet entry, re-expressed: ResNet-50, progressive resizing "
                "128 → 224 → 288 with batch and LR adapted per stage, fp16, 8 GPUs, 93 % top-5.",
    model=ModelSpec(name="resnet50", num_classes=1000),
    data=DataSpec(name="imagenet", batch_size=1024, eval_batch_size=256, image_size=224,
                  # staged: a repeated fraction is a step (= schedule.staged_knots(((0, 128), (0.45, 224), (0.88, 288))))
                  size_knots=((0.0, 128), (0.45, 128), (0.45, 224), (0.88, 224), (0.88, 288), (1.0, 288)),
                  size_multiple=32,
                  eval_size=0, flip=True, workers=8, loader="dataloader"),
    optim=OptimSpec(name="sgd", peak_lr=0.8, weight_decay=5e-5, nesterov=False, no_bn_weight_decay=True,
                    label_smoothing=0.0, lr_scale_with_batch=True),
    # linear warm-up over the first ~2 of 35 epochs, then linear decay
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.06, 1.0), knots_y=(0.1, 1.0, 0.005),
                          momentum_max=0.9, momentum_min=0.9),
    epochs=35,
    target_metric="top5",
    target=0.93,
    precision="fp16",
    channels_last=True,
    gpus=8,
    published_claim="93 % top-5 on ImageNet in about 3 hours on 8 × V100 (AWS p3.16xlarge), ResNet-50 with "
                    "progressive resizing 128 → 224 → 288, fast.ai DAWNBench entry, April 2018",
    published_source="https://www.fast.ai/2018/04/30/dawnbench-fastai/",
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

IMAGENET_RECIPES = (IMAGENET_FASTAI_2018, IMAGENET_RN50_FAST, IMAGENET_RN18_1GPU)
