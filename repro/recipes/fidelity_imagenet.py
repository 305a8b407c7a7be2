"""Fidelity records of the ImageNet recipes (see repro.recipes.fidelity for the format).

fast.ai's 2018 entry: the final entry JSON names imagenet_nv/main.py at c4b2255 and its arguments
"-a resnet50 --lr 0.40 --epochs 45 --small"; aws/do_nosh.sh at that commit launches exactly those
arguments through aws/upload_scripts/train2.sh, which adds --fp16 --loss-scale 512 -j 8 -b 192. (That
train2.sh names fastai_imagenet.py, whose parser has no --small; main.py is the script that takes these
arguments, and the project name in do_nosh.sh, "rn50_40_45_bnf_main_sml", says main.) The entry's TSV
agrees with main.py's epoch boundaries: epoch time triples at epoch 18 (224 px), top-1 jumps at 21 and
35 (LR steps) and epoch time rises again at 41 (288 px).
"""
from __future__ import annotations

from decimal import Decimal

from repro.recipes.fidelity import Fidelity, Published, Setting, Source

ENTRIES_COMMIT = "fb27b827bd83eff9021698ffe576b33a100e0b78"
IMAGENET_FAST_COMMIT = "c4b225555e333a1a2702d2b291b5082bfa6d6a0a"

_FASTAI_SOURCES = (
    Source("json", "DAWNBench entry ImageNet/train/fastai_pytorch.json", "stanford-futuredata/dawn-bench-entries",
           "ImageNet/train/fastai_pytorch.json", ENTRIES_COMMIT),
    Source("tsv", "its TSV ImageNet/train/fastai_pytorch.tsv", "stanford-futuredata/dawn-bench-entries",
           "ImageNet/train/fastai_pytorch.tsv", ENTRIES_COMMIT),
    Source("rules", "DAWNBench submission README", "stanford-futuredata/dawn-bench-entries", "README.md",
           ENTRIES_COMMIT),
    Source("main", "imagenet_nv/main.py (the entry's codeURL)", "fastai/imagenet-fast", "imagenet_nv/main.py",
           IMAGENET_FAST_COMMIT),
    Source("launch", "aws/do_nosh.sh", "fastai/imagenet-fast", "aws/do_nosh.sh", IMAGENET_FAST_COMMIT),
    Source("train2", "aws/upload_scripts/train2.sh", "fastai/imagenet-fast", "aws/upload_scripts/train2.sh",
           IMAGENET_FAST_COMMIT),
    Source("resnet", "imagenet_nv/models/resnet.py", "fastai/imagenet-fast", "imagenet_nv/models/resnet.py",
           IMAGENET_FAST_COMMIT),
)

_STEPPED_LR = [[0, 0.1], [1, 0.1], [1, 0.4 / 3], [2, 0.4 / 3], [2, 0.2], [3, 0.2], [3, 0.4], [21, 0.4], [21, 0.04],
               [35, 0.04], [35, 0.004], [43, 0.004], [43, 0.0004], [45, 0.0004]]

