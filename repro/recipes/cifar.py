"""CIFAR-10 recipes: fast.ai's DAWNBench 2018 entries and a modern airbench-style short schedule.

Every schedule is a function of training progress, so `--epochs N` stretches or shrinks a recipe and its
warm-up, peak and final phases move with it. Hyperparameters come from the published command lines; the
figures below are the published ones, not measurements of this kit.

fast.ai's fastai-0.7 `use_clr_beta=(div, pct, max_mom, min_mom)` maps onto `one_cycle` as:
pct_start = (1 - pct/100) / 2, final_phase = pct/100, div = div, final_div = 100 · div.
"""
from repro.recipes.base import DataSpec, ModelSpec, OptimSpec, Recipe, ScheduleSpec

# the submitted metrics.tsv files; the command lines are in fastai/imagenet-fast,
# cifar10/dawn_submission/README.md
DAWNBENCH_ENTRIES = "https://github.com/stanford-futuredata/dawn-bench-entries/blob/master/CIFAR10/train/"

CIFAR_FASTAI_2018 = Recipe(
    name="cifar-fastai-2018",
    task="cifar10",
    description="Preact ResNet-18 with concat pooling, one GPU, one-cycle (warm-up 40 %, final 20 % at "
                "1/2000 of the peak) with momentum 0.95→0.85→0.95, fp16; hyperparameters of fast.ai's "
                "single-GPU DAWNBench command (which trained wrn_22, and whose augmentation also had colour "
                "jitter and ±2° rotation, not reproduced here).",
    model=ModelSpec(name="preact_resnet18", num_classes=10, width=64, concat_pool=True),
    data=DataSpec(name="cifar10", batch_size=512, eval_batch_size=1024, flip=True, crop_padding=4),
    optim=OptimSpec(name="sgd", peak_lr=1.5, weight_decay=1e-4, nesterov=False, no_bn_weight_decay=False),
    schedule=ScheduleSpec(kind="one_cycle", pct_start=0.4, div=20.0, final_div=2000.0, final_phase=0.2,
                          momentum_max=0.95, momentum_min=0.85),
    epochs=30,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    gpus=1,
    published_claim="94 % top-1 on CIFAR-10 in 6 min 44 s (0.1122 h, epoch 27 of 30) on one V100 "
                    "(Paperspace Volta, USD 2.30/h: USD 0.26), fast.ai + students, DAWNBench April 2018 "
                    "(cheapest entry; their model was the custom wide ResNet wrn_22)",
    published_source=DAWNBENCH_ENTRIES + "fastai_pytorch_single_volta.tsv",
)

CIFAR_WIDE_8GPU = Recipe(
    name="cifar-wide-8gpu",
    task="cifar10",
    description="fast.ai's wide ResNet (wrn_22: depth 22, widening factor 6) on 8 GPUs with NCCL, 128 "
                "images per GPU, one-cycle over 50 epochs as in the submission README's command (div 50, "
                "final 15 % down to 1/5000), fp16; the submitted log itself shows a 40-epoch run.",
    model=ModelSpec(name="wide_resnet", num_classes=10, width=96, depth=22),
    data=DataSpec(name="cifar10", batch_size=1024, eval_batch_size=1024, flip=True, crop_padding=4),
    optim=OptimSpec(name="sgd", peak_lr=1.3, weight_decay=2e-4, nesterov=False),
    schedule=ScheduleSpec(kind="one_cycle", pct_start=0.425, div=50.0, final_div=5000.0, final_phase=0.15,
                          momentum_max=0.95, momentum_min=0.85),
    epochs=50,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    gpus=8,
    published_claim="94 % top-1 on CIFAR-10 in 2 min 54 s (0.0483 h, epoch 36) on 8× V100 (AWS "
                    "p3.16xlarge), fast.ai + students, DAWNBench April 2018 (fastest entry)",
    published_source=DAWNBENCH_ENTRIES + "fastai_pytorch.tsv",
)

# airbench94 scales its LR and weight decay for a summed loss; with a mean loss over 1024 images and
# PyTorch's coupled weight decay they become: lr = 11.5 · 1024 / (1024 · (1 + 1/(1 - 0.85))) ≈ 1.5 and
# weight_decay = 0.0153 · 1024 / (1024 · (1 + 1/0.15)) / 1.5 ≈ 1.33e-3.
AIRBENCH_PEAK_LR = 11.5 / (1 + 1 / (1 - 0.85))
AIRBENCH_WEIGHT_DECAY = 0.0153 / (1 + 1 / (1 - 0.85)) / AIRBENCH_PEAK_LR

CIFAR_AIRBENCH = Recipe(
    name="cifar-airbench",
    task="cifar10",
    description="airbench94 net (patch-whitening stem set from the first batch, 64/256/256 conv groups, "
                "GELU, frozen BN scale, BN shift at 64× LR), batch 1024, 10 epochs, LR 0.2→1→0.07 of the "
                "peak (warm-up 23 %), Nesterov momentum 0.85, label smoothing 0.2, flip + 2-px translate, "
                "flip TTA, fp16. Not (yet) airbench's: lookahead averaging, whitening bias frozen after "
                "3 epochs, translate TTA, 9.9 epochs.",
    model=ModelSpec(name="airbench94", num_classes=10, width=64),
    data=DataSpec(name="cifar10", batch_size=1024, eval_batch_size=2000, flip=True, crop_padding=2),
    optim=OptimSpec(name="sgd", peak_lr=AIRBENCH_PEAK_LR, weight_decay=AIRBENCH_WEIGHT_DECAY, nesterov=True,
                    label_smoothing=0.2),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.23, 1.0), knots_y=(0.2, 1.0, 0.07),
                          momentum_max=0.85, momentum_min=0.85),
    epochs=10,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    tta=True,
    gpus=1,
    published_claim="94 % top-1 on CIFAR-10 in 3.29 s on one NVIDIA A100 (airbench94, Keller Jordan, 2024)",
    published_source="https://arxiv.org/abs/2404.00498",
)

CIFAR_RECIPES = (CIFAR_FASTAI_2018, CIFAR_WIDE_8GPU, CIFAR_AIRBENCH)
