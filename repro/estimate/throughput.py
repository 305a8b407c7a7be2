"""Training images/s of a model at a resolution and precision on N GPUs of a model, from the shipped
table (tables.figures), by these rules, in this order; every answer says which it used:

1. **figure**: the table has this model, size, precision, GPU and count: used as published.
2. **GPU count**: the table has the GPU at one count, not this one: images/s per GPU × count ×
   efficiency, the efficiency taken from the same series' own 1- vs N-GPU figures for that GPU
   (eff(c) = eff(N) ** (log2 c / log2 N)), or, where it has none, the mean over every such pair in
   the table.
3. **other series**: the preferred series (tables.SERIES_ORDER) lacks the GPU, another series has it
   and a GPU the preferred one has: preferred figure × that series' ratio between the two GPUs, so
   figures from different benchmarks are never ranked against each other directly.
4. **GPU specs**: no series has the GPU: the figure of the preferred series' GPU closest in specs ×
   min(dense tensor TFLOPS ratio, memory bandwidth ratio): a roofline-style bound where the resource
   that grows least (or shrinks most) sets the speed. Checked on the table's own figures in
   docs/estimate.md.
5. **FLOPs**: the table has no figure for this model or size: the figure with the nearest forward
   FLOPs per image (log scale), × its FLOPs / this model's FLOPs (repro.estimate.flops); not beyond
   MAX_FLOPS_RATIO, where a GPU's utilisation differs too much between the two for the ratio to hold.

Everything but rule 1 is marked scaled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from repro.estimate import tables
from repro.recipes import ModelSpec


MAX_FLOPS_RATIO = 10.0


class NoFigure(ValueError):
    """No figure and no rule reaches this model, precision or GPU; the message says which."""


@dataclass(frozen=True)
class Throughput:
    images_per_s: float
    scaled: bool
    how: str                     # one line: which figure, which rules
    sources: tuple[str, ...]


def precision_class(precision: str) -> str:
    """bf16 runs on the same tensor cores at the same rate as fp16; the table states fp16 and fp32."""
    return "fp32" if precision == "fp32" else "fp16"


def _key(f: tables.Figure) -> tuple:
    return (f.model, f.width, f.depth, f.image_size)


def _spec_key(spec: ModelSpec, image_size: int) -> tuple:
    return (spec.name, spec.width, spec.depth, image_size)


def _by_series(figs: list[tables.Figure]) -> dict[str, dict[str, dict[int, tables.Figure]]]:
    """series → GPU model (upper case) → count → figure."""
    out: dict[str, dict[str, dict[int, tables.Figure]]] = {}
    for f in figs:
        out.setdefault(f.series, {}).setdefault(f.gpu_model.upper(), {})[f.gpu_count] = f
    return {s: out[s] for s in tables.SERIES_ORDER if s in out}


def mean_efficiency() -> float:
    """Mean multi-GPU efficiency over every 1- vs N-GPU pair (largest N) in the table."""
    effs = []
    groups: dict[tuple, dict[int, float]] = {}
    for f in tables.figures():
        groups.setdefault((_key(f), f.precision, f.series, f.gpu_model.upper()), {})[f.gpu_count] = f.images_per_s
    for counts in groups.values():
        top = max(counts)
        if top > 1 and 1 in counts:
            effs.append(counts[top] / (top * counts[1]))
    return sum(effs) / len(effs)


def efficiency(count: int, counts: dict[int, tables.Figure] | None = None) -> tuple[float, str]:
    """Multi-GPU efficiency at `count` GPUs (1.0 at one GPU) and where it came from."""
    if count <= 1:
        return 1.0, ""
    if counts and 1 in counts and max(counts) > 1:
        top = max(counts)
        eff_top = counts[top].images_per_s / (top * counts[1].images_per_s)
        where = f"{top}- vs 1-GPU figures of the same series ({eff_top:.0%} at {top})"
    else:
        top, eff_top = 8, mean_efficiency()
        where = f"mean 8- vs 1-GPU efficiency of the table's pairs ({eff_top:.0%})"
    return eff_top ** (math.log2(count) / math.log2(top)), where


def _at_count(counts: dict[int, tables.Figure], count: int) -> tuple[float, str, bool]:
    """images/s of `count` GPUs from one series' figures for one GPU model."""
    if count in counts:
        f = counts[count]
        return f.images_per_s, f"{count} × {f.gpu_model}: {f.images_per_s:,.0f} img/s ({f.series})", False
    base_count = 1 if 1 in counts else min(counts)
    per_gpu = counts[base_count].images_per_s / base_count
    eff, where = efficiency(count, counts)
    f = counts[base_count]
    text = (f"{base_count} × {f.gpu_model} {f.images_per_s:,.0f} img/s ({f.series}) → {count} GPUs at "
            f"{eff:.0%} efficiency ({where})")
    return per_gpu * count * eff, text, True


def spec_ratio(to_gpu: str, from_gpu: str, precision: str) -> float | None:
    """Rule 4's speed ratio of `to_gpu` over `from_gpu`; None when either has no spec figures."""
    specs = tables.gpu_specs()
    a, b = specs.get(to_gpu.upper()), specs.get(from_gpu.upper())
    if a is None or b is None:
        return None
    compute = (a.fp32_tflops / b.fp32_tflops if precision == "fp32"
               else a.fp16_tensor_tflops / b.fp16_tensor_tflops)
    return min(compute, a.memory_gb_per_s / b.memory_gb_per_s)


