"""`repro estimate` and `--estimate` as a user runs them."""
import json

from repro.pricing.catalog import load_snapshot
from tests.conftest import run_cli


def test_airbench_on_one_h100_lists_every_matching_offer_with_time_cost_and_basis(tmp_path):
    r = run_cli("estimate", "cifar-airbench", "--gpu", "H100:1", "--market", "all", "--runs-from", str(tmp_path))
    assert r.returncode == 0, r.stderr
    offers = load_snapshot().find(gpu_model="H100", gpu_count=1)
    assert offers, "the snapshot sells a single H100"
    for offer in offers:                           # every offer, not only the cheapest per provider and market
        (line,) = [l for l in r.stdout.splitlines()
                   if f" {offer.provider} {offer.market} {offer.instance_type} (" in l]
        assert "1 × H100" in line and " s (" in line and "benchmark $" in line and "[table, scaled]" in line
    assert "cheapest" in r.stdout and "fastest" in r.stdout and "billed $" in r.stdout
    assert "no offer: 1 × H100 aws on-demand" in r.stdout            # AWS sells H100 only 8 to an instance
    assert "basis for 1 × H100: scaled throughput table" in r.stdout and "airbench" in r.stdout


def test_json_has_one_record_per_offer_with_numbers_as_numbers(tmp_path):
    r = run_cli("estimate", "cifar-airbench", "--gpu", "V100", "--market", "spot", "--json",
                "--runs-from", str(tmp_path))
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    offers = [d for d in docs if d["type"] == "offer"]
    (summary,) = [d for d in docs if d["type"] == "estimate"]
    assert offers and {o["market"] for o in offers} == {"spot"} and {o["gpu_model"] for o in offers} == {"V100"}
    for o in offers:
        assert isinstance(o["billed_usd"], float) and isinstance(o["time_to_target_s"], float)
        assert o["basis"] == "table" and o["rank"] >= 1
    assert summary["recipe"] == "cifar-airbench" and summary["epochs_to_target"]["kind"] == "published"


def test_an_unknown_gpu_lists_the_models_the_snapshot_has(tmp_path):
    r = run_cli("estimate", "cifar-airbench", "--gpu", "X100:1", "--runs-from", str(tmp_path))
    assert r.returncode == 1 and r.stdout == ""
    (line,) = r.stderr.strip().splitlines()
    models = sorted({o.gpu_model for o in load_snapshot().offers if o.gpu_model})
    assert line.startswith("repro: error: unknown GPU 'X100'")
    assert all(m in line for m in models)


def test_help_ends_with_examples():
    r = run_cli("estimate", "--help")
    assert r.returncode == 0 and "repro estimate cifar-airbench --gpu H100:1 --market all" in r.stdout


def test_train_with_estimate_keeps_it_in_run_json(tmp_path):
    r = run_cli("digits", "--estimate", "--epochs", "2", "--target", "0.5", "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "estimate: " in r.stderr and "kept in run.json" in r.stderr
    (run_json,) = tmp_path.glob("digits/*/run.json")
    est = json.loads(run_json.read_text())["estimate"]
    assert est["basis"] == "calibrated" and est["hardware"].startswith("CPU")
    assert 0 < est["low_s"] <= est["time_to_target_s"] <= est["high_s"]
    assert est["epochs_to_target"]["kind"] in ("published", "upper-bound") and est["recipe_hash"].startswith("sha256:")
