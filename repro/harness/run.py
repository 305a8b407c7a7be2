"""One run's life on disk: create the directory, log MLPerf events, time it, write run.json after
every epoch, and mark how it ended (finished | diverged | failed | interrupted).

The trainer drives a `RunSession`; it never writes files itself. Only rank 0 writes anything.
A SIGKILL at any instant leaves run.json readable (atomic replace) with status `running`.
"""
from __future__ import annotations

import json
import math
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from repro.harness import clock, provenance, store
from repro.harness.mllog import C, RunLogger

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


PRECISION_NAMES = {"fp32": "fp32", "fp16": "fp16", "bf16": "bfloat16"}


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived (a spot preemption notice, a Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = signum


def check_finite(loss: float, epoch: int, step: int) -> None:
    if not math.isfinite(loss):
        raise Diverged(f"loss became {loss} at epoch {epoch}, step {step}")


class RunSession:
    def __init__(self, *, results_dir: Path, recipe, seed: int, group_id: str | None = None,
                 rank: int = 0, world_size: int = 1, device: str = "cpu",
                 price_snapshot_id: str | None = None, command: list[str] | None = None,
                 synthetic_data: bool = False, on_epoch: Callable[[dict], None] | None = None,
                 sync: Callable[[], None] = lambda: None, resume_dir: Path | None = None) -> None:
        self.recipe = recipe
        self.rank = rank
        self.is_writer = rank == 0
        self.on_epoch = on_epoch or (lambda row: None)
        self.watch = clock.Stopwatch(sync=sync)
        self._session_start_s = _session_start_s()
        self._eval_started_s = 0.0
        self.run_dir: Path | None = None
        # resume: the clock goes on from the checkpoint's reading (time before the interruption counts)
        self._offset_elapsed_s = self._offset_training_s = 0.0
        self._checkpoint_clock_s: float | None = None
        self._run_start_unix_s = time.time()
        prior = None
        if self.is_writer:
            if resume_dir is not None:
                self.run_dir = Path(resume_dir)
                prior = store.read_json(self.run_dir / store.RUN_FILE)
            else:
                self.run_dir = store.create_run_dir(results_dir, recipe.name)
        self.mllog = RunLogger(self.run_dir / store.MLLOG_FILE if self.run_dir else None,
                               enabled=self.is_writer)
        self.mllog.start(C.INIT_START)
        started = store.utc_now()
        self.record: dict[str, Any] = {
            "schema_version": store.SCHEMA_VERSION,
            "run_id": self.run_dir.name if self.run_dir else None,
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
            "started_at": store.iso(started),
            "ended_at": None,
            "target": {"metric": recipe.target_metric, "value": recipe.target},
            "synthetic_data": synthetic_data,
            "data_verified": None,
            "hardware": provenance.hardware(device, world_size),
            "outcome": {"reached": False, "time_to_target_s": None, "time_to_target_dawnbench_s": None,
                        "epochs_to_target": None, "final": {}, "run_s": None, "session_s": None,
                        "epochs": []},
            "provenance": provenance.collect(recipe_hash=recipe.hash(), dataset=None,
                                             price_snapshot_id=price_snapshot_id, command=command),
        }
        self._secrets = provenance.secret_values()
        self._log_submission()
        self._metrics_rows: list[dict] = []
        self._prior_session_s = 0.0
        if prior is not None:
            self._continue(prior)
        self.record.setdefault("segments", []).append(
            {"segment": len(self.record.get("segments", [])) + 1, "started_at": store.iso(started),
             "ended_at": None, "status": "running", "run_s": None, "counted_s": None, "lost_s": None,
             "downtime_before_s": None, "command": command})
        self._save()

    # -- resume: one run, several segments -----------------------------------------------------------
    def _continue(self, prior: dict) -> None:
        """Keep the interrupted run's identity, epochs and segments; this process adds a segment."""
        if prior.get("recipe_hash") != self.record["recipe_hash"]:
            raise store.StoreError(f"{self.run_dir}: recorded recipe hash {prior.get('recipe_hash')} differs from "
                                   f"{self.record['recipe_hash']}; resume with the recorded config")
        # provenance stays the first segment's (its command names --data); each segment notes its own command
        for key in ("run_id", "group_id", "started_at", "outcome", "segments", "seed", "provenance"):
            if key in prior:
                self.record[key] = prior[key]
        self._prior_session_s = float(prior["outcome"].get("session_s") or 0.0)
        for row in prior["outcome"].get("epochs", []):
            self._metrics_rows.append({"epoch": row["epoch"], "hours": row.get("training_hours", 0.0),
                                       "top1": row["top1"], "top5": row.get("top5")})

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
        record = provenance.redact(self.record, self._secrets)
        if durable:
            _writer().flush()  # no older snapshot may land after this one
            store.atomic_write_json(self.run_dir / store.RUN_FILE, record)
        else:
            _writer().submit(self.run_dir / store.RUN_FILE,
                                json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def _write_metrics_tsv(self, durable: bool = True) -> None:
        if not self.is_writer:
            return
        top5 = any(r.get("top5") is not None for r in self._metrics_rows)
        lines = ["epoch\thours\ttop1Accuracy" + ("\ttop5Accuracy" if top5 else "")]
        for r in self._metrics_rows:
            # DAWNBench's TSV has accuracies in percent
            cells = [str(r["epoch"]), f"{r['hours']:.8f}", f"{100 * r['top1']:.4f}"]
            if top5:
                cells.append(f"{100 * r['top5']:.4f}" if r.get("top5") is not None else "")
            lines.append("\t".join(cells))
        text = "\n".join(lines) + "\n"
        if durable:
            _writer().flush()
            store.atomic_write_text(self.run_dir / store.METRICS_FILE, text)
        else:
            _writer().submit(self.run_dir / store.METRICS_FILE, text)

    # -- the MLPerf timeline -----------------------------------------------------------------------
    def log_hyperparameters(self, *, global_batch_size: int, base_lr: float, train_samples: int,
                            eval_samples: int, seed: int, **extra: Any) -> None:
        m = self.mllog
        m.event(C.SEED, seed)
        m.event(C.GLOBAL_BATCH_SIZE, global_batch_size)
        m.event(C.OPT_BASE_LR, base_lr)
        m.event(C.TRAIN_SAMPLES, train_samples)
        m.event(C.EVAL_SAMPLES, eval_samples)
        # MLPerf v6.1 disclosures that hold for data-parallel CNN training (see harness/compliance.py)
        m.event("lowest_numerical_precision_in_linear", PRECISION_NAMES[self.recipe.precision])
        m.event("lowest_numerical_precision_in_comm", "fp32")  # DDP all-reduces fp32 gradients
        for key in ("tensor_parallelism", "pipeline_parallelism", "context_parallelism", "expert_parallelism"):
            m.event(key, 1)
        m.event("micro_batch_size", max(1, global_batch_size // max(1, self.record["hardware"]["world_size"])))
        m.event("config_filename", f"recipe:{self.recipe.name}")
        for key, value in extra.items():
            m.event(key, value)

    def _log_submission(self) -> None:
        """Who/what/where, logged during init as MLPerf's reference code does."""
        m = self.mllog
        m.event(C.SUBMISSION_BENCHMARK, MLPERF_BENCHMARKS.get(self.recipe.task, self.recipe.task))
        m.event(C.SUBMISSION_ORG, "repro")
        m.event(C.SUBMISSION_DIVISION, "open")
        m.event(C.SUBMISSION_STATUS, "research")
        m.event(C.SUBMISSION_PLATFORM, self._platform_name())
        m.event(C.CACHE_CLEAR, True)

    def _platform_name(self) -> str:
        hw = self.record["hardware"]
        return (f"{hw['gpu_count']}x{hw['gpu_model']}" if hw["gpu_count"] else f"{hw['vcpus']}xCPU")

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

    def eval_end(self, epoch: int, top1: float, top5: float | None = None) -> bool:
        """Log the eval result; returns True when this eval reaches the target (first time or not)."""
        self.mllog.event(C.EVAL_ACCURACY, top1 if self.recipe.target_metric == "top1" else top5,
                         epoch_num=epoch)
        self.mllog.end(C.EVAL_STOP, epoch, epoch_num=epoch)
        self.watch.eval_total_s += self.watch.now() - self._eval_started_s
        value = top1 if self.recipe.target_metric == "top1" else top5
        return value is not None and value >= self.recipe.target

    def epoch_end(self, epoch: int, row: dict[str, Any]) -> None:
        """`row`: train_loss, eval_loss, top1, top5, lr, momentum, images_per_s, train_s, eval_s, …"""
        self.mllog.end(C.EPOCH_STOP, epoch, epoch_num=epoch)
        elapsed = self._offset_elapsed_s + self.watch.elapsed_s()
        hours = (self._offset_training_s + self.watch.training_s()) / 3600.0
        row = {"epoch": epoch, "elapsed_s": elapsed, "training_hours": hours, **row}
        out = self.record["outcome"]
        out["epochs"].append(row)
        self._metrics_rows.append({"epoch": epoch, "hours": hours, "top1": row["top1"], "top5": row.get("top5")})
        target_value = row["top1"] if self.recipe.target_metric == "top1" else row.get("top5")
        if not out["reached"] and target_value is not None and target_value >= self.recipe.target:
            out["reached"] = True
            out["epochs_to_target"] = epoch
            out["time_to_target_s"] = self._offset_elapsed_s + clock.mlperf_time_to_target_s(
                self._events(), self.recipe.target)
            out["time_to_target_dawnbench_s"] = clock.dawnbench_time_to_target_s(
                self._metrics_rows, self.recipe.target, self.recipe.target_metric)
        out["final"] = {"top1": row["top1"], "top5": row.get("top5"), "loss": row.get("eval_loss")}
        # per-epoch snapshots: atomic but not fsynced; finish() writes the durable copy
        self._write_metrics_tsv(durable=False)
        self._save(durable=False)
        self.on_epoch({**row, "epochs": self.recipe.epochs, "reached": out["reached"]})

    def _events(self) -> list[dict]:
        from repro.harness.mllog import read_events
        events = read_events(self.run_dir / store.MLLOG_FILE) if self.is_writer else []
        starts = [i for i, ev in enumerate(events) if ev["key"] == "run_start"]
        return events[starts[-1]:] if starts else events  # this segment's; earlier ones are in the offset

    def checkpoint_path(self) -> Path | None:
        return self.run_dir / store.CHECKPOINT_FILE if self.run_dir else None

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, status: str, error: str | None = None) -> None:
        global _process_boundary_s
        if status not in store.STATUSES:
            raise ValueError(f"unknown status {status!r}")
        mlperf_status = {"finished": "success" if self.record["outcome"]["reached"] else "aborted"}.get(
            status, "aborted")
        self.mllog.end(C.RUN_STOP, None, status=mlperf_status)
        self.mllog.close()
        out = self.record["outcome"]
        segment_run_s = self.watch.elapsed_s() if self.watch.start_s is not None else 0.0
        now = time.time()
        seg = self.record["segments"][-1]
        counted = segment_run_s if status == "finished" else max(
            0.0, (self._checkpoint_clock_s or self._offset_elapsed_s) - self._offset_elapsed_s)
        seg.update({"ended_at": store.iso(store.utc_now()), "ended_unix_s": now, "status": status,
                    "run_s": segment_run_s, "counted_s": counted, "lost_s": segment_run_s - counted})
        self._update_lost()
        out["run_s"] = sum(s["run_s"] or 0.0 for s in self.record["segments"])
        out["session_s"] = self._prior_session_s + now - self._session_start_s
        _process_boundary_s = now
        self.record["status"] = status
        self.record["error"] = error
        self.record["ended_at"] = store.iso(store.utc_now())
        if self._metrics_rows:
            self._write_metrics_tsv()
        self._save()

    @contextmanager
    def guard(self) -> Iterator["RunSession"]:
        """Run the body with SIGTERM/SIGINT turned into `Interrupted`, and mark the ending on the way out."""
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

        def _raise(signum, frame):
            raise Interrupted(signum)

        for s in previous:
            signal.signal(s, _raise)
        try:
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
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


# MLPerf's name for the benchmark behind each leaderboard task
MLPERF_BENCHMARKS = {"imagenet-top1": "resnet", "imagenet-top5": "resnet"}


def env_rank() -> tuple[int, int]:
    """(rank, world_size) from torchrun's environment; (0, 1) when not launched by it."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
