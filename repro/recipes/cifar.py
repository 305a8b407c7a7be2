"""CIFAR-10 recipes: the 2018 DAWNBench entries of fast.ai (one GPU and eight) and of Ben Johnson
(basenet), and Keller Jordan's airbench94 (2024), each set up as its source ran it. docs/recipes.md
lists every setting against the file and line it comes from, and why a recipe differs where it does.

Every schedule is a function of training progress, so `--epochs N` stretches or shrinks a recipe and its
warm-up, peak and final phases move with it. The published figures are the entries' own, not
measurements of this kit.

fast.ai's fastai-0.7 `use_clr_beta=(div, pct, max_mom, min_mom)` (sgdr.py, CircularLR_beta) maps onto
`one_cycle` as: pct_start = (1 - pct/100) / 2, final_phase = pct/100, div = div, final_div = 100 · div.
"""
from repro.recipes.base import DataSpec, ModelSpec, OptimSpec, Recipe, ScheduleSpec

# the submission files (JSON and TSV) at the commit read for docs/recipes.md
DAWNBENCH_ENTRIES = ("https://github.com/stanford-futuredata/dawn-bench-entries/blob/"
                     "fb27b827bd83eff9021698ffe576b33a100e0b78/CIFAR10/train/")

# fast.ai's wrn_22 (cifar10/models/wideresnet.py line 81): depth 22, widening factor 6 → widths 96/192/384
WRN_22 = ModelSpec(name="wide_resnet", num_classes=10, width=96, depth=22)

CIFAR_FASTAI_2018 = Recipe(
    name="cifar-fastai-2018",
    task="cifar10",
    description="fast.ai's single-GPU DAWNBench entry (Paperspace Volta) as submitted: wide ResNet wrn_22, "
                "batch 512, 1cycle over 30 epochs (div 20, 20 % final phase, peak LR 1.5, momentum "
                "0.95 → 0.85 → 0.95), weight decay 1e-4, reflect-pad 4 + crop + flip, fp16. Its colour "
                "jitter and ±2° rotation are not reproduced (docs/recipes.md).",
    model=WRN_22,
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
    published_claim="94 % top-1 on CIFAR-10 first reached at epoch 26 (0-based) after 0.1122 h (6 min 44 s) "
                    "on one V100 (Paperspace Volta, USD 2.30/h), fast.ai + students, DAWNBench, April 2018",
    published_source=DAWNBENCH_ENTRIES + "fastai_pytorch_single_volta.tsv",
)

CIFAR_FASTAI_2018_8GPU = Recipe(
    name="cifar-fastai-2018-8gpu",
    task="cifar10",
    description="fast.ai's eight-GPU DAWNBench entry (p3.16xlarge) as submitted in its final revision: wrn_22, "
                "128 images per GPU, 1cycle over 40 epochs (div 50, 12.5 % final phase, peak LR 2.0, momentum "
                "0.95 → 0.85 → 0.95), weight decay 2e-4, reflect-pad 4 + crop + flip, fp16. Colour jitter "
                "and rotation are not reproduced (docs/recipes.md).",
    model=WRN_22,
    data=DataSpec(name="cifar10", batch_size=1024, eval_batch_size=2048, flip=True, crop_padding=4),
    optim=OptimSpec(name="sgd", peak_lr=2.0, weight_decay=2e-4, nesterov=False, no_bn_weight_decay=False),
    schedule=ScheduleSpec(kind="one_cycle", pct_start=0.4375, div=50.0, final_div=5000.0, final_phase=0.125,
                          momentum_max=0.95, momentum_min=0.85),
    epochs=40,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    gpus=8,
    published_claim="94 % top-1 on CIFAR-10 first reached at epoch 35 (0-based) after 0.0483 h (2 min 54 s) "
                    "on 8 × V100 (AWS p3.16xlarge, USD 24.48/h), fast.ai + students, DAWNBench, April 2018",
    published_source=DAWNBENCH_ENTRIES + "fastai_pytorch.tsv",
)

