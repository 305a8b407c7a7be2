"""Fidelity records of fast.ai's two CIFAR-10 DAWNBench entries (see repro.recipes.fidelity).

Both ran cifar10/dawn_mod.py with the commands of cifar10/dawn_submission/README.md at the commits the
entry JSONs cite: a2ff907 for the single-GPU entry, 1bc5aeec for the eight-GPU one (dawn_mod.py is the
same file at both). The eight-GPU entry was revised once (commit 5f5d80d, "re-run with latest
models/parameters"): its first version said "cycles: 50, learning-rates: 50,15" (README v1: --lr 1.3,
--cycle-len 50); the final JSON says 40 cycles and 50,12.5, README v2's command (--lr 2.0), and its TSV
has 40 epochs. The recipe follows the final revision.
"""
from __future__ import annotations

from decimal import Decimal

from repro.recipes.fidelity import Fidelity, Published, Setting, Source

ENTRIES_COMMIT = "fb27b827bd83eff9021698ffe576b33a100e0b78"
ONE_GPU_COMMIT = "a2ff907cd5e7315088324e1ff324fd25a1a67fe3"
EIGHT_GPU_COMMIT = "1bc5aeec765572397c0ebe4a5d616d03beeeeec1"
MODEL_COMMIT = "e93593ca0a7e226141050cbd55622ff08b0632c3"
FASTAI_SGDR = Source("sgdr", "fastai 0.7 fastai/sgdr.py (CircularLR_beta)", "fastai/fastai", "fastai/sgdr.py",
                     "0313ebf264639de948511758a9709dc9872c887a")
FASTAI_CORE = Source("core", "fastai 0.7 fastai/core.py (SGD_Momentum, the Learner's default optimiser)",
                     "fastai/fastai", "fastai/core.py", "0313ebf264639de948511758a9709dc9872c887a")


def _sources(json_name: str, code_commit: str) -> tuple[Source, ...]:
    return (
        Source("json", f"DAWNBench entry CIFAR10/train/{json_name}.json", "stanford-futuredata/dawn-bench-entries",
               f"CIFAR10/train/{json_name}.json", ENTRIES_COMMIT),
        Source("tsv", f"its TSV CIFAR10/train/{json_name}.tsv", "stanford-futuredata/dawn-bench-entries",
               f"CIFAR10/train/{json_name}.tsv", ENTRIES_COMMIT),
        Source("rules", "DAWNBench submission README", "stanford-futuredata/dawn-bench-entries", "README.md",
               ENTRIES_COMMIT),
        Source("readme", "cifar10/dawn_submission/README.md (the commands)", "fastai/imagenet-fast",
               "cifar10/dawn_submission/README.md", code_commit),
        Source("script", "cifar10/dawn_mod.py", "fastai/imagenet-fast", "cifar10/dawn_mod.py", code_commit),
        Source("model", "cifar10/models/wideresnet.py", "fastai/imagenet-fast", "cifar10/models/wideresnet.py",
               MODEL_COMMIT),
        FASTAI_SGDR, FASTAI_CORE,
    )


def _common(command_lines: str) -> tuple[Setting, ...]:
    """The settings both fast.ai entries share: model, optimiser, augmentation, precision, target."""
    return (
        Setting("model", "model.name", "wide_resnet", "wide_resnet", "model", "45-81",
                note="wrn_22 = WideResNet(depth=22, widen_factor=6): pre-activation blocks, 16-channel stem"),
        Setting("depth", "model.depth", 22, 22, "model", "81"),
        Setting("first stage width (16 × widening factor 6)", "model.width", 96, 96, "model", "48, 81"),
        Setting("initialisation", "code:repro.train.models.INITIALISATION.wide_resnet",
                "conv N(0, 2/(k·k·out)), BN γ 1 β 0, head bias 0", "conv N(0, 2/(k·k·out)), BN γ 1 β 0, head bias 0",
                "model", "63-70"),
        Setting("optimiser", "optim.name", "sgd", "sgd", "core", "SGD_Momentum"),
        Setting("Nesterov", "optim.nesterov", False, False, "core", "SGD_Momentum"),
        Setting("weight decay applies to", "derived:weight_decay_on", "all parameters", "all parameters",
                "script", "326-329", note="fastai 0.7's wds as the optimiser's weight_decay"),
        Setting("reflect padding before the random 32-px crop", "data.crop_padding", 4, 4, "script",
                "100-101, 137-139"),
        Setting("horizontal flip", "data.flip", True, True, "script", "142"),
        Setting("last partial batch of an epoch", None, "kept (a torch DataLoader without drop_last)", "dropped",
                "script", "147-149",
                reason="repro's CIFAR source drops each epoch's last partial batch (336 of 50,000 images at "
                       "batch 512, 848 at 1024)"),
        Setting("colour jitter (brightness, contrast, saturation)", None, [0.25, 0.25, 0.25], "none", "script",
                "140", reason="repro's on-device CIFAR augmentation has no colour jitter; not reproduced"),
        Setting("random rotation (degrees)", None, 2, "none", "script", "141",
                reason="repro's on-device CIFAR augmentation has no rotation; not reproduced"),
        Setting("normalisation mean", "code:repro.train.data.cifar.MEAN", [0.4914, 0.48216, 0.44653],
                [0.4914, 0.4822, 0.4465], "script", "132",
                reason="the same statistics to four decimals; at most 0.00003 apart, far below one 8-bit level"),
        Setting("normalisation std", "code:repro.train.data.cifar.STD", [0.24703, 0.24349, 0.26159],
                [0.247, 0.2435, 0.2616], "script", "132",
                reason="the same statistics to four decimals; at most 0.00003 apart"),
        Setting("precision", "precision", "fp16", "fp16", "readme", command_lines,
                note="--fp16: fastai 0.7 trains an fp16 copy against fp32 master weights"),
        Setting("loss scaling", None, "static, 512", "dynamic (torch.amp.GradScaler)", "readme", command_lines,
                reason="repro's fp16 is autocast with a dynamic loss scale; a static 512 is not offered"),
        Setting("test-time augmentation", "tta", False, False, "script", "81, 334",
                note="--use-tta defaults to False and was not passed"),
        Setting("target", "target", 0.94, 0.94, "rules", "25-26, 56-57"),
        Setting("target metric", "target_metric", "top1", "top1", "rules", "56-57"),
    )