IMAGENET_FASTAI_2018 = Fidelity(
    recipe="imagenet-fastai-2018",
    entry="fast.ai + students, ImageNet training, DAWNBench v1.0 (2018-04-20)",
    summary="Read from main.py as do_nosh.sh and train2.sh launch it; the entry JSON's own summary "
            "differs from that code in places, and the TSV sides with the code.",
    sources=_FASTAI_SOURCES,
    settings=(
        Setting("model", "model.name", "resnet50", "resnet50", "launch", "2",
                note="-a resnet50; torchvision-style Bottleneck ResNet-50 [3, 4, 6, 3] (resnet.py 239-245)"),
        Setting("each block's last BN starts at 0 (zero-init residual)", "model.zero_init_residual", False, False,
                "resnet", "27-31, 144", note="bn() fills every BN weight with 1"),
        Setting("GPUs", "gpus", 8, 8, "json", "8"),
        Setting("batch per GPU at 128 and 224 px", "derived:batch_per_gpu@224", 192, 192, "train2", "45, 93",
                note="-b $BS with BS=192; one DataLoader per process with a DistributedSampler (main.py 94-99)"),
        Setting("batch per GPU at 128 px", "derived:batch_per_gpu@128", 192, 192, "train2", "45, 93"),
        Setting("batch per GPU at 288 px", "derived:batch_per_gpu@288", 128, 128, "main", "175",
                note="the JSON's batchSize 128 (line 21) is this last stage's"),
        Setting("optimiser", "optim.name", "sgd", "sgd", "main", "140"),
        Setting("momentum", "derived:momentum_knots", [[0, 0.9], [45, 0.9]], [[0, 0.9], [45, 0.9]], "main", "45, 140"),
        Setting("Nesterov", "optim.nesterov", False, False, "main", "140"),
        Setting("weight decay", "optim.weight_decay", 0.0001, 0.0001, "main", "46, 140",
                note="also the JSON's weightDecay (line 20)"),
        Setting("weight decay applies to", "derived:weight_decay_on", "all parameters", "all parameters", "main",
                "140"),
        Setting("peak LR", "optim.peak_lr", 0.4, 0.4, "launch", "2"),
        Setting("LR per epoch (knots in epochs, a repeated epoch is a step)", "derived:lr_knots", _STEPPED_LR,
                _STEPPED_LR, "main", "395-402",
                note="lr/(4 − epoch) for epochs 0-3, then steps at int(45·0.47+0.5) = 21, int(45·0.78+0.5) = 35, "
                     "int(45·0.95+0.5) = 43; set once per epoch (line 167). With --epochs N repro scales every "
                     "knot, where main.py keeps its 4 warm-up epochs"),
        Setting("LR schedule as the entry JSON summarises it", "derived:lr_knots",
                "0.1, 0.2, 0.3 for one epoch each, rising linearly per batch; 0.4 × 17, 0.04 × 14, 0.004 × 8, "
                "0.0004 × 3 epochs", _STEPPED_LR, "json", "22-30",
                reason="the JSON's summary puts the LR drops at epochs 20 and 34 and describes a per-batch "
                       "warm-up; main.py, which the JSON names as the code, steps per epoch and drops at 21 and "
                       "35, and the TSV shows the drops there (top-1 42.6 → 68.3 % at epoch 21, 70.4 → 74.1 % "
                       "at 35); the recipe follows the code"),
        Setting("epochs", "epochs", 45, 45, "launch", "2", note="--epochs 45; the TSV has 45 rows"),
        Setting("image size by epoch (knots in epochs, a repeated epoch is a step)", "derived:size_knots",
                [[0, 128], [18, 128], [18, 224], [41, 224], [41, 288], [45, 288]],
                [[0, 128], [18, 128], [18, 224], [41, 224], [41, 288], [45, 288]], "main", "153-156, 168-177",
                note="--small: 128 px from the 160-px copy; 224 from epoch int(45·0.4+0.5) = 18; 288 from "
                     "int(45·0.92+0.5) = 41"),
        Setting("training images for the 128-px epochs", None, "a copy resized to 160 px (imagenet-sz/160)",
                "the full-size images", "main", "153-155",
                reason="repro reads one ImageFolder tree; cropping the full-size images then resizing to 128 px "
                       "gives the same crops at higher source quality"),
        Setting("random-resized-crop scale at 128 and 224 px", "code:repro.train.data.imagenet.RRC_SCALE",
                [0.08, 1.0], [0.08, 1.0], "main", "79, 85"),
        Setting("random-resized-crop scale at 288 px", "code:repro.train.data.imagenet.RRC_SCALE", [0.5, 1.0],
                [0.08, 1.0], "main", "176-177",
                reason="repro's ImageNet pipeline has one crop scale for every stage; a per-stage scale is not "
                       "implemented"),
        Setting("horizontal flip", "data.flip", True, True, "main", "86"),
        Setting("last partial batch of an epoch", None, "kept (a torch DataLoader without drop_last)", "dropped",
                "main", "97-99",
                reason="repro's ImageNet source drops each epoch's last partial global batch (fewer than 1,536 "
                       "of 1.28 million images)"),
        Setting("validation size (0: the epoch's training size)", "data.eval_size", 0, 0, "main", "88-92",
                note="main.py validates at args.sz, the training size of the epoch"),
        Setting("validation resize (short side ÷ crop)", "code:repro.train.data.imagenet.EVAL_CROP_RATIO",
                1 / 1.14, 0.875, "main", "90-91",
                reason="repro resizes the short side to size ÷ 0.875 (146, 256, 329 px), main.py to "
                       "int(1.14 × size) (145, 255, 328): one pixel apart"),
        Setting("validation batch per GPU", "derived:eval_batch_per_gpu", 192, 192, "main", "101-103",
                note="at 288 px main.py drops the validation sampler (line 177), so every GPU scores all "
                     "50,000 images; repro splits them over the GPUs: the same accuracy, less time"),
        Setting("precision", "precision", "fp16", "fp16", "train2", "93",
                note="--fp16: the model in fp16 with an fp32 master copy of the weights (main.py 126-134)"),
        Setting("loss scaling", None, "static, 512", "dynamic (torch.amp.GradScaler)", "train2", "93",
                reason="repro's fp16 is autocast with a dynamic loss scale; a static 512 is not offered"),
        Setting("target", "target", 0.93, 0.93, "rules", "163-164, 194-195"),
        Setting("target metric", "target_metric", "top5", "top5", "rules", "163-164"),
        Setting("test-time augmentation", "tta", False, False, "main", "313-368"),
        Setting("validation set", None, "usedBlacklist: true; train2.sh (line 72) runs blacklist.sh, which "
                "deletes 1,762 validation images", "the val/ tree given with --data, as it is", "json", "11",
                reason="repro deletes no validation images; a tree prepared with blacklist.sh can be passed "
                       "with --data. The commit that added usedBlacklist (11b5b23) is titled 'add blacklist "
                       "files to validation set and re-train', so the files leave open which set the final run "
                       "scored"),
    ),
    published=(
        Published("first epoch at or above 93 % top-5", 41, "2.957533192777778", "h", "93.002", "top5",
                  "8 × V100 (AWS p3.16xlarge)", Decimal("24.48"), "2018-04-20", "tsv", "43",
                  note="USD 24.48/h is the entry's costPerHour (JSON line 9)"),
    ),
)