# basenet's linear_cycle (basenet/lr.py lines 73-84) with --epochs 30 --extra 5 --burnout 5, over 40
# epochs as multipliers of 0.1: 0 → 1 at epoch 15, 1.05 → 0.05 at 30, → 0 at 35, then 0.005
CIFAR_BASENET_2018 = Recipe(
    name="cifar-basenet-2018",
    task="cifar10",
    description="Ben Johnson's DAWNBench entry (bkj/basenet, p3.2xlarge) as submitted: preact ResNet-18 with "
                "his modifications (prep conv + BN, last stage 256 wide, no final BN, concat pooling), batch "
                "128, SGD Nesterov momentum 0.9, weight decay 5e-4, linear cycle 0 → 0.1 (epoch 15) → 0.005 "
                "(30) → 0 (35), then 0.0005 to epoch 40, reflect-pad 4 + crop + flip, fp16.",
    model=ModelSpec(name="basenet_resnet18", num_classes=10, width=64, concat_pool=True),
    data=DataSpec(name="cifar10", batch_size=128, eval_batch_size=512, flip=True, crop_padding=4),
    optim=OptimSpec(name="sgd", peak_lr=0.1, weight_decay=5e-4, nesterov=True, no_bn_weight_decay=False),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 15 / 40, 15 / 40, 30 / 40, 35 / 40, 35 / 40, 1.0),
                          knots_y=(0.0, 1.0, 1.05, 0.05, 0.0, 0.005, 0.005), momentum_max=0.9, momentum_min=0.9),
    epochs=40,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    gpus=1,
    published_claim="94 % top-1 on CIFAR-10 first reached at epoch 30 (0-based) after 0.0946 h (5 min 41 s) "
                    "on one V100 (AWS p3.2xlarge, USD 3.06/h); 94 % in 6 of 7 runs, about the median run "
                    "reported; Ben Johnson, DAWNBench, April 2018",
    published_source=DAWNBENCH_ENTRIES + "basenet.tsv",
)

# airbench94 states its LR and weight decay for a summed loss (hyp['opt'] in airbench94.py); with repro's
# mean loss over the batch and PyTorch's coupled weight decay they become
#   lr = 11.5 / (1 + 1/(1 - 0.85)) = 1.5          (airbench: 11.5 / (1024·(1 + 1/0.15)) per summed image)
#   weight_decay = 0.0153 / (1 + 1/0.15) / 1.5     (the same decay per step: lr × weight_decay)
AIRBENCH_BATCH = 1024
AIRBENCH_PEAK_LR = 11.5 / (1 + 1 / (1 - 0.85))
AIRBENCH_WEIGHT_DECAY = 0.0153 / (1 + 1 / (1 - 0.85)) / AIRBENCH_PEAK_LR

CIFAR_AIRBENCH = Recipe(
    name="cifar-airbench",
    task="cifar10",
    description="airbench94 (Keller Jordan, 2024) in full: whitening stem from 5,000 training images (bias "
                "trained 3 epochs, then frozen), 64/256/256 conv groups, GELU, frozen BN scale, BN shift at "
                "64× LR, batch 1024, 9.9 epochs, LR 0.2 → 1 → 0.07 of the peak (warm-up 23 %), Nesterov "
                "momentum 0.85, label smoothing 0.2, lookahead averaging every 5 steps, alternating flip + "
                "2-px translate, mirror + translate TTA, fp16.",
    model=ModelSpec(name="airbench94", num_classes=10, width=64, whiten_images=5000,
                    frozen_after=(("whiten.bias", 3),)),
    data=DataSpec(name="cifar10", batch_size=AIRBENCH_BATCH, eval_batch_size=2000, flip=True, flip_mode="alternating",
                  crop_padding=2),
    optim=OptimSpec(name="sgd", peak_lr=AIRBENCH_PEAK_LR, weight_decay=AIRBENCH_WEIGHT_DECAY, nesterov=True,
                    label_smoothing=0.2, lookahead_every=5, lookahead_base=0.95, lookahead_power=3.0),
    schedule=ScheduleSpec(kind="piecewise", knots_x=(0.0, 0.23, 1.0), knots_y=(0.2, 1.0, 0.07),
                          momentum_max=0.85, momentum_min=0.85),
    epochs=10,
    final_epoch_fraction=0.9,
    target_metric="top1",
    target=0.94,
    precision="fp16",
    channels_last=True,
    tta=True,
    tta_translate=1,
    gpus=1,
    published_claim="94.01 % mean top-1 on CIFAR-10 over 1,000 runs in 3.83 s on one NVIDIA A100 "
                    "(airbench94.py; 3.09 s compiled with torch.compile, airbench94_compiled.py), Keller Jordan",
    published_source="https://github.com/KellerJordan/cifar10-airbench/blob/"
                     "f1c599c4af24aca803e3e65a6a7e52a502e09d0e/README.md",
)

CIFAR_RECIPES = (CIFAR_FASTAI_2018, CIFAR_FASTAI_2018_8GPU, CIFAR_BASENET_2018, CIFAR_AIRBENCH)
