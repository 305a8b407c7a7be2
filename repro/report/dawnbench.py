"""Export a run as a DAWNBench entry: `<name>.json` (the fields of the dawn-bench-entries repo's
submissions) plus `<name>.tsv` (epoch, hours, top1Accuracy[, top5Accuracy]). Like the HTML report it
only reads the run directory, cost.json included, through repro.harness.store: no symbolic link is
followed and every record is checked against its schema. A run.json that fails is an error naming
the field; a cost.json that fails leaves the entry without a price and says why."""
from __future__ import annotations

from pathlib import Path

from repro.harness import hardware, store
from repro.report.summary import slug

DAWNBENCH_VERSION = "v1.0"


def _on_demand_rate(cost: dict | None) -> tuple[float | None, dict | None]:
    """DAWNBench priced entries at the on-demand rate of the instance used; we take the first
    on-demand row of cost.json (the instance the run was priced as) and cite it."""
    for row in (cost or {}).get("rows", []):
        if row.get("market") == "on-demand":
            return float(row["usd_per_hour"]), row
    return None, None


def _cost(rec: store.RunRecord) -> tuple[dict | None, str | None]:
    """(cost.json, None) or (None, why there is no usable one)."""
    try:
        return rec.cost(), None
    except store.StoreError as exc:
        return None, str(exc)


def build_entry(run_dir: Path, *, author: str, email: str, code_url: str) -> dict:
    rec = store.load_run(run_dir)
    d = rec.data
    cost, cost_problem = _cost(rec)
    rate, row = _on_demand_rate(cost)
    name = slug(f"{d['recipe']}-{d['run_id']}")   # a file name: a recipe may hold "/" or ".."
    provenance = d.get("provenance") or {}
    outcome = d["outcome"]
    model = (d.get("config") or {}).get("model")
    if row:
        rate_source = {"instance": row["instance_type"], "provider": row["provider"], "source": row.get("source"),
                       "snapshot_id": cost.get("snapshot_id")}
    else:
        rate_source = cost_problem or "no on-demand offer matched this hardware; run `repro prices`"
    return {
        "version": DAWNBENCH_VERSION,
        "author": author,
        "authorEmail": email,
        "framework": f"PyTorch {provenance.get('torch')} (repro)",
        "codeURL": code_url,
        "model": model.get("name") if isinstance(model, dict) else None,
        "hardware": hardware.label(d.get("hardware")),
        "costPerHour": rate,
        "timestamp": d["started_at"][:10],
        "logFilename": f"{name}.tsv",
        "misc": {
            "recipe": d["recipe"], "recipe_hash": d.get("recipe_hash"), "seed": d["seed"], "status": d["status"],
            "target": d["target"], "reached": outcome["reached"],
            "time_to_target_s_dawnbench_rule": outcome.get("time_to_target_dawnbench_s"),
            "time_to_target_s_mlperf_rule": outcome.get("time_to_target_s"),
            "git_sha": provenance.get("git_sha"), "image_digest": provenance.get("image_digest"),
            "synthetic_data": d.get("synthetic_data"), "data_verified": d.get("data_verified"),
            "costPerHour_source": rate_source,
        },
    }


def export_dawnbench(run_dir: Path, out_dir: Path | None = None, *, author: str = "repro", email: str = "",
                     code_url: str = "") -> list[Path]:
    run_dir = Path(run_dir)
    entry = build_entry(run_dir, author=author, email=email, code_url=code_url)
    tsv = run_dir / store.METRICS_FILE
    try:
        table = store.read_bytes(tsv).decode("utf-8")
    except FileNotFoundError:
        raise store.StoreError(f"{tsv}: missing; the run ended before its first epoch, nothing to export") from None
    except UnicodeDecodeError:
        raise store.UnreadableRecord(tsv, "not UTF-8 text") from None
    out_dir = Path(out_dir) if out_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / entry["logFilename"].replace(".tsv", ".json")
    tsv_path = out_dir / entry["logFilename"]
    store.atomic_write_json(json_path, entry)
    store.atomic_write_text(tsv_path, table)
    return [json_path, tsv_path]
