"""What hardware a DAWNBench entry's free-text `hardware` field names, as run.json's `hardware`
(`gpu_model`, `gpu_count` of the whole run, `gpus_per_node`, `nodes`; or `vcpus` and `nodes`), with
how it was read, or None and why it is not priced.

The field is prose ("8 * V100 (AWS p3.16xlarge)", "Tesla V100 * 4 GPU / 488 GB / 56 CPU",
"64 * V100 (8 machines - AWS p3.16xlarge)", "Half of a TPUv2 Pod"; the strings of
stanford-futuredata/dawn-bench-entries), or the label `repro export dawnbench` writes
(repro.harness.hardware.label: "2 × 8 × V100", "CPU, 2 vCPUs"). Only what the text states is read:
an instance type the price snapshot sells, a GPU model repro knows with its count, nodes or
machines. Where two statements disagree, or nothing is stated plainly, the entry is not priced; a
wrong reading would put a wrong price on someone else's result. `parse_spec` is the way to say
what the text does not ("V100:8").
"""
from __future__ import annotations

import re
from typing import Any

from repro.harness.gpu_names import known_gpu_model, normalize_gpu_name
from repro.harness.hardware import label
from repro.pricing.catalog import Snapshot

_NODES = re.compile(r"\b(\d+)\s+(?:nodes|machines)\b", re.I)
_CPUS = re.compile(r"\b(\d+)\s*v?CPUs?\b", re.I)
_CPU_NODES = re.compile(r"\b(\d+)\s*[*x×]\s*CPU\b", re.I)          # the label's "2 × CPU, 8 vCPUs"
_PER_NODE = re.compile(r"\b(?:each|per) node\b", re.I)
_PREFIX = r"(?:tesla[\s-]*|nvidia\s*)*"
_MEMORY = r"(?:-\d+\s*GB)?"
_TIMES = r"\s*[*x×]\s*"

Hardware = dict[str, Any]


def gpu_hardware(model: str, per_node: int, nodes: int = 1) -> Hardware:
    return {"accelerator": "cuda", "gpu_model": model, "gpu_count": per_node * nodes,
            "gpus_per_node": per_node, "nodes": nodes}


def cpu_hardware(vcpus: int, nodes: int = 1) -> Hardware:
    return {"accelerator": "cpu", "gpu_count": 0, "vcpus": vcpus, "nodes": nodes}


def parse_spec(spec: str, nodes: int = 1) -> Hardware:
    """`V100:8` (SkyPilot's accelerator syntax: GPUs per node) or `cpu:8` (vCPUs) on `nodes` nodes,
    as run.json hardware; ValueError saying how to write it."""
    model, _, count = spec.partition(":")
    try:
        number = int(count or 1)
    except ValueError:
        number = 0
    if number < 1 or nodes < 1 or not model.strip():
        raise ValueError(f"hardware {spec!r}: write MODEL:COUNT with COUNT >= 1, e.g. V100:8 or cpu:8")
    if model.strip().lower() == "cpu":
        return cpu_hardware(number, nodes)
    return gpu_hardware(normalize_gpu_name(model), number, nodes)


def _instance(text: str, snapshot: Snapshot | None) -> tuple[Hardware, str, int | None] | None:
    """(one instance's hardware, its name, a count written just before it: "16 p3.16xlarge",
    "2 x p3.16xlarge") for the first instance type of the snapshot the text names."""
    if snapshot is None:
        return None
    for offer in sorted(snapshot.offers, key=lambda o: -len(o.instance_type)):
        # "V100", "C5" (Paperspace's names) read as a GPU or as nothing; cloud instance types
        # the prose names look like "p3.16xlarge"
        if "." not in offer.instance_type:
            continue
        match = re.search(rf"(?:\b(\d+)(?:{_TIMES}|\s+))?(?<![\w.-]){re.escape(offer.instance_type)}(?![\w.-])",
                          text)
        if match:
            hardware = (gpu_hardware(offer.gpu_model, offer.gpu_count) if offer.gpu_count
                        else cpu_hardware(offer.vcpus))
            return hardware, offer.instance_type, int(match.group(1)) if match.group(1) else None
    return None


