"""Where price snapshots live, and which one prices a run when none is named.

The default, first match wins:

1. `$REPRO_PRICE_SNAPSHOT` (a snapshot CSV path or a shipped snapshot id);
2. the `current.json` pointer in the prices folder (`$REPRO_PRICES_DIR`, else
   `~/.cache/repro/prices`), which every successful `repro prices update` rewrites;
3. the shipped snapshot `SHIPPED_SNAPSHOT_ID`.

`--snapshot` anywhere takes a path or the id of a shipped snapshot (`dawnbench-2018-04`).
Nothing here reads a snapshot's content; `repro.pricing.catalog` does.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
SHIPPED_SNAPSHOT_ID = "shipped-2026-11-29"
SNAPSHOT_ENV = "REPRO_PRICE_SNAPSHOT"
PRICES_DIR_ENV = "REPRO_PRICES_DIR"
CURRENT_FILE = "current.json"


class SnapshotLocationError(ValueError):
    """The default-snapshot pointer is unreadable or points at nothing."""


def prices_dir() -> Path:
    """Folder `repro prices update` writes to by default, and where its `current.json` lives."""
    return Path(os.environ.get(PRICES_DIR_ENV) or Path.home() / ".cache" / "repro" / "prices")


def shipped_ids() -> list[str]:
    return sorted(p.stem for p in SNAPSHOT_DIR.glob("*.csv"))


def resolve(name: str | os.PathLike) -> Path:
    """A snapshot CSV path for a path (CSV or its .json sidecar) or a shipped snapshot id."""
    path = Path(name)
    if path.suffix == ".json":
        path = path.with_suffix(".csv")
    if path.suffix != ".csv" and path.name == str(name) and (SNAPSHOT_DIR / f"{name}.csv").is_file():
        return SNAPSHOT_DIR / f"{name}.csv"
    return path


def read_current(folder: Path | None = None) -> Path | None:
    """The snapshot the last successful update made the default, or None when there is no pointer."""
    pointer = (folder or prices_dir()) / CURRENT_FILE
    try:
        doc = json.loads(pointer.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotLocationError(
            f"{pointer}: default-snapshot pointer is unreadable ({exc}); delete it to fall back to the "
            f"shipped snapshot, or run `repro prices update`") from None
    target = doc.get("snapshot") if isinstance(doc, dict) else None
    if not isinstance(target, str) or not target:
        raise SnapshotLocationError(f"{pointer}: no 'snapshot' path in the default-snapshot pointer; "
                                    "delete it or run `repro prices update`")
    path = Path(target)
    if not path.is_absolute():
        path = pointer.parent / path
    if not path.is_file():
        raise SnapshotLocationError(f"{pointer} names {path}, which does not exist; delete the pointer or "
                                    "run `repro prices update`")
    return path


def write_current(csv_path: Path, folder: Path | None = None) -> Path:
    """Make `csv_path` the default snapshot (atomically: a reader sees the old or the new pointer)."""
    from repro.harness.store import atomic_write_text

    folder = folder or prices_dir()
    folder.mkdir(parents=True, exist_ok=True)
    pointer = folder / CURRENT_FILE
    doc = {"snapshot": str(Path(csv_path).resolve()),
           "set_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    atomic_write_text(pointer, json.dumps(doc, indent=2) + "\n")
    return pointer


def default_snapshot_path() -> tuple[Path, str]:
    """(CSV path, why it is the default) by the order in the module docstring."""
    named = os.environ.get(SNAPSHOT_ENV)
    if named:
        return resolve(named), f"${SNAPSHOT_ENV}"
    current = read_current()
    if current is not None:
        return current, f"{prices_dir() / CURRENT_FILE} (set by the last `repro prices update`)"
    return SNAPSHOT_DIR / f"{SHIPPED_SNAPSHOT_ID}.csv", "shipped with repro"
