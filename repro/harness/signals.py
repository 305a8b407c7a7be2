"""SIGTERM and SIGINT, in one place.

A spot preemption notice, `docker stop` and Ctrl-C must all end a run the same way: the run is
marked `interrupted` (with a checkpoint when training was under way) and the process exits with
128 + the signal's number (130 for SIGINT, 143 for SIGTERM).

- `install()` makes both signals raise `Interrupted` anywhere in the process, for its whole life
  (the `repro` command calls it first thing). As PID 1 in a container this matters twice: the
  kernel ignores signals a PID 1 has no handler for.
- `deferred()` is for the training steps: the first signal only sets a flag, which the loop reads
  at the next step boundary, where the state is consistent enough to checkpoint; a second signal
  raises at once.
- `held()` is for bookkeeping that must not be cut in half (making a run directory, pricing a run,
  writing the group file, marking how a run ended): a signal is noted and delivered when the block
  ends; `Held.take()` lets the block's owner consume it instead (the orchestrator, to end the
  group in order). `raise_pending()` raises a signal noted by an enclosing `held()` at once (a
  run's guard calls it first, so a run that was being set up when the signal came is marked).
- `forwarded_to(process)` passes both signals on to a child (torchrun, which passes them to every
  rank) while the parent waits for it.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator

HANDLED = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, so `except Exception` in library code does not
    swallow it on its way to the run's guard."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum, frame) -> None:
    raise Interrupted(signum)


def install() -> dict:
    """From now on, SIGTERM and SIGINT raise Interrupted in the main thread; returns the handlers
    they had, for restore()."""
    previous = {s: signal.getsignal(s) for s in HANDLED}
    for s in HANDLED:
        signal.signal(s, _raise)
    return previous


def restore(previous: dict) -> None:
    for s, handler in previous.items():
        if handler is not None:
            signal.signal(s, handler)


@contextmanager
def raising() -> Iterator[None]:
    """Inside the block SIGTERM and SIGINT raise Interrupted; the previous handlers come back after."""
    previous = {s: signal.getsignal(s) for s in HANDLED}
    install()
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class StopFlag:
    """Set by the first signal inside `deferred()`: `signum` is that signal, None until then."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None


@contextmanager
def deferred() -> Iterator[StopFlag]:
    flag = StopFlag()

    def _set(signum, frame) -> None:
        if flag.signum is not None:   # a second signal: stop now, without the checkpoint
            raise Interrupted(signum)
        flag.signum = signum

    previous = {s: signal.getsignal(s) for s in HANDLED}
    for s in HANDLED:
        signal.signal(s, _set)
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Held:
    """A `held()` block's note of the first signal that arrived in it."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None

    def take(self) -> int | None:
        """The noted signal, consumed: it is not delivered when the block ends."""
        signum, self.signum = self.signum, None
        return signum


_HELD: list[Held] = []   # the held() blocks open now, innermost last


@contextmanager
def held() -> Iterator[Held]:
    note = Held()

    def _note(signum, frame) -> None:
        if note.signum is None:
            note.signum = signum

    previous = {s: signal.getsignal(s) for s in HANDLED}
    for s in HANDLED:
        signal.signal(s, _note)
    _HELD.append(note)
    try:
        yield note
    finally:
        _HELD.remove(note)
        for s, handler in previous.items():
            signal.signal(s, handler)
        if note.signum is not None:   # delivered now, to whatever handles it outside the block
            signal.raise_signal(note.take())


def raise_pending() -> None:
    """Raise Interrupted for a signal an enclosing held() block noted (and consume it)."""
    for note in reversed(_HELD):
        if note:
            raise Interrupted(note.take())


@contextmanager
def forwarded_to(process) -> Iterator[None]:
    """While the block runs, SIGTERM/SIGINT go to `process` (a subprocess.Popen) instead."""

    def forward(signum, frame) -> None:
        process.send_signal(signum)

    previous = {s: signal.getsignal(s) for s in HANDLED}
    for s in HANDLED:
        signal.signal(s, forward)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