def _gpu(text: str, snapshot: Snapshot | None) -> tuple[str, str] | None:
    """(catalog model, the word as written) of the first GPU the text names: a model repro knows
    or one the snapshot sells."""
    sold = {o.gpu_model.split("-")[0] for o in (snapshot.offers if snapshot else []) if o.gpu_model}
    for match in re.finditer(r"(?<![\w.])([A-Za-z]{1,4}\d{1,4}[A-Za-z]?)(-\d+\s*GB)?(?![\w.])", text):
        word, memory = match.group(1), match.group(2) or ""
        model = known_gpu_model(word + memory) or (normalize_gpu_name(word + memory)
                                                   if word.upper() in sold else None)
        if model:
            return model, word
    return None


def _gpu_counts(text: str, word: str) -> tuple[int | None, int | None]:
    """(nodes, GPUs per node or in all) written around the GPU word: "16 * 8 * V100",
    "8*V100", "V100 * 4 GPU", "V100*1-16GB", "A100-80GB x 8", "8 K80"."""
    w = re.escape(word)
    both = re.search(rf"\b(\d+){_TIMES}(\d+){_TIMES}{_PREFIX}{w}", text, re.I)
    if both:
        return int(both.group(1)), int(both.group(2))
    for pattern in (rf"\b(\d+){_TIMES}{_PREFIX}{w}", rf"{w}{_MEMORY}{_TIMES}(\d+)", rf"\b(\d+)\s+{_PREFIX}{w}\b"):
        found = re.search(pattern, text, re.I)
        if found:
            return None, int(found.group(1))
    return None, None


def _nodes(*stated: int | None) -> tuple[int | None, str]:
    """The one machine count the text states, or why not."""
    counts = sorted({n for n in stated if n is not None})
    if len(counts) > 1:
        return None, f"the text names {' and '.join(map(str, counts))} machines"
    return (counts[0] if counts else 1), ""


def _from_gpu_words(text: str, snapshot: Snapshot | None, instance) -> tuple[Hardware | None, str]:
    gpu = _gpu(text, snapshot)
    written = _NODES.search(text)
    machines = int(written.group(1)) if written else None
    before_instance = instance[2] if instance is not None else None
    if gpu is None:
        if instance is None:
            return None, "names no GPU model or instance type repro can price"
        nodes, why_not = _nodes(machines, before_instance)
        return (None, why_not) if nodes is None else ({**instance[0], **_scaled(instance[0], nodes)}, "")
    model, word = gpu
    stated_nodes, count = _gpu_counts(text, word)
    nodes, why_not = _nodes(stated_nodes, machines, before_instance)
    if nodes is None:
        return None, why_not
    count = count or 1
    if nodes > 1 and not stated_nodes and not _PER_NODE.search(text):
        if count % nodes:       # "64 * V100 (8 machines …)": the count is the total
            return None, f"{count} GPUs do not divide over {nodes} machines"
        count //= nodes
    if instance is not None:
        hardware, name, _ = instance
        if hardware.get("gpu_model") != model or hardware.get("gpus_per_node") != count:
            return None, f"the GPUs ({count} × {model}) and the instance {name} disagree"
    return gpu_hardware(model, count, nodes), ""


def _scaled(one_node: Hardware, nodes: int) -> Hardware:
    if one_node.get("gpu_count"):
        return {"gpu_count": one_node["gpus_per_node"] * nodes, "nodes": nodes}
    return {"nodes": nodes}


def _cpu_only(text: str) -> Hardware | None:
    """vCPUs of a text that names no GPU and no machines beside the label's "N × CPU"."""
    cpus = _CPUS.search(text)
    if not cpus or re.search(r"\bGPU", text, re.I) or _NODES.search(text):
        return None
    nodes = _CPU_NODES.search(text)
    return cpu_hardware(int(cpus.group(1)), int(nodes.group(1)) if nodes else 1)


def read_hardware(text: Any, snapshot: Snapshot | None = None) -> tuple[Hardware | None, str]:
    """(run.json hardware or None, how the text was read or why it was not)."""
    if not isinstance(text, str) or not text.strip():
        return None, "no hardware given"
    if re.search(r"\bTPU", text, re.I):
        return None, "TPUs: no offer in repro's price snapshots"
    instance = _instance(text, snapshot)
    if _gpu(text, snapshot) is None and instance is None:
        cpu = _cpu_only(text)
        if cpu is not None:
            return cpu, label(cpu)
    hardware, why_not = _from_gpu_words(text, snapshot, instance)
    if hardware is None:
        return None, why_not
    return hardware, label(hardware) + (f" on {instance[1]}" if instance is not None else "")
