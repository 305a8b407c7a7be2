"""MLPerf-format event log (`:::MLLOG {...}` lines) written through the mlperf-logging package.

One MLLogger per run, bound to its own `logging.Logger` and file handler, so several runs in one
process (`--runs N`) never write into each other's files. Rank 0 only: other ranks get a logger that
drops every event. `read_events(path)` reads a log back into dicts for the clock rules.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from mlperf_logging.mllog.mllog import MLLogger
from mlperf_logging.mllog import constants

LINE_PREFIX = ":::MLLOG "
C = constants  # mllog.C.RUN_START, …


class _LineHandler(logging.FileHandler):
    """A FileHandler whose lines pass through `redact`, and whose write errors (a full disk) reach the
    caller instead of being printed by logging and forgotten."""

    def __init__(self, path: Path, redact: Callable[[str], str] | None) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.redact = redact
        self.error: BaseException | None = None

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        return self.redact(line) if self.redact is not None else line

    def handleError(self, record: logging.LogRecord) -> None:
        self.error = sys.exc_info()[1]


class RunLogger:
    def __init__(self, path: Path | None, *, enabled: bool = True,
                 redact: Callable[[str], str] | None = None) -> None:
        self.path = path
        self.enabled = enabled and path is not None
        self._logger = logging.getLogger(f"repro.mllog.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._handler: _LineHandler | None = None
        if self.enabled:
            self._handler = _LineHandler(path, redact)
            self._handler.setFormatter(logging.Formatter("%(message)s"))
            self._logger.addHandler(self._handler)
        else:
            self._logger.addHandler(logging.NullHandler())
        # stack offset 2: the call site recorded in metadata is our caller, not this wrapper
        self._ml = MLLogger(logger=self._logger, default_stack_offset=2)

    def event(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.event(key=key, value=value, metadata=metadata or None)
            self._flush()

    def start(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.start(key=key, value=value, metadata=metadata or None)
            self._flush()

    def end(self, key: str, value=None, **metadata) -> None:
        if self.enabled:
            self._ml.end(key=key, value=value, metadata=metadata or None)
            self._flush()

    def _flush(self) -> None:
        # each line reaches the disk as it happens: a killed run keeps every event before the kill
        if self._handler is not None:
            self._handler.flush()
            if self._handler.error is not None:
                error, self._handler.error = self._handler.error, None
                raise OSError(f"writing {self.path} failed: {error}") from error

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._logger.removeHandler(self._handler)
            self._handler = None


def read_events(path: Path) -> list[dict]:
    """Parse `:::MLLOG` lines; a torn last line (a run killed mid-write) is ignored."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith(LINE_PREFIX):
            continue
        try:
            events.append(json.loads(line[len(LINE_PREFIX):]))
        except json.JSONDecodeError:
            continue
    return events


# -- the vocabulary: which MLPerf keys repro logs, and how it names what it ran ---------------------
PRECISION_NAMES = {"fp32": "fp32", "fp16": "fp16", "bf16": "bfloat16"}
# MLPerf's name for the benchmark behind each leaderboard task; other tasks log their own name
MLPERF_BENCHMARKS = {"imagenet-top1": "resnet", "imagenet-top5": "resnet"}


def log_submission(log: RunLogger, *, task: str, platform: str) -> None:
    """Who/what/where, logged during init as MLPerf's reference code does."""
    log.event(C.SUBMISSION_BENCHMARK, MLPERF_BENCHMARKS.get(task, task))
    log.event(C.SUBMISSION_ORG, "repro")
    log.event(C.SUBMISSION_DIVISION, "open")
    log.event(C.SUBMISSION_STATUS, "research")
    log.event(C.SUBMISSION_PLATFORM, platform)
    log.event(C.CACHE_CLEAR, True)


def log_hyperparameters(log: RunLogger, *, recipe, world_size: int, train_samples: int, eval_samples: int,
                        seed: int, **extra) -> None:
    """The run's settings as MLPerf keys, with the v6.1 disclosures that hold for data-parallel CNN
    training (see harness/compliance.py); `extra` adds recipe-specific keys (the optimiser's)."""
    batch = recipe.data.batch_size
    log.event(C.SEED, seed)
    log.event(C.GLOBAL_BATCH_SIZE, batch)
    log.event(C.OPT_BASE_LR, recipe.optim.peak_lr)
    log.event(C.TRAIN_SAMPLES, train_samples)
    log.event(C.EVAL_SAMPLES, eval_samples)
    log.event("lowest_numerical_precision_in_linear", PRECISION_NAMES[recipe.precision])
    log.event("lowest_numerical_precision_in_comm", "fp32")  # DDP all-reduces fp32 gradients
    for key in ("tensor_parallelism", "pipeline_parallelism", "context_parallelism", "expert_parallelism"):
        log.event(key, 1)
    log.event("micro_batch_size", max(1, batch // max(1, world_size)))
    log.event("config_filename", f"recipe:{recipe.name}")
    for key, value in extra.items():
        log.event(key, value)


def sgd_events(recipe, *, end_lr: float, warmup_fraction: float, world_size: int) -> dict:
    """The optimiser keys MLPerf's ResNet rules ask for, for an SGD recipe (LR knots in epochs)."""
    if recipe.optim.name != "sgd":
        return {"opt_name": recipe.optim.name}
    return {"opt_name": "sgd", "sgd_opt_base_learning_rate": recipe.optim.peak_lr,
            "sgd_opt_end_learning_rate": end_lr,
            "sgd_opt_learning_rate_decay_poly_power": 1,  # piecewise-linear decay
            "sgd_opt_learning_rate_decay_steps": recipe.epochs,  # in epochs: steps vary with per-stage batch
            "sgd_opt_weight_decay": recipe.optim.weight_decay, "sgd_opt_momentum": recipe.schedule.momentum_max,
            "model_bn_span": max(1, recipe.data.batch_size // world_size),
            "opt_learning_rate_warmup_epochs": float(warmup_fraction) * recipe.epochs,
            "gradient_accumulation_steps": 1}
