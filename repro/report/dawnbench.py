"""Export a run as a DAWNBench entry: `<name>.json` (the fields of the dawn-bench-entries repo's
submissions) plus `<name>.tsv` (epoch, hours, top1Accuracy[, top5Accuracy]). Like the HTML report it
only reads the run directory, cost.json included."""
from __future__ import annotations

import shutil
from pathlib import Path

from repro.harness import hardware, store

DAWNBENCH_VERSION = "v1.0"


def _on_demand_rate(cost: dict | None) -> tuple[float | None, dict | None]:
    """DAWNBench priced entries at the on-demand rate of the instance used; we take the first
    on-demand row of cost.json (the instance the run was priced as) and cite it."""
    for row in (cost or {}).get("rows", []):
        if row.get("market") == "on-demand":
            return float(row["usd_per_hour"]), row
    return None, None


def build_entry(run_dir: Path, *, author: str, email: str, code_url: str) -> dict:
    rec = store.load_run(run_dir)
    d = rec.data
    cost = rec.cost()
    rate, row = _on_demand_rate(cost)
    name = f"{d['recipe']}-{d['run_id']}"
    return {
        "version": DAWNBENCH_VERSION,
        "author": author,
        "authorEmail": email,
        "framework": f"PyTorch {d['provenance'].get('torch')} (repro)",
        "codeURL": code_url,
        "model": d["config"]["model"]["name"],
        "hardware": hardware.label(d.get("hardware")),
        "costPerHour": rate,
        "timestamp": d["started_at"][:10],
        "logFilename": f"{name}.tsv",
        "misc": {
            "recipe": d["recipe"], "recipe_hash": d["recipe_hash"], "seed": d["seed"], "status": d["status"],
            "target": d["target"], "reached": d["outcome"]["reached"],
            "time_to_target_s_dawnbench_rule": d["outcome"]["time_to_target_dawnbench_s"],
            "time_to_target_s_mlperf_rule": d["outcome"]["time_to_target_s"],
            "git_sha": d["provenance"].get("git_sha"), "image_digest": d["provenance"].get("image_digest"),
            "synthetic_data": d.get("synthetic_data"), "data_verified": d.get("data_verified"),
            "costPerHour_source": ({"instance": row["instance_type"], "provider": row["provider"],
                                    "source": row["source"], "snapshot_id": cost.get("snapshot_id")}
                                   if row else "no on-demand offer matched this hardware; run `repro prices`"),
        },
    }


def export_dawnbench(run_dir: Path, out_dir: Path | None = None, *, author: str = "repro", email: str = "",
                     code_url: str = "") -> list[Path]:
    run_dir = Path(run_dir)
    entry = build_entry(run_dir, author=author, email=email, code_url=code_url)
    tsv = run_dir / store.METRICS_FILE
    if not tsv.exists():
        raise store.StoreError(f"{tsv}: missing; the run ended before its first epoch, nothing to export")
    out_dir = Path(out_dir) if out_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / entry["logFilename"].replace(".tsv", ".json")
    tsv_path = out_dir / entry["logFilename"]
    store.atomic_write_json(json_path, entry)
    tmp = tsv_path.with_suffix(".tsv.tmp")
    shutil.copyfile(tsv, tmp)
    tmp.replace(tsv_path)
    return [json_path, tsv_path]
