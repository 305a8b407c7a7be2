"""Streaming JSON with bounded memory (ijson over yajl) and errors that name file and line."""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

import ijson

from repro.pricing.sources.http import SourceError

_READ_SIZE = 1 << 16


class _CountingReader:
    """Wraps a binary file and remembers where the last read started, to locate parse errors."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.last_start = 0
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.last_start = self.position
        self.position += len(data)
        return data


@contextmanager
def _opened(source: Path | BinaryIO) -> Iterator[BinaryIO]:
    """A path opened for this read, or a seekable binary file rewound (it stays open)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            yield fh
    else:
        source.seek(0)
        yield source


def _line_of_error(source: Path | BinaryIO, window_start: int, window_end: int, message: str) -> str:
    """Best line for a yajl error: find yajl's context snippet in the bytes it was reading."""
    with _opened(source) as fh:
        fh.seek(max(0, window_start - _READ_SIZE))
        base = fh.tell()
        window = fh.read(window_end - base)
        lines_before = 1
        fh.seek(0)
        remaining = base
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            lines_before += chunk.count(b"\n")
            remaining -= len(chunk)
    parts = message.split("\n")
    if len(parts) >= 3 and "(right here)" in parts[2]:
        snippet, caret = parts[1], parts[2].index("^")
        indent = len(snippet) - len(snippet.lstrip(" "))
        text, column = snippet.strip(" "), caret - indent
        if text:
            flat = re.sub(rb"[\r\n\t]", b" ", window)
            hit = flat.rfind(text.encode("utf-8", "replace"))
            if hit >= 0:
                offset = hit + max(0, min(column, len(text) - 1))
                return str(lines_before + window[:offset].count(b"\n"))
    chunk_line = lines_before + window[:window_start - base].count(b"\n")
    return f"{chunk_line} or later"


def kvitems(source: Path | BinaryIO, prefix: str, name: str | None = None) -> Iterator[tuple[str, object]]:
    """(key, value) pairs of the JSON object at `prefix`, streamed from a path or a seekable binary
    file; malformed JSON raises SourceError naming the file (`name`) and line."""
    name = name or str(source)
    with _opened(source) as fh:
        reader = _CountingReader(fh)
        try:
            yield from ijson.kvitems(reader, prefix, buf_size=_READ_SIZE)
        except ijson.JSONError as exc:
            line = _line_of_error(source, reader.last_start, reader.position, str(exc))
            first = str(exc).split("\n")[0]
            raise SourceError(f"{name}:{line}: malformed JSON ({first}); "
                              f"re-download the file or report the source as broken") from None
