"""`repro lr-find`: the LR range test of a recipe (repro.train.lr_find). Writes no run directory."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import add_command
from repro.commands.output import ExitCode, Output
from repro.orchestrator import checks
from repro.orchestrator.request import PlanError
from repro.recipes import resolve


def register(sub) -> None:
    p = add_command(
        sub, "lr-find", help="LR range test: sweep the LR exponentially, watch the loss, suggest a peak LR",
        description="Train a fresh copy of the recipe's model for --steps steps while the learning rate grows "
                    "exponentially from --start-lr to --end-lr; print the (smoothed) loss per LR and suggest "
                    "the LR of steepest descent. Writes no run directory.",
        examples="repro lr-find --recipe cifar-fastai-2018 --data /data/cifar10 --steps 300\n"
                 "repro lr-find --recipe digits --end-lr 30 --json")
    p.add_argument("--recipe", required=True, help="recipe name (see `repro recipes`)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help="dataset directory (CIFAR-10, ImageNet)")
    p.add_argument("--synthetic", action="store_true", help="random data of the real shape")
    p.add_argument("--steps", type=int, default=200, help="sweep length in steps (default 200)")
    p.add_argument("--start-lr", type=float, default=1e-6, help="first LR (default 1e-6)")
    p.add_argument("--end-lr", type=float, default=10.0, help="last LR (default 10)")
    p.add_argument("--divergence", type=float, default=4.0,
                   help="stop when the smoothed loss exceeds this × its best (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the model and the batches (default 0)")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="override the recipe's precision")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted recipe override, e.g. --set data.batch_size=256 (repeatable)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--rows", type=int, default=20, help="rows in the printed table (default 20)")
    p.add_argument("--json", action="store_true", help="print one JSON object with every step")
    p.set_defaults(func=cmd_lr_find, quiet=False)


def cmd_lr_find(args: argparse.Namespace, out: Output) -> int:
    from repro.train.lr_find import find_lr

    if args.steps < 2:
        raise PlanError(f"--steps must be ≥ 2, got {args.steps}")
    if not 0 < args.start_lr < args.end_lr:
        raise PlanError(f"need 0 < --start-lr < --end-lr, got {args.start_lr} and {args.end_lr}")
    recipe = resolve(args.recipe, precision=args.precision, overrides=tuple(args.overrides))
    checks.model(recipe)
    checks.data(recipe, args.data, args.synthetic)
    result = find_lr(recipe, device=checks.device(args.device), data_dir=args.data, synthetic=args.synthetic,
                     steps=args.steps, start_lr=args.start_lr, end_lr=args.end_lr, seed=args.seed,
                     divergence_factor=args.divergence)
    out.record("lr_find", {"recipe": recipe.name, "recipe_peak_lr": recipe.optim.peak_lr, **result.to_dict()})
    out.line(f"LR range test: recipe {recipe.name}, {len(result.lrs)} steps ({result.stopped}), "
             f"batch {recipe.data.batch_size}, {recipe.precision}")
    out.line(f"{'step':>6s} {'lr':>11s} {'loss':>10s} {'smoothed':>10s}")
    for row in result.table(args.rows):
        out.line(f"{row['step']:6d} {row['lr']:11.3e} {row['loss']:10.4f} {row['smoothed']:10.4f}")
    if result.suggested_lr is None:
        out.line("no suggestion: the sweep recorded no finite loss; lower --start-lr")
        return ExitCode.ERROR
    out.line(f"suggested peak LR {result.suggested_lr:.3g} (steepest descent); lowest smoothed loss "
             f"{result.min_loss:.4f} at LR {result.lr_at_min:.3g} (÷10: {result.lr_at_min / 10:.3g}); "
             f"recipe uses {recipe.optim.peak_lr:.3g}")
    return ExitCode.OK
