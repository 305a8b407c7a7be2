"""Published DAWNBench entries as pricing input, so `repro price` answers "what would this entry
cost on today's (or a dated) snapshot" the way it does for a run directory.

An entry is the JSON + TSV pair of stanford-futuredata/dawn-bench-entries, which `repro export
dawnbench` also writes: the JSON names the hardware in free text ("8 * V100 (AWS p3.16xlarge)")
and the hourly rate it was priced at (`costPerHour`); the TSV beside it (`logFilename`, else the
same stem) lists epoch, hours and accuracy in percent. The time is the DAWNBench rule's: the
hours of the first epoch at or over the target.

The hardware text is read when it names an instance a snapshot knows ("p3.16xlarge", with "16
p3.16xlarge" or "(4 machines ...)" as nodes) or a count and a model ("8 * V100", "1 K80"); anything
else needs `hardware=` ("V100:8"), never a guess.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from repro.harness import clock, metrics
from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.catalog import Snapshot

# The DAWNBench v1 training targets, by the folder an entry sits in (dawn-bench-entries' layout)
DAWNBENCH_TARGETS = {"cifar10": ("top1", 0.94), "imagenet": ("top5", 0.93)}

_INSTANCE = re.compile(r"(?:\b(\d+)\s+)?\b([a-z][a-z0-9]*\.(?:\d*x?large|metal[\w-]*))\b")
_COUNT_MODEL = re.compile(r"\b(\d+)\s*(?:[*x×]\s*)?(?:nvidia\s+)?(?:tesla\s+)?([A-Z]{1,2}\d{2,4}[A-Z0-9-]*)\b", re.I)
_MODEL_COUNT = re.compile(r"\b(?:tesla\s+)?([A-Z]{1,2}\d{2,4}[A-Z0-9-]*)\s*[*x×]\s*(\d+)\b", re.I)
_MODEL = re.compile(r"\b([A-Z]{1,2}\d{2,4}[A-Z0-9-]*)\b", re.I)
_NODES = re.compile(r"\b(\d+)\s+(?:machines|nodes)\b", re.I)
_PER_NODE = re.compile(r"\b(?:for each|per) node\b", re.I)


class EntryError(ValueError):
    """A published entry cannot be read or priced; the message says what to pass."""


@dataclass(frozen=True)
class PublishedEntry:
    path: Path
    hardware_text: str
    hardware: dict[str, Any]          # run.json-like: gpu_model, gpu_count (all GPUs), nodes; or vcpus
    seconds: float                    # DAWNBench time to target
    target: tuple[str, float]
    epoch: int
    published_usd_per_hour: Decimal | None


def parse_spec(spec: str, nodes: int = 1) -> dict[str, Any]:
    """`V100:8` (SkyPilot's accelerator syntax, GPUs per node) or `cpu:8` (vCPUs) as run.json hardware."""
    model, _, count = spec.partition(":")
    try:
        n = int(count or 1)
    except ValueError:
        n = 0
    if n < 1 or nodes < 1 or not model.strip():
        raise EntryError(f"hardware {spec!r}: write MODEL:COUNT with COUNT >= 1, e.g. V100:8 or cpu:8")
    if model.strip().lower() == "cpu":
        return {"accelerator": "cpu", "gpu_count": 0, "vcpus": n, "nodes": nodes}
    return {"accelerator": "cuda", "gpu_model": normalize_gpu_name(model), "gpu_count": n * nodes,
            "gpus_per_node": n, "nodes": nodes}


def _from_instance(text: str, snapshot: Snapshot | None) -> dict[str, Any] | None:
    known = {o.instance_type: o for o in (snapshot.offers if snapshot else []) if o.gpu_count}
    for count, instance in _INSTANCE.findall(text):
        offer = known.get(instance)
        if offer is None:
            continue
        nodes_hit = _NODES.search(text)
        nodes = int(count or (nodes_hit.group(1) if nodes_hit else 1))
        return {"accelerator": "cuda", "gpu_model": offer.gpu_model, "gpu_count": offer.gpu_count * nodes,
                "gpus_per_node": offer.gpu_count, "nodes": nodes}
    return None


def hardware_from_text(text: str, snapshot: Snapshot | None = None) -> dict[str, Any] | None:
    """run.json-like hardware read from an entry's free text, or None when it does not say."""
    found = _from_instance(text, snapshot)
    if found:
        return found
    nodes_hit = _NODES.search(text)
    nodes = int(nodes_hit.group(1)) if nodes_hit else 1
    for pattern, order in ((_COUNT_MODEL, (0, 1)), (_MODEL_COUNT, (1, 0))):
        hit = pattern.search(text)
        if hit:
            count, model = int(hit.group(1 + order[0])), hit.group(1 + order[1])
            per_node = count if _PER_NODE.search(text) else -(-count // nodes)
            return {"accelerator": "cuda", "gpu_model": normalize_gpu_name(model),
                    "gpu_count": per_node * nodes, "gpus_per_node": per_node, "nodes": nodes}
    hit = _MODEL.search(text)
    if hit and normalize_gpu_name(hit.group(1)):
        return {"accelerator": "cuda", "gpu_model": normalize_gpu_name(hit.group(1)), "gpu_count": 1,
                "gpus_per_node": 1, "nodes": 1}
    return None


def _target(path: Path, doc: dict, target: str | None) -> tuple[str, float]:
    if target:
        metric, _, value = target.partition(":")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if metric not in ("top1", "top5") or not 0 < number <= 100:
            raise EntryError(f"target {target!r}: write top1:94 or top5:93 (percent)")
        return metric, number / 100 if number > 1 else number
    recorded = (doc.get("misc") or {}).get("target") if isinstance(doc.get("misc"), dict) else None
    if isinstance(recorded, dict) and recorded.get("metric") in ("top1", "top5"):
        return recorded["metric"], float(recorded["value"])
    for part in (p.lower() for p in path.resolve().parts):
        if part in DAWNBENCH_TARGETS:
            return DAWNBENCH_TARGETS[part]
    raise EntryError(f"{path}: no target known for this entry (not under CIFAR10/ or ImageNet/); pass --target top1:94")


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntryError(f"{path}: not a readable DAWNBench entry ({exc})") from None
    if not isinstance(doc, dict) or "hardware" not in doc:
        raise EntryError(f"{path}: not a DAWNBench entry (no 'hardware' field)")
    return doc


def _rate(doc: dict) -> Decimal | None:
    raw = doc.get("costPerHour")
    try:
        value = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() and value > 0 else None


def read_entry(path: str | Path, *, snapshot: Snapshot | None = None, hardware: str | None = None,
               nodes: int = 1, target: str | None = None) -> PublishedEntry:
    """An entry's hardware, time to target and published rate, or EntryError saying what is missing."""
    path = Path(path)
    doc = _read_json(path)
    tsv = path.with_name(str(doc.get("logFilename") or path.with_suffix(".tsv").name))
    if not tsv.is_file():
        tsv = path.with_suffix(".tsv")
    try:
        rows = metrics.parse(tsv.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise EntryError(f"{tsv}: the entry's per-epoch TSV is unreadable ({exc})") from None
    metric, value = _target(path, doc, target)
    seconds = clock.dawnbench_time_to_target_s(metrics.as_mappings(rows), value, metric)
    if seconds is None:
        raise EntryError(f"{tsv}: no epoch reaches {metric} {value:.2%}; nothing to price")
    epoch = next(r.epoch for r in rows if (getattr(r, metric) or 0) >= value)
    text = str(doc.get("hardware"))
    hw = parse_spec(hardware, nodes) if hardware else hardware_from_text(text, snapshot)
    if hw is None or (hw.get("gpu_count") and not hw.get("gpu_model")):
        raise EntryError(f"{path}: cannot tell the hardware from {text!r}; pass --hardware MODEL:COUNT "
                         "(e.g. V100:8) and --nodes N")
    return PublishedEntry(path, text, hw, seconds, (metric, value), epoch, _rate(doc))
