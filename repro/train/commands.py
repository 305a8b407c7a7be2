"""`repro cifar` and `repro imagenet`: one sub-command per dataset family, listing its recipes."""
from __future__ import annotations

import argparse
from pathlib import Path

# sub-command → (dataset name in recipe.data.name, default recipe, help)
FAMILIES = {
    "cifar": ("cifar10", "cifar-fastai-2018", "train a CIFAR-10 recipe (real python-pickle batches)"),
    "imagenet": ("imagenet", "imagenet-fastai-2018", "train an ImageNet recipe (ImageFolder JPEG tree)"),
}


def add_train_parsers(sub, add_train_flags, handler) -> None:
    from repro.recipes import RECIPES

    for command, (dataset, default, help_text) in FAMILIES.items():
        names = sorted(r.name for r in RECIPES.values() if r.data.name == dataset)
        p = sub.add_parser(
            command, help=help_text, formatter_class=argparse.RawDescriptionHelpFormatter,
            description=f"{help_text}. Recipes: {', '.join(names) or 'none registered'}.",
            epilog=f"example:\n  repro {command} --recipe {default} --data /data/{dataset} --runs 5\n"
                   f"  repro {command} --recipe {default} --synthetic --epochs 1   # throughput only\n")
        add_train_flags(p, default)
        p.add_argument("--data", type=Path, default=None, help=f"{dataset} directory")
        p.add_argument("--synthetic", action="store_true",
                       help="random data of the real shape: throughput only, never an accuracy claim")
        p.add_argument("--gpus", type=int, default=None, help="GPUs to use on this box (torchrun ranks)")
        p.set_defaults(func=handler, family=dataset)
