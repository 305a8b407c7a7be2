"""`repro cifar` and `repro imagenet`: one sub-command per dataset family, listing its recipes."""
from __future__ import annotations

import argparse
from pathlib import Path

# sub-command → (dataset name in recipe.data.name, default recipe, help)
FAMILIES = {
    "cifar": ("cifar10", "cifar-fastai-2018", "train a CIFAR-10 recipe (real python-pickle batches)"),
    "imagenet": ("imagenet", "imagenet-fastai-2018", "train an ImageNet recipe (ImageFolder JPEG tree)"),
}


def add_train_parsers(sub, add_train_flags) -> None:
    """`repro cifar|imagenet`: the CLI's train flags plus torchrun (--gpus/--nnodes/…) and --resume,
    handled by `_scale_out_handler`."""
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
        p.add_argument("--nnodes", type=int, default=1, help="boxes in the run (torchrun c10d rendezvous)")
        p.add_argument("--node-rank", type=int, default=0, help="this box's index, 0..nnodes-1")
        p.add_argument("--rdzv-endpoint", default=None, metavar="HOST:PORT",
                       help="rendezvous address every box can reach, e.g. the first box's IP:29400")
        p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                       help="continue an interrupted run from its checkpoint.pt (same config and seed)")
        p.set_defaults(func=_scale_out_handler, family=dataset)


def add_lr_find_parser(sub) -> None:
    """`repro lr-find`: the LR range test of a recipe (repro.train.lr_find)."""
    p = sub.add_parser(
        "lr-find", help="LR range test: sweep the LR exponentially, watch the loss, suggest a peak LR",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a fresh copy of the recipe's model for --steps steps while the learning rate grows "
                    "exponentially from --start-lr to --end-lr; print the (smoothed) loss per LR and suggest "
                    "the LR of steepest descent. Writes no run directory.",
        epilog="example:\n  repro lr-find --recipe cifar-fastai-2018 --data /data/cifar10 --steps 300\n"
               "  repro lr-find --recipe digits --end-lr 30 --json\n")
    p.add_argument("--recipe", required=True, help="recipe name (see `repro recipes`)")
    p.add_argument("--data", type=Path, default=None, help="dataset directory (CIFAR-10, ImageNet)")
    p.add_argument("--synthetic", action="store_true", help="random data of the real shape")
    p.add_argument("--steps", type=int, default=200, help="sweep length in steps (default 200)")
    p.add_argument("--start-lr", type=float, default=1e-6, help="first LR (default 1e-6)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last LR (default 10)")
    p.add_argument("--divergence", type=float, default=4.0,
                   help="stop when the smoothed loss exceeds this × its best (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="override the recipe's precision")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted recipe override, e.g. --set data.batch_size=256 (repeatable)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--rows", type=int, default=20, help="rows in the printed table (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object with every step")
    p.set_defaults(func=cmd_lr_find)


def cmd_lr_find(args) -> int:
    import json

    from repro import api
    from repro.cli import EXIT_ERROR, EXIT_OK
    from repro.train.lr_find import find_lr

    if args.steps < 2:
        raise ValueError(f"--steps must be ≥ 2, got {args.steps}")
    recipe = api.resolve_recipe(args.recipe, precision=args.precision, overrides=args.overrides)
    if args.data is not None and not Path(args.data).exists():
        raise ValueError(f"--data {args.data}: no such directory")
    result = find_lr(recipe, device=api.default_device(args.device), data_dir=args.data,
                     synthetic=args.synthetic, steps=args.steps, start_lr=args.start_lr, end_lr=args.end_lr,
                     seed=args.seed, divergence_factor=args.divergence)
    if args.json:
        print(json.dumps({"recipe": recipe.name, "recipe_peak_lr": recipe.optim.peak_lr, **result.to_dict()}))
        return EXIT_OK if result.suggested_lr is not None else EXIT_ERROR
    print(f"LR range test: recipe {recipe.name}, {len(result.lrs)} steps "
          f"({result.stopped}), batch {recipe.data.batch_size}, {recipe.precision}")
    print(f"{'step':>6s} {'lr':>11s} {'loss':>10s} {'smoothed':>10s}")
    for row in result.table(args.rows):
        print(f"{row['step']:6d} {row['lr']:11.3e} {row['loss']:10.4f} {row['smoothed']:10.4f}")
    if result.suggested_lr is None:
        print("no suggestion: the sweep recorded no finite loss; lower --start-lr")
        return EXIT_ERROR
    print(f"suggested peak LR {result.suggested_lr:.3g} (steepest descent); lowest smoothed loss "
          f"{result.min_loss:.4f} at LR {result.lr_at_min:.3g} (÷10: {result.lr_at_min / 10:.3g}); "
          f"recipe uses {recipe.optim.peak_lr:.3g}")
    return EXIT_OK


def _scale_out_handler(args) -> int:
    """`repro cifar|imagenet`: cmd_train plus the torchrun and resume flags."""
    import sys

    from repro import api
    from repro.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED, Printer

    out = Printer(args.quiet, args.json)
    summary = api.train(
        recipe_name=args.recipe, runs=args.runs, seed=args.seed, target=args.target, epochs=args.epochs,
        precision=args.precision, overrides=args.overrides, results_dir=args.results, device=args.device,
        data_dir=args.data, synthetic=args.synthetic, snapshot_path=args.snapshot,
        stop_at_target=args.stop_at_target, gpus=args.gpus, printer=out, command=sys.argv,
        nnodes=args.nnodes, node_rank=args.node_rank, rdzv_endpoint=args.rdzv_endpoint, resume=args.resume)
    return EXIT_OK if summary["ok"] else (EXIT_INTERRUPTED if summary["interrupted"] else EXIT_RUN_FAILED)
