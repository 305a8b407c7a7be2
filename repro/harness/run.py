"""One run's life on disk: log MLPerf events, time it, write run.json after every epoch, and mark
how it ended (finished | diverged | failed | interrupted).

The orchestrator makes the run directory (repro.harness.rundirs: it appears with its first run.json
in it) and hands it over; the trainer drives a `RunSession` and never writes files itself. Only
rank 0 writes anything. Every write replaces run.json atomically: a SIGKILL at any instant leaves it
readable with status `running`, and its `process` block (pid, host, boot id, heartbeat) lets a
reader see that the process is gone. Every file of the run directory is redacted
(provenance.Redactor) before it is written.

A full disk must not leave a run `running` with no word of why: each run holds a reserve file
(`.reserve`) that it frees before its last writes, so the run can still be marked `failed` with the
error when a checkpoint or snapshot ran out of space.
"""
from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from repro.harness import clock, hardware, metrics, provenance, rundirs, store
from repro.harness.mllog import C, RunLogger, log_hyperparameters, log_submission, read_events
from repro.harness.signals import Interrupted, held, raise_pending, raising

_process_boundary_s = None  # wall time when the previous run of this process ended
_WRITER: store.BackgroundWriter | None = None


def _writer() -> store.BackgroundWriter:
    """One snapshot-writer thread per process, shared by its runs."""
    global _WRITER
    if _WRITER is None:
        _WRITER = store.BackgroundWriter()
    return _WRITER


def _session_start_s() -> float:
    """Start of the billed session for the next run: process start for the first run, the end of the
    previous run after that, so the session_s of a group's runs add up to the process's lifetime."""
    if _process_boundary_s is not None:
        return _process_boundary_s
    try:
        import psutil
        return psutil.Process().create_time()
    except Exception:  # noqa: BLE001 - psutil is a nicety here; fall back to now
        return time.time()


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


def check_finite(loss: float, epoch: int, step: int) -> None:
    if not math.isfinite(loss):
        raise Diverged(f"loss became {loss} at epoch {epoch}, step {step}")


def new_record(*, run_dir: Path | None, recipe, seed: int, group_id: str | None, device: str,
               world_size: int, synthetic_data: bool, started_at: str) -> dict[str, Any]:
    """run.json as it is first written: identity, config and hardware; provenance follows."""
    return {
        "schema_version": store.SCHEMA_VERSION,
        "run_id": run_dir.name if run_dir else None,
        "group_id": group_id,
        "recipe": recipe.name,
        "task": recipe.task,
        "recipe_hash": recipe.hash(),
        "config": recipe.to_dict(),
        "published": ({"claim": recipe.published_claim, "source": recipe.published_source}
                      if recipe.published_claim else None),
        "seed": seed,
        "status": "running",
        "error": None,
        "started_at": started_at,
        "ended_at": None,
        "target": {"metric": recipe.target_metric, "value": recipe.target},
        "synthetic_data": synthetic_data,
        "data_verified": None,
        "hardware": hardware.detect(device, world_size),
        "outcome": {"reached": False, "time_to_target_s": None, "time_to_target_dawnbench_s": None,
                    "epochs_to_target": None, "final": {}, "run_s": None, "session_s": None,
                    "epochs": []},
        "provenance": {},
        "segments": [],
        "process": rundirs.process_info(),
    }


def initial_record(run_id: str, *, recipe, seed: int, group_id: str | None, device: str, world_size: int,
                   synthetic_data: bool, redact: provenance.Redactor | None = None) -> dict[str, Any]:
    """The run.json a new run directory appears with (repro.harness.rundirs.create_run_dir)."""
    record = new_record(run_dir=None, recipe=recipe, seed=seed, group_id=group_id, device=device,
                        world_size=world_size, synthetic_data=synthetic_data, started_at=store.iso(store.utc_now()))
    record["run_id"] = run_id
    return (redact or provenance.Redactor())(record)


def close_record(run_dir: Path, status: str, error: str) -> dict:
    """Mark a run that never reached its session's end (a signal or an error while it was being set
    up): the record as written, with `status`, `error` and `ended_at`; a record already ended stays."""
    path = Path(run_dir) / store.RUN_FILE
    record = store.read_json(path)
    if record.get("status") == "running":
        record.update(status=status, error=error, ended_at=store.iso(store.utc_now()))
        rundirs.release_space(run_dir)
        store.atomic_write_json(path, provenance.Redactor()(record))
    return record


