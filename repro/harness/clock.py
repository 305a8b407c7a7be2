"""Time to target under stated rules, as pure functions of what the run logged (sources and links:
docs/timing-rules.md).

MLPerf rule (Training rules, "Run Results"): the clock starts before any part of the system touches the
dataset (`run_start`) and stops when the system determines that the target was reached: the end of the
evaluation that first reaches it. Evaluation time is included; initialisation before run_start is not.

DAWNBench rule (the submission README): the time is the `hours` column of the per-epoch TSV at the first
epoch whose accuracy is at or above the target. The README defines no clock beyond that; the entries'
scripts (fast.ai's main.py and dawn_mod.py, basenet's cifar10.py) write wall time since the start of
training at the end of each epoch's evaluation, evaluation included. repro writes that column the same
way: hours since run_start when the epoch's evaluation has ended. Nothing is subtracted, so for one run
the two figures differ only by the moment each is read.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence


def mlperf_time_to_target_s(events: Iterable[Mapping], target: float) -> float | None:
    """Seconds from run_start to the eval_stop closing the first eval_accuracy ≥ target.

    `events` are MLPerf log events in order, each a mapping with `key`, `time_ms`, `value` and
    `metadata` (as mlperf-logging writes them). None when the target was never reached.
    """
    run_start_ms = None
    reached_epoch = None
    for ev in events:
        key = ev["key"]
        if key == "run_start" and run_start_ms is None:
            run_start_ms = ev["time_ms"]
        elif key == "eval_accuracy" and run_start_ms is not None and reached_epoch is None:
            if ev["value"] is not None and float(ev["value"]) >= target:
                reached_epoch = (ev.get("metadata") or {}).get("epoch_num")
                reached_ms = ev["time_ms"]
        elif key == "eval_stop" and reached_epoch is not None:
            if (ev.get("metadata") or {}).get("epoch_num") == reached_epoch:
                return (ev["time_ms"] - run_start_ms) / 1000.0
    if reached_epoch is not None:  # no eval_stop logged after the reaching eval: stop at the accuracy event
        return (reached_ms - run_start_ms) / 1000.0
    return None


def dawnbench_first_at_target(rows: Sequence[Mapping], target: float, metric: str = "top1") -> Mapping | None:
    """The first metrics.tsv row whose `metric` is ≥ target, or None: the row the DAWNBench time is read from."""
    for row in rows:
        value = row.get(metric)
        if value is not None and float(value) >= target:
            return row
    return None


def dawnbench_time_to_target_s(rows: Sequence[Mapping], target: float, metric: str = "top1") -> float | None:
    """Seconds (hours × 3600) of the first metrics.tsv row whose `metric` is ≥ target."""
    row = dawnbench_first_at_target(rows, target, metric)
    return None if row is None else float(row["hours"]) * 3600.0


@dataclass
class Stopwatch:
    """Wall clock for one run. `sync` is called before every reading (torch.cuda.synchronize on GPU)
    so queued kernels are counted where they ran, not where they were launched."""
    sync: callable = lambda: None
    start_s: float | None = None
    eval_total_s: float = 0.0

    def now(self) -> float:
        self.sync()
        return time.perf_counter()

    def start(self) -> None:
        self.start_s = self.now()

    def elapsed_s(self) -> float:
        if self.start_s is None:
            raise RuntimeError("Stopwatch.elapsed_s() before start()")
        return self.now() - self.start_s

    def training_s(self) -> float:
        """Elapsed time minus time spent in evaluation: training alone (not the DAWNBench column, which
        counts evaluation like the entries did: `dawnbench_hours`)."""
        return self.elapsed_s() - self.eval_total_s


def dawnbench_hours(elapsed_s: float) -> float:
    """The metrics.tsv `hours` of an epoch: wall time since run_start when its evaluation ended, in hours,
    evaluation included, as the DAWNBench entries' scripts logged it (docs/timing-rules.md)."""
    return elapsed_s / 3600.0
