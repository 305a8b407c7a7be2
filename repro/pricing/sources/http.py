"""HTTP for the price sources: one deadline per source, retries inside it, downloads that leave
nothing on disk.

`bounded(seconds, name)` puts a whole source under one deadline: every request made inside it
gets at most the time that is left, retries included, and a watchdog shuts down every socket the
block opened when the deadline passes, so a server that answers a byte every few seconds cannot
hold an update past `--timeout`. Outside a bounded block each request only has its own
(connect, read) timeouts.

Downloads go to an anonymous temporary file (`tempfile.TemporaryFile`, unlinked from the start),
so no file survives a kill at any moment. A timeout or connection failure becomes
`SourceUnavailable`; anything else unusable becomes `SourceError`. Messages show URLs without
credentials or query strings.
"""
from __future__ import annotations

import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from repro.pricing.urls import public_url

DEFAULT_TIMEOUT_S = (10.0, 60.0)  # (connect, read between bytes), each capped by a block's deadline
DEFAULT_RETRIES = 3
BACKOFF_S = 0.5
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_IN_MEMORY_BYTES = 64 << 20
CHUNK_BYTES = 1 << 16
USER_AGENT = "repro-pricing/0.1 (price snapshots for benchmark cost accounting)"


class SourceError(ValueError):
    """A price source answered with something we cannot use (bad status, malformed body)."""


class SourceUnavailable(SourceError):
    """A price source could not be reached in time (timeout, refused connection, deadline passed)."""


class _Block:
    """One bounded source: its deadline, its session, the sockets it opened."""

    def __init__(self, seconds: float, name: str):
        self.seconds, self.name = seconds, name
        self.end = time.monotonic() + seconds
        self.sockets: list[socket.socket] = []
        self.cut = False
        self.lock = threading.Lock()
        self.session = make_session()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired_error(self) -> SourceUnavailable:
        return SourceUnavailable(f"no complete answer within {self.seconds:g} s "
                                 "(--timeout bounds the whole source, retries included)")

    def cut_all(self) -> None:
        with self.lock:
            self.cut = True
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


_STATE = threading.local()


def _block() -> _Block | None:
    return getattr(_STATE, "block", None)


def _register(sock) -> None:
    block = _block()
    if block is not None and sock is not None:
        with block.lock:
            block.sockets.append(sock)
            if block.cut:
                block.cut_all()


class _TrackedConnection:
    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _register(self.sock)  # type: ignore[attr-defined]


class _HTTPConnection(_TrackedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_TrackedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _TrackingAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def make_session() -> requests.Session:
    """A session whose sockets a bounded block can cut; retries are ours (inside the deadline)."""
    session = requests.Session()
    adapter = _TrackingAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


_SESSION: requests.Session | None = None


def session() -> requests.Session:
    """The current bounded block's session, else one process-wide session."""
    global _SESSION
    block = _block()
    if block is not None:
        return block.session
    if _SESSION is None:
        _SESSION = make_session()
    return _SESSION


@contextmanager
def bounded(seconds: float, name: str) -> Iterator[_Block]:
    """Everything `name` fetches inside the block finishes within `seconds`, or SourceUnavailable."""
    if not seconds > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {seconds!r}")
    block = _Block(seconds, name)
    previous = _block()
    _STATE.block = block
    watchdog = threading.Timer(seconds, block.cut_all)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield block
    except (requests.RequestException, OSError) as exc:
        if block.cut or block.remaining() <= 0:
            raise block.expired_error() from None
        raise SourceUnavailable(f"{name}: connection failed ({type(exc).__name__})") from None
    finally:
        watchdog.cancel()
        _STATE.block = previous
        block.session.close()
    if block.cut:
        raise block.expired_error()


def _timeouts(timeout: float | tuple[float, float], block: _Block | None) -> tuple[float, float]:
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if block is None:
        return connect, read
    left = max(0.05, block.remaining())
    return min(connect, left), min(read, left)


def _check(block: _Block | None) -> None:
    if block is not None and (block.cut or block.remaining() <= 0):
        raise block.expired_error()


def _attempt(url: str, shown: str, timeout, block: _Block | None) -> requests.Response:
    try:
        return session().get(url, timeout=_timeouts(timeout, block), stream=True)
    except (requests.Timeout, requests.ConnectionError) as exc:
        _check(block)
        raise SourceUnavailable(f"{shown}: no answer ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise SourceError(f"{shown}: request failed ({type(exc).__name__})") from None


def get(url: str, *, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT_S,
        retries: int | None = None) -> requests.Response:
    """A 200 response with its body not yet read; retries (default DEFAULT_RETRIES) timeouts and
    429/5xx with back-off, all inside the current block's deadline."""
    shown, block = public_url(url), _block()
    retries = DEFAULT_RETRIES if retries is None else retries
    failure: SourceError | None = None
    for attempt in range(retries + 1):
        if attempt:
            pause = BACKOFF_S * 2 ** (attempt - 1)
            time.sleep(min(pause, max(0.0, block.remaining())) if block else pause)
        _check(block)
        try:
            response = _attempt(url, shown, timeout, block)
        except SourceUnavailable as exc:
            failure = exc
            continue
        if response.status_code == 200:
            return response
        response.close()
        failure = SourceError(f"{shown}: HTTP {response.status_code}; check the URL or try again later")
        if response.status_code not in RETRY_STATUS:
            break
    assert failure is not None
    raise failure


def _chunks(response: requests.Response, shown: str) -> Iterator[bytes]:
    block = _block()
    try:
        for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
            _check(block)
            yield chunk
    except (requests.RequestException, OSError) as exc:
        _check(block)
        raise SourceUnavailable(f"{shown}: download broke off ({type(exc).__name__})") from None
    finally:
        response.close()
    _check(block)   # a cut socket can look like a clean end of a body without Content-Length


def read_text(url: str, **kw) -> str:
    """The whole body as text (small documents: indexes, pages, feeds)."""
    shown = public_url(url)
    response = get(url, **kw)
    parts, size = [], 0
    for chunk in _chunks(response, shown):
        size += len(chunk)
        if size > MAX_IN_MEMORY_BYTES:
            response.close()
            raise SourceError(f"{shown}: more than {MAX_IN_MEMORY_BYTES >> 20} MiB; not a document this "
                              "source reads into memory")
        parts.append(chunk)
    return b"".join(parts).decode(response.encoding or "utf-8", errors="replace")


def get_json(url: str, **kw) -> object:
    import json

    text = read_text(url, **kw)
    try:
        return json.loads(text)
    except ValueError:
        raise SourceError(f"{public_url(url)}: response is not JSON (starts {text[:80]!r})") from None


@contextmanager
def fetched_file(location: str, *, quiet: bool = False, desc: str = "download",
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT_S) -> Iterator[BinaryIO]:
    """A binary file for `location`: a local path opened as is, a URL streamed (never held in
    memory) into an anonymous temporary file that no crash can leave behind."""
    if not location.startswith(("http://", "https://")):
        path = Path(location)
        if not path.is_file():
            raise SourceError(f"{path}: no such file; pass an existing file or an http(s) URL")
        with open(path, "rb") as fh:
            yield fh
        return
    shown = public_url(location)
    response = get(location, timeout=timeout)
    total = int(response.headers.get("Content-Length") or 0) or None
    with tempfile.TemporaryFile(prefix="repro-prices-") as out:
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=quiet, leave=False) as bar:
            for chunk in _chunks(response, shown):
                out.write(chunk)
                bar.update(len(chunk))
        out.flush()
        out.seek(0)
        yield out