class RunSession:
    def __init__(self, *, run_dir: Path | None, recipe, seed: int, group_id: str | None = None,
                 rank: int = 0, world_size: int = 1, device: str = "cpu",
                 price_snapshot_id: str | None = None, command: list[str] | None = None,
                 synthetic_data: bool = False, on_epoch: Callable[[dict], None] | None = None,
                 sync: Callable[[], None] = lambda: None, resume: bool = False,
                 estimate: dict | None = None) -> None:
        self.recipe = recipe
        self.is_writer = rank == 0 and run_dir is not None
        self.run_dir = Path(run_dir) if self.is_writer else None
        self.on_epoch = on_epoch or (lambda row: None)
        self.watch = clock.Stopwatch(sync=sync)
        self._session_start_s = _session_start_s()
        self._eval_started_s = 0.0
        # resume: the clock goes on from the checkpoint's reading (time before the interruption counts)
        self._offset_elapsed_s = self._offset_training_s = 0.0
        self._checkpoint_clock_s: float | None = None
        self._run_start_unix_s = time.time()
        self._metrics_rows: list[metrics.MetricsRow] = []
        self._prior_session_s = 0.0
        self._redact = provenance.Redactor()
        started = store.iso(store.utc_now())
        self.record = new_record(run_dir=self.run_dir, recipe=recipe, seed=seed, group_id=group_id, device=device,
                                 world_size=world_size, synthetic_data=synthetic_data, started_at=started)
        if estimate is not None:
            self.record["estimate"] = estimate   # made before the run (repro.estimate), kept as it is
        if resume and self.is_writer:
            self._continue(store.read_json(self.run_dir / store.RUN_FILE))
        self.record["segments"].append(
            {"segment": len(self.record["segments"]) + 1, "started_at": started, "ended_at": None,
             "status": "running", "run_s": None, "counted_s": None, "lost_s": None,
             "downtime_before_s": None, "command": command})
        self._save()
        if self.is_writer:
            rundirs.reserve_space(self.run_dir)
        self.mllog = RunLogger(self.run_dir / store.MLLOG_FILE if self.run_dir else None, enabled=self.is_writer,
                               redact=self._redact.text)
        self.mllog.start(C.INIT_START)
        log_submission(self.mllog, task=recipe.task, platform=hardware.label(self.record["hardware"], sep="x"))
        if not self.record["provenance"]:   # a resumed run keeps its first segment's
            self.record["provenance"] = provenance.collect(recipe_hash=recipe.hash(), dataset=None,
                                                           price_snapshot_id=price_snapshot_id, command=command)
            self._save()

    # -- resume: one run, several segments -----------------------------------------------------------
    def _continue(self, prior: dict) -> None:
        """Keep the interrupted run's identity, epochs and segments; this process adds a segment."""
        if prior.get("recipe_hash") != self.record["recipe_hash"]:
            raise store.StoreError(f"{self.run_dir}: recorded recipe hash {prior.get('recipe_hash')} differs from "
                                   f"{self.record['recipe_hash']}; resume with the recorded config")
        # provenance stays the first segment's (its command names --data); each segment notes its own command
        for key in ("run_id", "group_id", "started_at", "outcome", "segments", "seed", "provenance", "estimate"):
            if key in prior:
                self.record[key] = prior[key]
        self._prior_session_s = float(prior["outcome"].get("session_s") or 0.0)
        self._metrics_rows = [metrics.MetricsRow(row["epoch"], row.get("training_hours", 0.0), row["top1"],
                                                 row.get("top5")) for row in prior["outcome"].get("epochs", [])]

    def resume_clock(self, elapsed_s: float, training_s: float) -> None:
        """Continue the clock from a checkpoint's reading; record what the interruption cost (work
        after the last checkpoint, wall time between the segments) as lost time, apart."""
        self._offset_elapsed_s, self._offset_training_s = elapsed_s, training_s
        segs = self.record["segments"]
        if len(segs) >= 2 and segs[-2].get("ended_unix_s") is not None:
            segs[-1]["downtime_before_s"] = max(0.0, self._run_start_unix_s - segs[-2]["ended_unix_s"])
        self._update_lost()
        self._save()

    def _update_lost(self) -> None:
        self.record["outcome"]["lost_s"] = sum((s.get("lost_s") or 0.0) + (s.get("downtime_before_s") or 0.0)
                                               for s in self.record["segments"])

    def clock_s(self) -> tuple[float, float]:
        """(elapsed, training) seconds of the whole run so far, as a checkpoint stores them."""
        elapsed = self._offset_elapsed_s + self.watch.elapsed_s()
        self._checkpoint_clock_s = elapsed
        return elapsed, self._offset_training_s + self.watch.training_s()

    # -- writing ---------------------------------------------------------------------------------
    def _save(self, durable: bool = True) -> None:
        if not self.is_writer:
            return
        if self.record["status"] == "running":
            self.record["process"]["heartbeat_at"] = store.iso(store.utc_now())
        record = self._redact(self.record)
        if durable:
            _writer().flush()  # no older snapshot may land after this one
            store.atomic_write_json(self.run_dir / store.RUN_FILE, record)
        else:
            _writer().submit(self.run_dir / store.RUN_FILE,
                             json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def _write_metrics_tsv(self, durable: bool = True) -> None:
        if not self.is_writer:
            return
        text = metrics.to_text(self._metrics_rows)
        if durable:
            _writer().flush()
            store.atomic_write_text(self.run_dir / store.METRICS_FILE, text)
        else:
            _writer().submit(self.run_dir / store.METRICS_FILE, text)

    # -- the MLPerf timeline -----------------------------------------------------------------------
    def log_hyperparameters(self, *, train_samples: int, eval_samples: int, seed: int, **extra: Any) -> None:
        log_hyperparameters(self.mllog, recipe=self.recipe, world_size=self.record["hardware"]["world_size"],
                            train_samples=train_samples, eval_samples=eval_samples, seed=seed, **extra)

    def run_start(self) -> None:
        """Call before the dataset is touched: MLPerf's clock starts here."""
        self.mllog.end(C.INIT_STOP)
        self.mllog.start(C.RUN_START)
        self.watch.start()
        self._run_start_unix_s = time.time()

    def set_dataset(self, info) -> None:
        self.record["data_verified"] = bool(info.verified)
        self.record["synthetic_data"] = bool(self.record["synthetic_data"] or info.synthetic)
        self.record["provenance"]["dataset"] = {"name": info.name, "checksum": info.checksum,
                                                "verified": bool(info.verified),
                                                "num_train": info.num_train, "num_eval": info.num_eval}
        self._save()

    def epoch_start(self, epoch: int) -> None:
        self.mllog.start(C.EPOCH_START, epoch, epoch_num=epoch)

    def eval_start(self, epoch: int) -> None:
        self.mllog.start(C.EVAL_START, epoch, epoch_num=epoch)
        self._eval_started_s = self.watch.now()

    def _target_value(self, top1: float | None, top5: float | None) -> float | None:
        return top1 if self.recipe.target_metric == "top1" else top5

    def eval_end(self, epoch: int, top1: float, top5: float | None = None) -> bool:
        """Log the eval result; returns True when this eval reaches the target (first time or not)."""
        value = self._target_value(top1, top5)
        self.mllog.event(C.EVAL_ACCURACY, value, epoch_num=epoch)
        self.mllog.end(C.EVAL_STOP, epoch, epoch_num=epoch)
        self.watch.eval_total_s += self.watch.now() - self._eval_started_s
        return value is not None and value >= self.recipe.target

    def epoch_end(self, epoch: int, row: dict[str, Any]) -> None:
        """`row`: train_loss, eval_loss, top1, top5, lr, momentum, images_per_s, train_s, eval_s, …"""
        self.mllog.end(C.EPOCH_STOP, epoch, epoch_num=epoch)
        elapsed = self._offset_elapsed_s + self.watch.elapsed_s()
        hours = clock.dawnbench_hours(elapsed)
        row = {"epoch": epoch, "elapsed_s": elapsed, "training_hours": hours, **row}
        out = self.record["outcome"]
        out["epochs"].append(row)
        self._metrics_rows.append(metrics.MetricsRow(epoch, hours, row["top1"], row.get("top5")))
        target_value = self._target_value(row["top1"], row.get("top5"))
        if not out["reached"] and target_value is not None and target_value >= self.recipe.target:
            out["reached"] = True
            out["epochs_to_target"] = epoch
            # only the writer has the MLPerf log to read it from; the other ranks record nothing
            mlperf_s = clock.mlperf_time_to_target_s(self._events(), self.recipe.target)
            out["time_to_target_s"] = None if mlperf_s is None else self._offset_elapsed_s + mlperf_s
            out["time_to_target_dawnbench_s"] = clock.dawnbench_time_to_target_s(
                metrics.as_mappings(self._metrics_rows), self.recipe.target, self.recipe.target_metric)
        out["final"] = {"top1": row["top1"], "top5": row.get("top5"), "loss": row.get("eval_loss")}
        # per-epoch snapshots: atomic but not fsynced; finish() writes the durable copy
        self._write_metrics_tsv(durable=False)
        self._save(durable=False)
        self.on_epoch({**row, "epochs": self.recipe.epochs, "reached": out["reached"]})

    def _events(self) -> list[dict]:
        events = read_events(self.run_dir / store.MLLOG_FILE) if self.is_writer else []
        starts = [i for i, ev in enumerate(events) if ev["key"] == "run_start"]
        return events[starts[-1]:] if starts else events  # this segment's; earlier ones are in the offset

    def checkpoint_path(self) -> Path | None:
        return self.run_dir / store.CHECKPOINT_FILE if self.run_dir else None

    # -- the end ---------------------------------------------------------------------------------
    def _close_segment(self, status: str) -> float:
        """Mark this process's segment ended; returns the wall time it ended at."""
        segment_run_s = self.watch.elapsed_s() if self.watch.start_s is not None else 0.0
        now = time.time()
        counted = segment_run_s if status == "finished" else max(
            0.0, (self._checkpoint_clock_s or self._offset_elapsed_s) - self._offset_elapsed_s)
        self.record["segments"][-1].update(
            {"ended_at": store.iso(store.utc_now()), "ended_unix_s": now, "status": status,
             "run_s": segment_run_s, "counted_s": counted, "lost_s": segment_run_s - counted,
             "session_s": now - self._session_start_s})   # what this process's machine is billed for
        self._update_lost()
        return now

    def finish(self, status: str, error: str | None = None) -> None:
        """Close the run: the MLPerf run_stop, this segment, the durable run.json and metrics.tsv.
        A signal meanwhile waits until the record is whole (held)."""
        if status not in store.STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with held():
            self._finish(status, error)

    def _finish(self, status: str, error: str | None) -> None:
        global _process_boundary_s
        if self.is_writer:
            rundirs.release_space(self.run_dir)   # the space kept for these last writes
        now = self._close_segment(status)
        out = self.record["outcome"]
        out["run_s"] = sum(s["run_s"] or 0.0 for s in self.record["segments"])
        out["session_s"] = self._prior_session_s + now - self._session_start_s
        _process_boundary_s = now
        self.record.update(status=status, error=error, ended_at=store.iso(store.utc_now()))
        self._save_last()   # first: on a full disk the record matters most
        mlperf_status = "success" if status == "finished" and self.record["outcome"]["reached"] else "aborted"
        try:
            self.mllog.end(C.RUN_STOP, None, status=mlperf_status)
            self.mllog.close()
            if self._metrics_rows:
                self._write_metrics_tsv()
        except (OSError, store.StoreError) as exc:   # a full disk: the record says so
            self.mllog.close()
            self._close_segment("failed")
            self.record.update(status="failed", error=error or f"{type(exc).__name__}: {exc}")
            self._save_last()

    def _save_last(self) -> None:
        """The final run.json; when even that finds the disk full, written over the old one in place
        (its blocks are freed first), so the run never stays `running` for want of a few kB."""
        try:
            self._save()
        except (OSError, store.StoreError):
            if not self.is_writer:
                raise
            rundirs.overwrite_in_place(self.run_dir / store.RUN_FILE, self._redact(self.record))

    @contextmanager
    def guard(self) -> Iterator["RunSession"]:
        """Run the body with SIGTERM/SIGINT turned into `Interrupted`, and mark the ending on the way out."""
        with raising():
            try:
                raise_pending()   # a signal that came while the run was being set up
                yield self
            except Diverged as exc:
                self.finish("diverged", str(exc))
                raise
            except (Interrupted, KeyboardInterrupt) as exc:
                self.finish("interrupted", str(exc) or "interrupted")
                raise
            except Exception as exc:
                self.finish("failed", f"{type(exc).__name__}: {exc}")
                raise
            else:
                self.finish("finished")
