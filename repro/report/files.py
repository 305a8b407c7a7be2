"""Putting files into the site folder: pages written whole and renamed into place, the run's own
files hard-linked where that is safe, identical drawings shared, top-level pages replaced atomically.

A file already there is always replaced, never written through: it may be a hard link shared with
another page or with a run directory.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from repro.harness.rundirs import pid_alive
from repro.harness.store import atomic_write_text

STAGING_PREFIX = ".staging-"
_STAGING: dict[tuple[str, int], str] = {}   # (site, pid) → that process's staging folder
_SHARED: dict[str, str] = {}   # drawing → a file of this build already holding exactly it
_FOLDERS: set[str] = set()     # folders this process made or saw during this build


def new_build() -> None:
    """Forget the files of earlier builds: pages link only to files of the build being drawn."""
    _SHARED.clear()
    _FOLDERS.clear()


def write_file(path: str, text: str) -> None:
    """Write a file of the site, replacing what is there. Pages are regenerated from results at
    will and the manifest that vouches for them is written last, so a crash mid-build costs a
    redraw, not a wrong page: no fsync per file."""
    data = text.encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_staged(out_dir: Path | str, path: str, text: str) -> None:
    """Write a page in a folder private to this process, then rename it into place.

    Readers never see half a page, and the slow part of making a file (finding a free inode,
    which after many deletions can mean scanning many recently freed ones) happens under the lock
    of the private folder only, not of the recipe folder every worker writes into; the rename
    allocates nothing."""
    key = (str(out_dir), os.getpid())
    staging = _STAGING.get(key)
    if staging is None:
        staging = f"{out_dir}/runs/{STAGING_PREFIX}{os.getpid()}"
        os.makedirs(staging, exist_ok=True)
        _STAGING[key] = staging
    temp = f"{staging}/{os.path.basename(path)}"
    write_file(temp, text)
    os.replace(temp, path)


def clear_staging(out_dir: Path | str) -> None:
    """Remove the staging folders of this build and of builds whose process is gone (a build killed
    half-way); those of another build still at work stay. Called as a build starts and ends."""
    for key in [k for k in _STAGING if k[0] == str(out_dir)]:
        del _STAGING[key]
    try:
        with os.scandir(f"{out_dir}/runs") as entries:
            found = [(e.path, e.name[len(STAGING_PREFIX):]) for e in entries
                     if e.name.startswith(STAGING_PREFIX) and e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return
    for folder, pid in found:
        if not pid.isdigit() or int(pid) == os.getpid() or not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def link(source: str, target: str) -> None:
    """A hard link to `source` itself: never through a symbolic link (os.link follows one by default)."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:   # a redraw: the old file (or link) goes, never written through
        os.unlink(target)
        os.link(source, target, follow_symlinks=False)


def _open_regular(source: str) -> tuple[int, os.stat_result] | None:
    """(descriptor, fstat) of `source` when it is a regular file reached without a symbolic link."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    return fd, info


def _copy_from(fd: int, target: str) -> None:
    remove(target)
    with os.fdopen(os.dup(fd), "rb") as src, open(target, "xb") as dst:
        shutil.copyfileobj(src, dst)


def place_file(source: str, target: str, linkable: bool, mode: int | None = None,
               inode: tuple[int, int] | None = None) -> bool:
    """Put a run's file beside its page: a hard link when `linkable` (no bytes copied, and a
    cold build places four files per run), a copy across filesystems or when linking fails.
    Returns False, placing nothing, when `source` is not a regular file reached without a
    symbolic link: the site never holds a link, nor a byte of a file outside the results folder.

    Linked only when the source is readable by group and others (the harness writes run.json
    through a private temp file, 0600, and a link shares the mode where a copy gets the umask's).
    `mode` and `inode` ((st_ino, st_dev)) are the source's lstat when the caller has just taken it;
    a link that does not lead to that very file (the entry was swapped meanwhile) is undone."""
    if mode is not None and not stat.S_ISREG(mode):
        return False
    if linkable and mode is not None and inode is not None and mode & 0o044 == 0o044:
        try:
            link(source, target)
            placed = os.lstat(target)
            if stat.S_ISREG(placed.st_mode) and (placed.st_ino, placed.st_dev) == inode:
                return True
        except OSError:   # EXDEV (another filesystem), EPERM, EMLINK …: copy instead
            pass
    opened = _open_regular(source)
    if opened is None:
        remove(target)
        return False
    fd, info = opened
    try:
        if linkable and info.st_mode & 0o044 == 0o044 and inode is None:
            try:
                link(source, target)
                placed = os.lstat(target)
                if (placed.st_ino, placed.st_dev) == (info.st_ino, info.st_dev):
                    return True
            except OSError:
                pass
        _copy_from(fd, target)
        return True
    finally:
        os.close(fd)


def write_shared(path: str, text: str) -> None:
    """write_file, or a hard link to a file this process already wrote with the same text during
    this build: runs of one recipe share their schedule, and each new file costs an inode."""
    first = _SHARED.get(text)
    if first is not None:
        try:
            link(first, path)
            return
        except OSError:
            pass
    write_file(path, text)
    if len(_SHARED) >= 256:
        _SHARED.clear()
    _SHARED[text] = path


def ensure_folder(path: str) -> None:
    if path not in _FOLDERS:
        os.makedirs(path, exist_ok=True)
        _FOLDERS.add(path)


def publish(path: Path, text: str) -> None:
    """Replace a top-level page atomically (a reader never sees half of it), readable by a web
    server (the temp file behind the atomic write is created private)."""
    atomic_write_text(path, text)
    os.chmod(path, 0o644)
