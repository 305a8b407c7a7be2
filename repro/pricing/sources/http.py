"""One HTTP session for every price source: timeouts, retries with back-off, streamed downloads.

Base URLs live in each source module and can be overridden (tests point them at a local
pytest-httpserver). A timeout or connection failure becomes `SourceUnavailable`, which callers
turn into "previous snapshot left untouched".
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.util.retry import Retry

DEFAULT_TIMEOUT_S = (10.0, 60.0)  # (connect, read between bytes)
USER_AGENT = "repro-pricing/0.1 (+https://github.com/; price snapshots for benchmark cost accounting)"


class SourceError(ValueError):
    """A price source answered with something we cannot use (bad status, malformed body)."""


class SourceUnavailable(SourceError):
    """A price source could not be reached in time (timeout, refused connection, retries spent)."""


def make_session(retries: int = 3, backoff_s: float = 0.5) -> requests.Session:
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=backoff_s, status_forcelist=(429, 500, 502, 503, 504),
                  allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


_SESSION: requests.Session | None = None


def session() -> requests.Session:
    """The process-wide session (connection pooling across sources)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = make_session()
    return _SESSION


def get(url: str, *, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT_S, stream: bool = False,
        http: requests.Session | None = None) -> requests.Response:
    try:
        response = (http or session()).get(url, timeout=timeout, stream=stream)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise SourceUnavailable(f"{url}: no answer ({type(exc).__name__}: {exc})") from None
    except requests.RequestException as exc:
        raise SourceError(f"{url}: request failed ({exc})") from None
    if response.status_code != 200:
        response.close()
        raise SourceError(f"{url}: HTTP {response.status_code}; check the URL or try again later")
    return response


def get_json(url: str, **kw) -> object:
    response = get(url, **kw)
    try:
        return response.json()
    except ValueError:
        raise SourceError(f"{url}: response is not JSON (starts {response.text[:80]!r})") from None


@contextmanager
def fetched_file(location: str, *, quiet: bool = False, desc: str = "download",
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT_S,
                 http: requests.Session | None = None) -> Iterator[Path]:
    """Yield a local path for `location`: a path as is, a URL streamed to a temporary file
    (never held in memory) that is removed afterwards."""
    if not location.startswith(("http://", "https://")):
        path = Path(location)
        if not path.exists():
            raise SourceError(f"{path}: no such file; pass an existing file or an http(s) URL")
        yield path
        return
    response = get(location, timeout=timeout, stream=True, http=http)
    total = int(response.headers.get("Content-Length") or 0) or None
    fd, tmp = tempfile.mkstemp(prefix="repro-prices-", suffix=Path(location).suffix or ".dat")
    try:
        with os.fdopen(fd, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=desc,
                                              disable=quiet, leave=False) as bar:
            try:
                for chunk in response.iter_content(chunk_size=1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise SourceUnavailable(f"{location}: download stalled ({type(exc).__name__})") from None
        yield Path(tmp)
    finally:
        response.close()
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
