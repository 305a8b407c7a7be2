"""What hardware a DAWNBench entry's free-text `hardware` field names, in the terms pricing matches
on: {"gpu_model", "gpu_count", "nodes"} or {"vcpus", "nodes"}, with how it was read, or None and why.

The field is prose ("8 * V100 (AWS p3.16xlarge)", "Tesla V100 * 4 GPU / 488 GB / 56 CPU",
"64 * V100 (8 machines - AWS p3.16xlarge)", "Half of a TPUv2 Pod"). Only what the text states is
read: an instance type the price snapshot sells, a GPU model with its count, nodes or machines.
Where two statements disagree, or nothing is stated plainly, the entry is not re-priced; a wrong
reading would put a wrong price on someone else's result.
"""
from __future__ import annotations

import re
from typing import Any

from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.catalog import Snapshot

# GPU models the entries name (and the snapshot's own, added at run time); a word outside these
# ("AC922", a server) is not taken for a GPU.
GPU_WORDS = ("V100", "P100", "K80", "M60", "T4", "A100", "H100", "H200", "A10G", "L4", "P4000",
             "M4000")
_NODES = re.compile(r"\b(\d+)\s+(?:nodes|machines)\b", re.I)
_CPUS = re.compile(r"\b(\d+)\s*v?CPUs?\b", re.I)
_PREFIX = r"(?:tesla[\s-]*|nvidia\s*)*"

Hardware = dict[str, Any]


def _instance(text: str, snapshot: Snapshot | None) -> tuple[Hardware, str, int | None] | None:
    """(hardware of one instance, its name, a count written just before it) for the first
    instance type of the snapshot the text names."""
    if snapshot is None:
        return None
    for offer in sorted(snapshot.offers, key=lambda o: -len(o.instance_type)):
        # "V100", "C5" (Paperspace's names) read as a GPU or as nothing; cloud instance types
        # the prose names look like "p3.16xlarge"
        if "." not in offer.instance_type:
            continue
        match = re.search(rf"(?:(\d+)\s+)?(?<![\w.-]){re.escape(offer.instance_type)}(?![\w.-])", text)
        if match:
            hardware = ({"gpu_model": offer.gpu_model, "gpu_count": offer.gpu_count} if offer.gpu_count
                        else {"vcpus": offer.vcpus})
            return hardware, offer.instance_type, int(match.group(1)) if match.group(1) else None
    return None


def _gpu(text: str, snapshot: Snapshot | None) -> tuple[str, str] | None:
    """(catalog model, the word as written) of the first GPU the text names."""
    words = set(GPU_WORDS) | {o.gpu_model.split("-")[0] for o in (snapshot.offers if snapshot else [])
                              if o.gpu_model}
    for match in re.finditer(r"(?<![\w.])([A-Za-z]{1,4}\d{1,4}[A-Za-z]?)(-\d+\s*GB)?(?![\w.])", text):
        word = match.group(1).upper()
        if word in words:
            return normalize_gpu_name(word + (match.group(2) or "")) or word, match.group(1)
    return None


def _gpu_counts(text: str, word: str) -> tuple[int | None, int | None]:
    """(nodes, GPUs per node or in all) written around the GPU word: "16 * 8 * V100",
    "8*V100", "V100 * 4 GPU", "V100*1-16GB", "8 K80"."""
    w = re.escape(word)
    both = re.search(rf"\b(\d+)\s*[*x×]\s*(\d+)\s*[*x×]\s*{_PREFIX}{w}", text, re.I)
    if both:
        return int(both.group(1)), int(both.group(2))
    for pattern in (rf"\b(\d+)\s*[*x×]\s*{_PREFIX}{w}", rf"{w}\s*[*x×]\s*(\d+)", rf"\b(\d+)\s+{_PREFIX}{w}\b"):
        found = re.search(pattern, text, re.I)
        if found:
            return None, int(found.group(1))
    return None, None


def _from_gpu_words(text: str, snapshot: Snapshot | None, instance) -> tuple[Hardware | None, str]:
    gpu = _gpu(text, snapshot)
    nodes_match = _NODES.search(text)
    nodes = int(nodes_match.group(1)) if nodes_match else None
    if gpu is None:
        if instance is not None:
            hardware, _, count = instance
            return {**hardware, "nodes": count or nodes or 1}, ""
        return None, "names no GPU model or instance type repro can price"
    model, word = gpu
    stated_nodes, count = _gpu_counts(text, word)
    per_node = "each node" in text.lower() or "per node" in text.lower()
    nodes = stated_nodes or nodes
    count = count or 1
    if nodes and not stated_nodes and not per_node:
        if count % nodes:       # "64 * V100 (8 machines …)": the count is the total
            return None, f"{count} GPUs do not divide over {nodes} machines"
        count //= nodes
    if instance is not None:
        hardware, name, _ = instance
        if hardware.get("gpu_model") != model or hardware.get("gpu_count") != count:
            return None, f"the GPUs ({count} × {model}) and the instance {name} disagree"
    return {"gpu_model": model, "gpu_count": count, "nodes": nodes or 1}, ""


def read_hardware(text: Any, snapshot: Snapshot | None = None) -> tuple[Hardware | None, str]:
    """(hardware or None, how the text was read or why it was not)."""
    if not isinstance(text, str) or not text.strip():
        return None, "no hardware given"
    if re.search(r"\bTPU", text, re.I):
        return None, "TPUs: no offer in repro's price snapshots"
    instance = _instance(text, snapshot)
    if _gpu(text, snapshot) is None and instance is None:
        cpus = _CPUS.search(text)
        if cpus and not re.search(r"\bGPU", text, re.I) and not _NODES.search(text):
            return {"vcpus": int(cpus.group(1)), "nodes": 1}, f"CPU, {cpus.group(1)} vCPUs"
    hardware, why_not = _from_gpu_words(text, snapshot, instance)
    if hardware is None:
        return None, why_not
    return hardware, describe(hardware) + (f" on {instance[1]}" if instance is not None else "")


def describe(hardware: Hardware) -> str:
    """"8 × V100", "16 × (8 × V100)", "CPU, 16 vCPUs"."""
    one = (f"{hardware['gpu_count']} × {hardware['gpu_model']}" if hardware.get("gpu_count")
           else f"CPU, {hardware.get('vcpus')} vCPUs")
    nodes = hardware.get("nodes") or 1
    return f"{nodes} × ({one})" if nodes > 1 else one
