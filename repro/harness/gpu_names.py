"""Normalise the GPU name a driver reports to the model name price catalogs use.

`nvidia-smi` / `torch.cuda.get_device_name()` say "Tesla V100-SXM2-16GB", "NVIDIA A100-SXM4-80GB",
"NVIDIA H100 80GB HBM3"; cloud catalogs (SkyPilot's, ours) say V100, A100-80GB, H100. We keep a
memory variant only where the catalogs sell it as a different product (V100-32GB on p3dn,
A100-80GB on p4de), so a run is never priced on a card with less memory than it used.
"""
from __future__ import annotations

import re

# (pattern over the upper-cased name, model when the memory is the base size, {GiB: variant})
_FAMILIES: tuple[tuple[str, str, dict[int, str]], ...] = (
    (r"\bH200\b", "H200", {}),
    (r"\bH100\b", "H100", {}),
    (r"\bGH200\b", "GH200", {}),
    (r"\bA100\b", "A100", {80: "A100-80GB"}),
    (r"\bA10G\b", "A10G", {}),
    (r"\bA10\b", "A10", {}),
    (r"\bL40S\b", "L40S", {}),
    (r"\bL40\b", "L40", {}),
    (r"\bL4\b", "L4", {}),
    (r"\bV100S?\b", "V100", {32: "V100-32GB"}),
    (r"\bP100\b", "P100", {}),
    (r"\bT4\b", "T4", {}),
    (r"\bK80\b", "K80", {}),
    (r"\bM60\b", "M60", {}),
    (r"\bA6000\b", "A6000", {}),
    (r"\bA5000\b", "A5000", {}),
    (r"\bA4000\b", "A4000", {}),
    (r"\bP6000\b", "P6000", {}),
    (r"\bP5000\b", "P5000", {}),
    (r"\bP4000\b", "P4000", {}),
    (r"\bM4000\b", "M4000", {}),
    (r"\bRTX\s*4000\b", "RTX4000", {}),
    (r"\bRTX\s*5000\b", "RTX5000", {}),
)

_MEMORY = re.compile(r"(\d+)\s*G(?:I?B)?\b")


def normalize_gpu_name(name: str | None) -> str | None:
    """Map a reported GPU name to a catalog model name; None for no GPU.

    >>> normalize_gpu_name("Tesla V100-SXM2-16GB")
    'V100'
    >>> normalize_gpu_name("NVIDIA A100-SXM4-80GB")
    'A100-80GB'

    An unknown name is returned cleaned (upper-case, without vendor prefix) rather than guessed,
    so matching fails visibly ("no offer with 1 x QUADRO GV100") instead of pricing another card.
    """
    if name is None:
        return None
    cleaned = " ".join(str(name).replace("_", " ").split()).upper()
    if not cleaned:
        return None
    for pattern, model, variants in _FAMILIES:
        if re.search(pattern, cleaned):
            if variants:
                for match in _MEMORY.finditer(cleaned):
                    variant = variants.get(int(match.group(1)))
                    if variant:
                        return variant
            return model
    for prefix in ("NVIDIA ", "TESLA ", "GEFORCE "):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix):]
    return cleaned


def known_gpu_model(name: str | None) -> str | None:
    """The catalog model of a name that belongs to a GPU family repro knows ("V100", "Tesla V100-32GB",
    "RTX 4000"), else None: unlike normalize_gpu_name, a word that names no known GPU ("AC922", a
    server; "GTX") is not returned as a model."""
    cleaned = " ".join(str(name or "").replace("_", " ").split()).upper()
    if not any(re.search(pattern, cleaned) for pattern, _, _ in _FAMILIES):
        return None
    return normalize_gpu_name(cleaned)