CIFAR_FASTAI_2018 = Fidelity(
    recipe="cifar-fastai-2018",
    entry="fast.ai + students, CIFAR-10 training on one V100 (Paperspace), DAWNBench v1.0 (2018-04-19)",
    summary="The README's single-GPU command: dawn_mod.py -a wrn_22 --fp16 --loss-scale 512 --epochs 1 "
            "--cycle-len 30 --lr 1.5 --wd 1e-4 --use-clr 20,20,0.95,0.85 (batch: the script's default 512).",
    sources=_sources("fastai_pytorch_single_volta", ONE_GPU_COMMIT),
    settings=(
        *_common("24"),
        Setting("GPUs", "gpus", 1, 1, "json", "8"),
        Setting("batch", "data.batch_size", 512, 512, "script", "66-67", note="-b not passed: the default 512"),
        Setting("validation batch", "data.eval_batch_size", 1024, 1024, "script", "152-155"),
        Setting("epochs (one cycle of 30)", "epochs", 30, 30, "readme", "24", note="also the JSON's cycles: 30"),
        Setting("weight decay", "optim.weight_decay", 0.0001, 0.0001, "readme", "24"),
        Setting("peak LR", "optim.peak_lr", 1.5, 1.5, "readme", "24"),
        Setting("1cycle LR (knots in epochs)", "derived:lr_knots", [[0, 0.075], [12, 1.5], [24, 0.075], [30, 0.00075]],
                [[0, 0.075], [12, 1.5], [24, 0.075], [30, 0.00075]], "sgdr", "CircularLR_beta.calc_lr",
                note="use_clr 20,20: div 20, last 20 % from lr/20 down to lr/2000; the rise ends at "
                     "int(steps·0.8/2), i.e. 12 epochs to the batch"),
        Setting("1cycle momentum (knots in epochs)", "derived:momentum_knots",
                [[0, 0.95], [12, 0.85], [24, 0.95], [30, 0.95]], [[0, 0.95], [12, 0.85], [24, 0.95], [30, 0.95]],
                "sgdr", "CircularLR_beta.calc_mom"),
    ),
    published=(
        Published("first epoch at or above 94 % top-1", 26, "0.11224536388888888", "h", "94.04000012397766", "top1",
                  "1 × V100 (Paperspace Volta)", Decimal("2.30"), "2018-04-19", "tsv", "28",
                  note="USD 2.30/h is the entry's costPerHour (JSON line 9)"),
    ),
)

CIFAR_FASTAI_2018_8GPU = Fidelity(
    recipe="cifar-fastai-2018-8gpu",
    entry="fast.ai + students, CIFAR-10 training on 8 × V100 (AWS p3.16xlarge), DAWNBench v1.0 (2018-04-18)",
    summary="README v2's multi-GPU command: python -m multiproc dawn_mod.py -a wrn_22 --epochs 1 --cycle-len "
            "40 --fp16 --loss-scale 512 -b 128 --wd 2e-4 --lr 2.0 --use-clr 50,12.5,0.95,0.85 -j 8.",
    sources=_sources("fastai_pytorch", EIGHT_GPU_COMMIT),
    settings=(
        *_common("5-13"),
        Setting("GPUs", "gpus", 8, 8, "json", "8"),
        Setting("batch per GPU", "derived:batch_per_gpu", 128, 128, "readme", "10",
                note="-b 128 per process, each with a DistributedSampler (dawn_mod.py 145-149)"),
        Setting("validation batch per GPU", "derived:eval_batch_per_gpu", 256, 256, "script", "152-155"),
        Setting("epochs (one cycle of 40)", "epochs", 40, 40, "readme", "8",
                note="the JSON's cycles: 40 (line 13); the TSV has 40 rows"),
        Setting("weight decay", "optim.weight_decay", 0.0002, 0.0002, "readme", "11"),
        Setting("peak LR", "optim.peak_lr", 2.0, 2.0, "readme", "11"),
        Setting("1cycle LR (knots in epochs)", "derived:lr_knots",
                [[0, 0.04], [17.5, 2.0], [35, 0.04], [40, 0.0004]], [[0, 0.04], [17.5, 2.0], [35, 0.04], [40, 0.0004]],
                "sgdr", "CircularLR_beta.calc_lr", note="use_clr 50,12.5: div 50, last 12.5 % down to lr/5000"),
        Setting("1cycle momentum (knots in epochs)", "derived:momentum_knots",
                [[0, 0.95], [17.5, 0.85], [35, 0.95], [40, 0.95]], [[0, 0.95], [17.5, 0.85], [35, 0.95], [40, 0.95]],
                "sgdr", "CircularLR_beta.calc_mom"),
    ),
    published=(
        Published("first epoch at or above 94 % top-1", 35, "0.04832193277777778", "h", "94.03", "top1",
                  "8 × V100 (AWS p3.16xlarge)", Decimal("24.48"), "2018-04-18", "tsv", "37",
                  note="USD 24.48/h is the entry's costPerHour (JSON line 9)"),
    ),
)