MLPERF_COMMIT = "d73e20f179151ce1b40dc300374f576a391f91ea"

IMAGENET_RN50_FAST = Fidelity(
    recipe="imagenet-rn50-fast",
    entry="MLPerf Training's ResNet-50 quality target (the rest of the recipe is repro's own)",
    summary="Only the target is claimed from MLPerf; the schedule is not MLPerf's reference schedule.",
    sources=(Source("mlperf", "MLPerf Training rules, training_rules.adoc", "mlcommons/training_policies",
                    "training_rules.adoc", MLPERF_COMMIT),),
    settings=(
        Setting("target", "target", 0.759, 0.759, "mlperf", "780"),
        Setting("target metric", "target_metric", "top1", "top1", "mlperf", "780"),
        Setting("model", "model.name", "resnet50 (v1.5)", "resnet50", "mlperf", "780",
                reason="the same network: torchvision's resnet50 strides in the 3×3 convolution, which is "
                       "what MLPerf calls v1.5"),
        Setting("SGD momentum", "schedule.momentum_max", 0.9, 0.9, "mlperf", "852"),
        Setting("LR decay", None, "polynomial, power 2, to 1e-4", "linear to 2.0 × 5e-5 = 1e-4", "mlperf",
                "848-849",
                reason="repro's schedules are piecewise linear; this recipe is not a closed-division MLPerf "
                       "submission, so its decay is linear"),
    ),
)