def _other_series(series: dict, primary: str, gpu: str, count: int) -> tuple[float, str, list] | None:
    """Rule 3: the preferred series' figure for a shared GPU × another series' ratio."""
    mine = series[primary]
    for name, gpus in series.items():
        if name == primary or gpu not in gpus or 1 not in gpus[gpu]:
            continue
        for anchor in mine:
            if anchor in gpus and 1 in gpus[anchor]:
                base, text, _ = _at_count(mine[anchor], count)
                ratio = gpus[gpu][1].images_per_s / gpus[anchor][1].images_per_s
                how = (f"{text} × {name}'s {gpus[gpu][1].gpu_model}/{gpus[anchor][1].gpu_model} ratio "
                       f"{gpus[gpu][1].images_per_s:,.0f}/{gpus[anchor][1].images_per_s:,.0f}")
                return base * ratio, how, [gpus[gpu][1], gpus[anchor][1], *mine[anchor].values()]
    return None


def _spec_scaled(mine: dict, gpu: str, count: int, precision: str) -> tuple[float, str, list]:
    """Rule 4: the preferred series' GPU nearest in specs, × the roofline-style spec ratio."""
    ratios = {anchor: spec_ratio(gpu, anchor, precision) for anchor in mine}
    usable = {a: r for a, r in ratios.items() if r is not None}
    if not usable:
        known = ", ".join(sorted(tables.gpu_specs()))
        raise NoFigure(f"no throughput figure for {gpu} and no spec figures to scale one to it "
                       f"(GPU specs known for {known})")
    anchor = min(usable, key=lambda a: abs(math.log(usable[a])))
    base, text, _ = _at_count(mine[anchor], count)
    how = f"{text} × {usable[anchor]:.3g} ({gpu} vs {anchor}: min of tensor TFLOPS and memory bandwidth ratios)"
    spec_sources = [tables.gpu_specs()[gpu.upper()].source, tables.gpu_specs()[anchor].source]
    return base * usable[anchor], how, [*mine[anchor].values(), *spec_sources]


def _from_figures(figs: list[tables.Figure], gpu: str, count: int, precision: str) -> Throughput:
    series = _by_series(figs)
    primary = next(iter(series))
    gpu = gpu.upper()
    if gpu in series[primary]:
        ips, how, scaled = _at_count(series[primary][gpu], count)
        return Throughput(ips, scaled, how, tuple(sorted({f.source for f in series[primary][gpu].values()})))
    found = _other_series(series, primary, gpu, count) or _spec_scaled(series[primary], gpu, count, precision)
    ips, how, used = found
    sources = {u.source if isinstance(u, tables.Figure) else u for u in used}
    return Throughput(ips, True, how, tuple(sorted(sources)))


def images_per_s(spec: ModelSpec, image_size: int, precision: str, gpu_model: str, gpu_count: int,
                 channels: int = 3) -> Throughput:
    """Training images/s of `gpu_count` × `gpu_model` for this model at this size (see the rules above)."""
    prec = precision_class(precision)
    figs = [f for f in tables.figures() if f.precision == prec]
    if not figs:
        raise NoFigure(f"the throughput table has no {prec} figure")
    exact = [f for f in figs if _key(f) == _spec_key(spec, image_size)]
    if exact:
        return _from_figures(exact, gpu_model, gpu_count, prec)
    return _flops_scaled(figs, spec, image_size, prec, gpu_model, gpu_count, channels)


def _flops_scaled(figs: list[tables.Figure], spec: ModelSpec, image_size: int, prec: str, gpu_model: str,
                  gpu_count: int, channels: int) -> Throughput:
    """Rule 5: the figure nearest in forward FLOPs per image, scaled by the FLOPs ratio."""
    from repro.estimate.flops import forward_flops

    mine = forward_flops(spec, channels, image_size)
    groups: dict[tuple, list[tables.Figure]] = {}
    for f in figs:
        groups.setdefault(_key(f), []).append(f)
    flops = {key: forward_flops(ModelSpec(name=g[0].model, num_classes=g[0].num_classes, width=g[0].width,
                                          depth=g[0].depth), 3, g[0].image_size) for key, g in groups.items()}
    nearest = min(groups, key=lambda key: abs(math.log(flops[key] / mine)))
    ref = groups[nearest][0]
    if not 1 / MAX_FLOPS_RATIO <= flops[nearest] / mine <= MAX_FLOPS_RATIO:
        raise NoFigure(f"no throughput figure for {spec.name} at {image_size} px ({mine / 1e9:.3g} GFLOPs/image), "
                       f"and the nearest, {ref.model} at {ref.image_size} px ({flops[nearest] / 1e9:.3g} GFLOPs), "
                       f"is more than {MAX_FLOPS_RATIO:g}× away; measure it (--calibrate on that GPU, or a run)")
    base = _from_figures(groups[nearest], gpu_model, gpu_count, prec)
    ratio = flops[nearest] / mine
    how = (f"{base.how}, for {ref.model} at {ref.image_size} px ({flops[nearest] / 1e9:.3g} GFLOPs/image) "
           f"× {ratio:.3g} for {spec.name} at {image_size} px ({mine / 1e9:.3g} GFLOPs/image)")
    return Throughput(base.images_per_s * ratio, True, how, base.sources)
