"""The CIFAR-10 python-pickle batches on disk: find them, read them (with the official MD5s), write
them (for subsets, re-packs and tests), download them. Layout as Krizhevsky ships it:
`cifar-10-batches-py/data_batch_1` … `data_batch_5`, `test_batch`, `batches.meta`, each a pickled dict.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repro.train.data import DataError

BATCHES_DIR = "cifar-10-batches-py"
NATIVE_SIZE = 32
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
# Official MD5s of the extracted files (the ones torchvision.datasets.CIFAR10 checks)
OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DOWNLOAD_HINT = ("download it on a machine with internet: python -c \"from repro.train.data.cifar_files import "
                 "download; download('DIR')\" (torchvision), then pass --data DIR")


# -- reading the files ---------------------------------------------------------------------------
def find_batches_dir(data_dir: Path) -> Path:
    """DIR itself or DIR/cifar-10-batches-py, whichever holds data_batch_1."""
    data_dir = Path(data_dir)
    for candidate in (data_dir, data_dir / BATCHES_DIR):
        if (candidate / TRAIN_FILES[0]).is_file():
            return candidate
    if (data_dir / "cifar-10-python.tar.gz").is_file():
        raise DataError(f"{data_dir} holds cifar-10-python.tar.gz but no extracted batches; extract it "
                        f"with `tar xzf {data_dir / 'cifar-10-python.tar.gz'} -C {data_dir}`")
    raise DataError(f"no CIFAR-10 python batches in {data_dir} (looked for {TRAIN_FILES[0]} there and in "
                    f"{data_dir / BATCHES_DIR}); {DOWNLOAD_HINT}")


def read_batch(path: Path, blob: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch → (uint8 N×3×32×32, int64 N). DataError naming the file when it is unreadable."""
    path = Path(path)
    try:
        blob = path.read_bytes() if blob is None else blob
        batch = pickle.loads(blob, encoding="bytes")
    except FileNotFoundError:
        raise DataError(f"CIFAR-10 file {path} is missing; {DOWNLOAD_HINT}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError, KeyError, OSError) as exc:
        raise DataError(f"CIFAR-10 file {path} is truncated or unreadable ({type(exc).__name__}: {exc}); "
                        f"{DOWNLOAD_HINT}") from None
    if not isinstance(batch, dict):
        raise DataError(f"CIFAR-10 file {path} is not a pickled dict (got {type(batch).__name__}); "
                        "expected the python version of CIFAR-10")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"CIFAR-10 file {path} has no b'data'/b'labels' entries "
                        f"(keys: {sorted(map(str, batch))})")
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * NATIVE_SIZE * NATIVE_SIZE:
        raise DataError(f"CIFAR-10 file {path}: b'data' must be uint8 N×3072, got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],):
        raise DataError(f"CIFAR-10 file {path}: {data.shape[0]} images but {labels.size} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"CIFAR-10 file {path}: labels outside 0..9 (min {labels.min()}, max {labels.max()})")
    return data.reshape(-1, 3, NATIVE_SIZE, NATIVE_SIZE), labels


@dataclass(frozen=True)
class CifarArrays:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    checksum: str                    # sha256 over the files' bytes, in the fixed file order
    verified: bool                   # every file's MD5 matched the official one
    mismatched: tuple[str, ...]      # names of files whose MD5 did not match (or that are absent: meta)


def load_arrays(data_dir: Path) -> CifarArrays:
    root = find_batches_dir(data_dir)
    digest = hashlib.sha256()
    mismatched: list[str] = []
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in (*TRAIN_FILES, TEST_FILE):
        path = root / name
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"CIFAR-10 file {path} is missing; {DOWNLOAD_HINT}") from None
        digest.update(blob)
        if hashlib.md5(blob).hexdigest() != OFFICIAL_MD5[name]:
            mismatched.append(name)
        parts[name] = read_batch(path, blob)
    meta = root / META_FILE
    if meta.is_file():
        blob = meta.read_bytes()
        digest.update(blob)
        if hashlib.md5(blob).hexdigest() != OFFICIAL_MD5[META_FILE]:
            mismatched.append(META_FILE)
    else:
        mismatched.append(META_FILE)
    x_train = np.concatenate([parts[n][0] for n in TRAIN_FILES])
    y_train = np.concatenate([parts[n][1] for n in TRAIN_FILES])
    if len(y_train) == 0 or len(parts[TEST_FILE][1]) == 0:
        raise DataError(f"CIFAR-10 batches in {root} hold no images (train {len(y_train)}, "
                        f"test {len(parts[TEST_FILE][1])})")
    return CifarArrays(x_train, y_train, *parts[TEST_FILE], checksum="sha256:" + digest.hexdigest(),
                       verified=not mismatched, mismatched=tuple(mismatched))


def write_python_batches(root: Path | str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                         y_test: np.ndarray) -> Path:
    """Write images (uint8 N×3×32×32) in the official layout: root/cifar-10-batches-py/ with the training
    set split over data_batch_1..5, test_batch and batches.meta (for subsets, re-packs and tests)."""
    out = Path(root) / BATCHES_DIR
    out.mkdir(parents=True, exist_ok=True)

    def dump(name: str, obj: dict) -> None:
        with open(out / name, "wb") as f:
            pickle.dump(obj, f, protocol=2)

    flat = np.ascontiguousarray(x_train, dtype=np.uint8).reshape(len(x_train), -1)
    for i, (xs, ys) in enumerate(zip(np.array_split(flat, 5), np.array_split(np.asarray(y_train), 5)), 1):
        dump(f"data_batch_{i}", {b"batch_label": f"training batch {i} of 5".encode(), b"labels": ys.tolist(),
                                 b"data": xs, b"filenames": [f"{i}_{j}.png".encode() for j in range(len(ys))]})
    dump(TEST_FILE, {b"batch_label": b"testing batch 1 of 1", b"labels": np.asarray(y_test).tolist(),
                     b"data": np.ascontiguousarray(x_test, dtype=np.uint8).reshape(len(x_test), -1),
                     b"filenames": [f"t_{j}.png".encode() for j in range(len(y_test))]})
    dump(META_FILE, {b"num_cases_per_batch": int(np.ceil(len(y_train) / 5)),
                     b"label_names": [n.encode() for n in LABEL_NAMES], b"num_vis": 3072})
    return out


def download(root: Path | str) -> Path:
    """Fetch and extract CIFAR-10 through torchvision (needs internet); returns the batches directory."""
    from torchvision.datasets import CIFAR10
    CIFAR10(root=str(root), train=True, download=True)
    return Path(root) / BATCHES_DIR
