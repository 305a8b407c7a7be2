"""Provenance: what is recorded, and what never is."""
import json
import re

from repro import api
from repro.harness import provenance


def test_redact_replaces_secret_values_everywhere():
    secrets = ["s3cr3t-value"]
    obj = {"cmd": ["repro", "--key=s3cr3t-value"], "nested": {"x": "a s3cr3t-value b"}, "n": 3}
    out = provenance.redact(obj, secrets)
    assert "s3cr3t-value" not in json.dumps(out)
    assert out["n"] == 3 and out["cmd"][0] == "repro"


def test_run_record_has_full_provenance(digits_group):
    results, summary = digits_group
    rec = summary.runs[0].record
    p = rec["provenance"]
    for key in ("git_sha", "git_dirty", "image_digest", "python", "torch", "cuda", "cudnn", "nccl",
                "driver", "dataset", "recipe_hash", "price_snapshot_id", "hostname", "command"):
        assert key in p, key
    assert re.fullmatch(r"[0-9a-f]{40}", p["git_sha"])
    assert p["dataset"]["checksum"].startswith("sha256:") and p["dataset"]["verified"] is True
    assert p["recipe_hash"] == rec["recipe_hash"].strip() and p["recipe_hash"].startswith("sha256:")
    assert p["price_snapshot_id"]
    hw = rec["hardware"]
    assert hw["vcpus"] >= 1 and hw["cpu_model"] and hw["memory_gib"] > 0 and hw["gpu_count"] == 0


def test_secrets_in_environment_never_reach_the_run_directory(tmp_path, monkeypatch):
    aws = "AKIAEXAMPLESECRETwJalrXUtnFEMI/K7MDENG"
    token = "ghp_exampletoken0123456789abcdef"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws)
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("NCCL_DEBUG_TOKEN", token)  # a recorded-looking prefix must not let it through
    api.train("digits", epochs=1, results_dir=tmp_path,
              command=["repro", "digits", f"--note={token}", aws])
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "run.json" for f in files) and any(f.name == "cost.json" for f in files)
    for f in files:
        text = f.read_text(errors="replace")
        assert aws not in text, f
        assert token not in text, f
    run_json = next(f for f in files if f.name == "run.json")
    assert provenance.REDACTED in run_json.read_text()  # the command line was kept, redacted
