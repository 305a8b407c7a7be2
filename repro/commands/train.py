"""`repro digits | cifar | imagenet | rerun | recipes`: train recipes, replay runs, list recipes."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.commands.options import add_command, add_output_flags, add_results, add_snapshot
from repro.commands.output import ExitCode, Output
from repro.commands.progress import TrainPrinter
from repro.orchestrator import GroupResult, TrainRequest, execute
from repro.recipes import RECIPES, recipes_for

# command → (dataset, default recipe, help)
FAMILIES = {
    "digits": ("scikit-learn's digits", "digits", "train the embedded digits recipe (CPU, seconds)"),
    "cifar": ("CIFAR-10", "cifar-fastai-2018", "train a CIFAR-10 recipe (real python-pickle batches)"),
    "imagenet": ("ImageNet", "imagenet-fastai-2018", "train an ImageNet recipe (ImageFolder JPEG tree)"),
}
EXAMPLES = {
    "digits": "repro digits --runs 3 --seed 0 --target 0.95 --results results",
    "cifar": "repro cifar --recipe cifar-fastai-2018 --data /data/cifar10 --runs 5\n"
             "repro cifar --recipe cifar-airbench --synthetic --epochs 1   # throughput only",
    "imagenet": "repro imagenet --recipe imagenet-fastai-2018 --data /data/imagenet --gpus 8\n"
                "repro imagenet --recipe imagenet-rn18-1gpu --synthetic --epochs 1   # throughput only",
}


def add_train_flags(p: argparse.ArgumentParser, default_recipe: str) -> None:
    p.add_argument("--recipe", default=default_recipe, help=f"recipe name (default {default_recipe}; "
                                                             "see `repro recipes`)")
    p.add_argument("--runs", type=int, default=1, help="number of runs with distinct seeds (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first run; run i uses seed+i (default 0)")
    p.add_argument("--target", type=float, help="target accuracy as a fraction, e.g. 0.94 (default: the recipe's)")
    p.add_argument("--epochs", type=int, help="shorten or lengthen the recipe; schedules rescale")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="override the recipe's precision")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted recipe override, e.g. --set optim.peak_lr=0.4 (repeatable)")
    add_results(p)
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available)")
    add_snapshot(p)
    p.add_argument("--stop-at-target", action="store_true",
                   help="stop a run at the first evaluation that reaches the target")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR",
                   help="continue an interrupted run from its checkpoint.pt (same config and seed)")
    p.add_argument("--estimate", action="store_true",
                   help="estimate the time to target first and keep it in run.json (see `repro estimate`)")
    add_output_flags(p)


def _add_scale_flags(p: argparse.ArgumentParser, dataset: str) -> None:
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help=f"{dataset} directory")
    p.add_argument("--synthetic", action="store_true",
                   help="random data of the real shape: throughput only, never an accuracy claim")
    p.add_argument("--gpus", type=int, default=None,
                   help="processes (GPUs) on this box, started as torchrun ranks (default: the recipe's, "
                        "at most the GPUs present)")
    p.add_argument("--nnodes", type=int, default=1, help="boxes in the run (torchrun c10d rendezvous; default 1)")
    p.add_argument("--node-rank", type=int, default=0, help="this box's index, 0..nnodes-1 (default 0)")
    p.add_argument("--rdzv-endpoint", default=None, metavar="HOST:PORT",
                   help="rendezvous address every box can reach, e.g. the first box's IP:29400")


def register(sub) -> None:
    for command, (dataset, default, help_text) in FAMILIES.items():
        names = ", ".join(recipes_for(command))
        p = add_command(sub, command, help=help_text, examples=EXAMPLES[command],
                        description=f"{help_text[:1].upper()}{help_text[1:]}. Recipes: {names}.")
        add_train_flags(p, default)
        if command != "digits":
            _add_scale_flags(p, dataset)
        p.set_defaults(func=cmd_train, family=command)

    p = add_command(sub, "rerun", help="train again with a run's recorded config and seed",
                    examples="repro rerun results/digits/20261125T120000Z-a1b2c3")
    p.add_argument("run_dir", type=Path, help="the run directory to replay")
    p.add_argument("--results", type=Path, default=None, metavar="DIR",
                   help="where the new run goes (default: beside the old one)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: the recorded accelerator)")
    add_snapshot(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_rerun)

    p = add_command(sub, "recipes", help="list the named recipes (with --json, each one's settings against its "
                                         "source, as in docs/recipes.md)", examples="repro recipes --json")
    add_output_flags(p)
    p.set_defaults(func=cmd_recipes)


def request_from(args: argparse.Namespace) -> TrainRequest:
    return TrainRequest(
        recipe=args.recipe, runs=args.runs, seed=args.seed, target=args.target, epochs=args.epochs,
        precision=args.precision, overrides=tuple(args.overrides), results_dir=args.results, device=args.device,
        data_dir=getattr(args, "data", None), synthetic=getattr(args, "synthetic", False),
        snapshot_path=args.snapshot, stop_at_target=args.stop_at_target, gpus=getattr(args, "gpus", None),
        nnodes=getattr(args, "nnodes", 1), node_rank=getattr(args, "node_rank", 0),
        rdzv_endpoint=getattr(args, "rdzv_endpoint", None), resume=getattr(args, "resume", None),
        command=tuple(sys.argv), family=args.family, estimate=args.estimate)


def exit_code(group: GroupResult) -> ExitCode:
    if group.signal:
        return ExitCode.INTERRUPTED if group.signal == 2 else ExitCode.TERMINATED
    return ExitCode.OK if group.ok else ExitCode.RUN_FAILED


def cmd_train(args: argparse.Namespace, out: Output) -> int:
    from repro import api
    from repro.report.format import duration

    plan = api.plan_request(request_from(args))
    for note in plan.notes:
        out.note(f"note: {note}")
    if plan.estimate:
        e = plan.estimate
        out.record("estimate", e)
        out.note(f"estimate: {duration(e['time_to_target_s'])} to target on {e['hardware']} "
                 f"({duration(e['low_s'])}–{duration(e['high_s'])}, {e['basis']}); kept in run.json")
    return exit_code(execute(plan, TrainPrinter(out)))


def cmd_rerun(args: argparse.Namespace, out: Output) -> int:
    from repro import api
    return exit_code(api.rerun(args.run_dir, results_dir=args.results, device=args.device,
                               snapshot_path=args.snapshot, events=TrainPrinter(out)))


def cmd_recipes(args: argparse.Namespace, out: Output) -> int:
    from repro.recipes import command_for
    from repro.recipes.fidelity import as_json, same
    from repro.recipes.fidelity_index import FIDELITY
    for r in RECIPES.values():
        record = FIDELITY.get(r.name)
        length = r.epochs - 1 + r.final_epoch_fraction     # airbench94: 10 epochs, the last cut at 0.9
        out.record("recipe", {"name": r.name, "command": command_for(r), "task": r.task, "target": r.target,
                              "metric": r.target_metric, "epochs": r.epochs, "train_epochs": length,
                              "gpus": r.gpus,
                              "published": r.published_claim, "source": r.published_source,
                              "config": r.to_dict(), "fidelity": as_json(record) if record else None})
        if record:
            differing = sum(1 for s in record.settings if not same(s.source_value, s.recipe_value))
            against = f"  [{len(record.settings)} settings checked against its source, {differing} differ]"
        else:
            against = ""
        out.line(f"{r.name:24s} {command_for(r):9s} {r.task:14s} {r.target_metric} ≥ {r.target:.3f}  "
                 f"{length:4g} epochs  {r.description}{against}")
    return ExitCode.OK
