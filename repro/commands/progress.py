"""What a person sees while runs go on: a bar inside each epoch (on a terminal only), a line per
epoch, the outcome and cost of each run, the group's score. `--json` gets the same as records."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from repro.commands.output import Output
from repro.orchestrator import GroupResult, RunResult, RunStart
from repro.pricing.billing import format_cost_lines

MONEY_KEYS = ("usd_per_hour", "benchmark_usd", "billed_usd")


def cost_numbers(cost: dict | None) -> dict | None:
    """cost.json with its USD strings as Decimals, so --json writes them as numbers."""
    if not cost:
        return cost
    rows = [{k: (Decimal(v) if k in MONEY_KEYS and isinstance(v, str) else v) for k, v in row.items()}
            for row in cost.get("rows", [])]
    return {**cost, "rows": rows}


def epoch_line(row: dict[str, Any]) -> str:
    eta = row["elapsed_s"] / row["epoch"] * (row["epochs"] - row["epoch"])
    top5 = f"  top5 {row['top5']:.4f}" if row.get("top5") is not None else ""
    ips = f"{row['images_per_s']:8.0f}" if row.get("images_per_s") else "       -"
    mark = "  ✓ target" if row.get("reached") else ""
    return (f"  epoch {row['epoch']:3d}/{row['epochs']:<3d} time {row['elapsed_s']:8.2f}s  "
            f"loss {row['train_loss']:.4f}  top1 {row['top1']:.4f}{top5}  img/s {ips}  eta {eta:7.1f}s{mark}")


def outcome_line(result: RunResult) -> str:
    out = result.outcome
    if out.get("reached"):
        ttt = (f"time to target: {out['time_to_target_s']:.2f} s (MLPerf rule), "
               f"{out['time_to_target_dawnbench_s']:.2f} s (DAWNBench rule), epoch {out['epochs_to_target']}")
    else:
        ttt = "target not reached"
    final = (out.get("final") or {}).get("top1")
    final_text = f"; final top1 {final:.4f}" if final is not None else ""
    return f"  status {result.status}; {ttt}{final_text}"


class TrainPrinter:
    """The orchestrator's Events, printed through an Output."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self._bar = None
        self._unreadable = 0

    def run_started(self, start: RunStart) -> None:
        self._unreadable = 0
        self.out.line(f"run {start.index + 1}/{start.total}: recipe {start.recipe}, seed {start.seed}, "
                      f"{start.device}, target {start.target_metric} ≥ {start.target}")

    def batch_done(self, epoch: int, batch: int, batches: int) -> None:
        stream = self.out.progress_stream()
        if stream is None:
            return
        if self._bar is None:
            from tqdm import tqdm
            self._bar = tqdm(total=batches, desc=f"  epoch {epoch}", unit="batch", file=stream, leave=False,
                             dynamic_ncols=True)
            self._bar.n = batch - 1
        self._bar.update(batch - self._bar.n)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def epoch_ended(self, row: dict[str, Any]) -> None:
        self._close_bar()
        self.out.record("epoch", row)
        self.out.line(epoch_line(row))
        unreadable = row.get("unreadable_images") or 0
        if unreadable > self._unreadable:
            self.out.warn(f"{unreadable} unreadable images left out so far (listed in run.json at the end)")
            self._unreadable = unreadable

    def run_ended(self, result: RunResult) -> None:
        self._close_bar()
        if result.run_dir is None:
            if result.status == "failed" and result.error:   # no directory could be made (a full disk)
                self.out.line(f"  failed: {result.error}")
            return
        if result.status != "finished" and result.error:
            self.out.line(f"  {result.status}: {result.error}")
        out = result.outcome
        self.out.record("run", {"run_dir": result.run_dir, "status": result.status, "seed": result.seed,
                                "error": result.error, "reached": out.get("reached"),
                                "time_to_target_s": out.get("time_to_target_s"),
                                "time_to_target_dawnbench_s": out.get("time_to_target_dawnbench_s"),
                                "final": out.get("final"), "cost": cost_numbers(result.cost),
                                "cost_error": result.cost_error})
        self.out.line(outcome_line(result))
        for line in format_cost_lines(result.cost or {}):
            self.out.line(f"  {line}")
        if result.cost_error:
            self.out.line(f"  not priced: {result.cost_error}")
        self.out.line(f"  run directory: {result.run_dir}")

    def group_ended(self, group: GroupResult) -> None:
        self._close_bar()
        if group.group_error:
            self.out.warn(group.group_error)
        if group.summary is None:
            return
        t = group.summary["time_to_target"]
        if t["n"] > 1:
            mean = f"{t['olympic_mean_s']:.2f} s" if t["olympic_mean_s"] is not None else "-"
            spread = f"{t['spread_s']:.2f} s" if t["spread_s"] is not None else "-"
            self.out.line(f"group {group.group_id}: converged {t['converged']}/{t['n']}, "
                          f"time to target olympic mean {mean}, spread {spread}")
        self.out.record("group", {**group.summary, "path": group.path})
