"""Work spread over forked processes: reading (and drawing) runs, redrawing pages, matplotlib figures.

A task is any callable, a closure over the build's data included: the workers are forked while it
is set and inherit it, so only the items and the results cross between processes. Where fork is
not available, or a job is too small to pay for starting processes, the caller's process does it.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence

PARALLEL_THRESHOLD = 400   # below this many items, starting worker processes costs more than it saves
MAX_WORKERS = 8

_TASK: Callable | None = None   # what the workers of the pool being forked call


def _call(item):
    return _TASK(item)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def worth_forking(jobs: int) -> bool:
    """Whether `jobs` items are enough work to start processes for."""
    return jobs >= PARALLEL_THRESHOLD and can_fork()


def worker_count(jobs: int) -> int:
    """How many processes to spread `jobs` items over: 1 (the caller's) when forking would not pay."""
    if not worth_forking(jobs):
        return 1
    return min(os.cpu_count() or 1, MAX_WORKERS)


def _fork_pool(task: Callable, processes: int):
    global _TASK
    _TASK = task
    try:
        return multiprocessing.get_context("fork").Pool(processes)
    finally:
        _TASK = None    # the workers hold their copy from the fork


def ordered_map(task: Callable, items: Sequence, processes: int) -> list:
    """[task(item) for item in items], in item order, over `processes` forked workers when that
    is more than one; an error in a task is raised here."""
    if processes <= 1 or len(items) <= 1 or not can_fork():
        return [task(item) for item in items]
    with _fork_pool(task, processes) as pool:
        return list(pool.imap(_call, items))


class Background:
    """Tasks running in forked processes while the caller goes on."""

    def __init__(self, pool, result):
        self._pool, self._result = pool, result

    def wait(self) -> list:
        """The results, in item order, once all are done; an error in a task is raised here."""
        try:
            return self._result.get()
        finally:
            self._pool.join()

    def cancel(self) -> None:
        self._pool.terminate()
        self._pool.join()


def start_map(task: Callable, items: Sequence, processes: int) -> Background:
    """task over items in `processes` forked workers, one item at a time each, in item order
    (put the longest first); the caller must wait() or cancel() the returned Background."""
    pool = _fork_pool(task, processes)
    result = pool.map_async(_call, items, chunksize=1)
    pool.close()
    return Background(pool, result)
