"""Provenance: what is recorded, and what never is."""
import json
import re

import pytest

from repro import api
from repro.harness import provenance


def test_redact_replaces_secret_values_everywhere():
    secrets = ["s3cr3t-value"]
    obj = {"cmd": ["repro", "--key=s3cr3t-value"], "nested": {"x": "a s3cr3t-value b"}, "n": 3}
    out = provenance.redact(obj, secrets)
    assert "s3cr3t-value" not in json.dumps(out)
    assert out["n"] == 3 and out["cmd"][0] == "repro"


ENV = {"AWS_SECRET_ACCESS_KEY": "AKIAsecretVALUE123", "GITHUB_TOKEN": "ghp_abc123456",
       "XDG_SESSION_ID": "2026", "DATABASE_URL": "postgres://admin:Pa55w0rdDB@db.internal/prod",
       "AUTH_MODE": "true", "HOME": "/root"}


def test_secret_values_come_from_names_and_from_urls_in_any_variable():
    found = provenance.secret_values(ENV)
    assert set(found) == {"AKIAsecretVALUE123", "ghp_abc123456", "2026", "Pa55w0rdDB"}   # "true" is a switch


@pytest.mark.parametrize("text, expected", [
    ("key AKIAsecretVALUE123 tok ghp_abc123456 db postgres://admin:Pa55w0rdDB@host/db",
     "key [redacted] tok [redacted] db postgres://admin:***@host/db"),
    ("--note=ghp_abc123456", "--note=[redacted]"),
    ("the password is Pa55w0rdDB.", "the password is [redacted]."),
    ("https://x-access-token:ghp_zzz@github.com/o/r.git", "https://x-access-token:***@github.com/o/r.git"),
    ("https://ghp_zzz@github.com/o/r", "https://***@github.com/o/r"),
    ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),               # an account, not a token
    ("s3://b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc&v=1#f", "s3://b/k?X-Amz-Credential=***&X-Amz-Signature=***&v=1#f"),
    ("https://user:p@ss:w0rd@host/", "https://user:***@host/"),
    ("http://user:[broken@host/x", "http://user:***@host/x"),
    # whole values only: never a part of an id, a timestamp or a word
    ("20261129T170757Z-2026ab", "20261129T170757Z-2026ab"),
    ("2026-11-29T17:07:57.194999Z", "2026-11-29T17:07:57.194999Z"),
    ("run 2026 of 2027", "run [redacted] of 2027"),
    ("Pa55w0rdDBx and xPa55w0rdDB", "Pa55w0rdDBx and xPa55w0rdDB"),
])
def test_redaction_by_value(text, expected):
    assert provenance.Redactor(provenance.secret_values(ENV)).text(text) == expected


def test_a_redacted_url_still_parses():
    from urllib.parse import urlsplit
    url = provenance.redact_url("https://user:hunter2@example.com:8443/p?token=abc")
    parts = urlsplit(url)
    assert (parts.hostname, parts.port, parts.password) == ("example.com", 8443, "***")
    assert "hunter2" not in url and "abc" not in url


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


SECRETS = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLE",
           "GITHUB_TOKEN": "ghp_0123456789abcdefEXAMPLE", "HF_TOKEN": "hf_EXAMPLEtokenVALUE",
           "PGPASSWORD": "PgPass4242", "DATABASE_URL": "postgresql://app:DbUrlPass77@db.internal:5432/runs"}


def test_no_secret_reaches_any_file_of_a_run_or_its_report(tmp_path):
    """The AWS/GitHub/HF/PG variables, a DATABASE_URL with a password and URL credentials in --set
    values: 0 hits anywhere on disk, in the results and in the site; XDG_SESSION_ID=2026 (a
    secret-named variable whose value is part of every date this year) leaves ids and times intact."""
    from tests.conftest import run_cli

    env = {**SECRETS, "XDG_SESSION_ID": "2026"}
    description = (f"key {SECRETS['AWS_SECRET_ACCESS_KEY']} tok {SECRETS['GITHUB_TOKEN']} "
                   "db postgres://admin:Pa55w0rdDB@host/db")
    results, site = tmp_path / "results", tmp_path / "site"
    out = run_cli("digits", "--epochs", "1", "--runs", "2", "--results", str(results),
                  "--set", f"description={description}", "--set", "published_claim=a claim",
                  "--set", "published_source=https://reader:UrlPass987@example.com/paper", env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert run_cli("report", "--results", str(results), "--out", str(site), env=env).returncode == 0
    needles = [*SECRETS.values(), "DbUrlPass77", "Pa55w0rdDB", "UrlPass987"]
    files = [p for p in [*results.rglob("*"), *site.rglob("*")] if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "mllog.log", "cost.json", "metrics.tsv", "index.html"}
    assert any(p.name.startswith("group-") for p in files)
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, (path, needle)
    record = json.loads(next(results.glob("digits/*/run.json")).read_text())
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", record["run_id"])
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", record["group_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", record["started_at"])
    assert record["config"]["description"] == "key [redacted] tok [redacted] db postgres://admin:***@host/db"
    assert record["published"]["source"] == "https://reader:***@example.com/paper"
    page = next(site.glob("runs/digits/*.html")).read_text()
    assert 'href="https://reader:***@example.com/paper"' in page     # a redacted URL still renders
