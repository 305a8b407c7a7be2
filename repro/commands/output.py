"""The only printer of the `repro` command, and its exit codes.

Text for people by default, nothing but errors with `--quiet`, one JSON object per line with
`--json` (numbers as JSON numbers, never strings). Strings that came from files on disk are
stripped of control characters before a terminal sees them. A reader that goes away (`| head -1`)
ends the output quietly; the work itself goes on and its files are still written.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import IO, Any


class ExitCode(IntEnum):
    """Every exit status `repro` uses; documented in `repro --help`."""
    OK = 0
    ERROR = 1            # bad input or unreadable files: one line on stderr says what to do
    USAGE = 2            # a malformed command line (argparse's own code)
    RUN_FAILED = 3       # a run failed or diverged (disk full included); its run directory says why
    NO_MATCH = 4         # a query matched nothing (`prices show`); the message lists what exists
    UNAVAILABLE = 5      # a prerequisite is missing (Docker engine, GPU, dataset folder)
    INTERRUPTED = 130    # SIGINT (Ctrl-C): 128 + 2; the run is marked interrupted
    TERMINATED = 143     # SIGTERM (spot preemption, `docker stop`): 128 + 15; marked interrupted


EXIT_CODES_HELP = "exit status: " + ", ".join(
    f"{code.value} {code.name.lower().replace('_', ' ')}" for code in ExitCode)

# C0 and C1 control characters except tab and newline: a run.json could otherwise move the cursor,
# recolour or clear the terminal of whoever lists it
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")


def printable(text: Any) -> str:
    """`text` as a string safe to print: control characters become U+FFFD."""
    return _CONTROL.sub("\ufffd", text if isinstance(text, str) else str(text))


def jsonable(value: Any) -> Any:
    """Plain JSON data: Decimal → number, NaN/±inf → null, Path → str, dataclasses → objects."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Path):
        return str(value)
    to_dict = getattr(value, "to_dict", None)
    return jsonable(to_dict()) if callable(to_dict) else str(value)


class Output:
    """Where every line of `repro` goes. `line` is for people, `record` for `--json` readers,
    `warn`/`error` go to stderr. Once stdout's reader has gone, nothing more is written to it."""

    def __init__(self, *, quiet: bool = False, as_json: bool = False,
                 stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.quiet, self.as_json = quiet, as_json
        self._out = stdout if stdout is not None else sys.stdout
        self._err = stderr if stderr is not None else sys.stderr
        self.closed = False

    @property
    def human(self) -> bool:
        return not (self.quiet or self.as_json)

    def line(self, text: str = "") -> None:
        if self.human:
            self._write(self._out, printable(text))

    def raw(self, text: str) -> None:
        """Text written as it is (a YAML file, a path list), in every mode but --quiet."""
        if not self.quiet:
            self._write(self._out, text, newline=False)

    def record(self, kind: str, data: dict[str, Any]) -> None:
        if self.as_json:
            doc = jsonable({"type": kind, **data})
            text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
            # json escapes C0 controls itself; DEL and the C1 range (8-bit CSI …) are escaped here,
            # so the line stays the same data and is safe on a terminal
            self._write(self._out, _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text))

    def warn(self, text: str) -> None:
        if not self.quiet:
            self._write(self._err, "warning: " + printable(text))

    def note(self, text: str) -> None:
        """A side remark for people (on stderr, so stdout stays parseable)."""
        if not self.quiet:
            self._write(self._err, printable(text))

    def error(self, text: str) -> None:
        self._write(self._err, "repro: error: " + printable(text))

    def progress_stream(self) -> IO[str] | None:
        """The stream a progress bar may draw on: stderr when it is a terminal and output is for
        people; None otherwise (bars in a log file or a pipe are noise)."""
        if not self.human or self.closed:
            return None
        try:
            return self._err if self._err.isatty() else None
        except (AttributeError, ValueError):
            return None

    def _write(self, stream: IO[str], text: str, newline: bool = True) -> None:
        if self.closed and stream is self._out:
            return
        try:
            stream.write(text + ("\n" if newline else ""))
            stream.flush()
        except BrokenPipeError:
            if stream is self._out:
                self._close_stdout()

    def _close_stdout(self) -> None:
        """The reader went away: drop the rest, and point the file descriptor at /dev/null so the
        interpreter's last flush at exit does not print a traceback about it."""
        self.closed = True
        try:
            fd = self._out.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass
