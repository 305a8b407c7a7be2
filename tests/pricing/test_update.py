"""`repro prices update/show`: new snapshots written atomically, failures leave the old one alone."""
from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from repro.cli import main
from repro.pricing.catalog import load_snapshot
from repro.pricing.sources import aws_spot, http
from repro.pricing.update import UpdateFailed, UpdateOptions, update_snapshot

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"
OFFER_PATH = "/offers/v1.0/aws/AmazonEC2/20261120182104/us-east-1/index.json"


@pytest.fixture(autouse=True)
def no_retries(monkeypatch):
    monkeypatch.setattr(http, "_SESSION", http.make_session(retries=0))
    monkeypatch.setattr(aws_spot, "have_credentials", lambda: False)


def serve_aws(httpserver):
    httpserver.expect_request("/offers/v1.0/aws/AmazonEC2/current/region_index.json").respond_with_data(
        (FIX / "aws_region_index.json").read_bytes())
    httpserver.expect_request(OFFER_PATH).respond_with_data((FIX / "aws_offer_us-east-1.json").read_bytes())
    httpserver.expect_request("/spot.js").respond_with_data((FIX / "aws_spot.js").read_text())


def test_update_aws_and_spot_merges_over_base(httpserver, tmp_path):
    serve_aws(httpserver)
    opts = UpdateOptions(sources=("aws", "aws-spot"), aws_base_url=httpserver.url_for("/"),
                         aws_spot_feed_url=httpserver.url_for("/spot.js"), quiet=True)
    with pytest.warns(UserWarning):
        snap = update_snapshot(tmp_path, opts)
    again = load_snapshot(snap.path)
    assert again.id == snap.id and again.id.startswith("prices-")
    aws = {(o.instance_type, o.market): o.usd_per_hour for o in again.offers if o.provider == "aws"}
    assert aws[("p3.16xlarge", "on-demand")] == Decimal("24.48")
    assert aws[("p3.16xlarge", "spot")] == Decimal("7.344")      # from the feed, hardware from on-demand
    assert ("p4d.24xlarge", "on-demand") not in aws               # region refreshed: replaced, not mixed
    paperspace = [o for o in again.offers if o.provider == "paperspace"]
    assert paperspace and all(o.fetched_at.isoformat() == "2026-11-25" for o in paperspace)  # carried over


def test_timeout_leaves_previous_snapshot_untouched(httpserver, tmp_path):
    base_dir = tmp_path / "prices"
    previous = update_snapshot(base_dir, UpdateOptions(sources=("paperspace",), quiet=True))
    before = {p.name: p.read_bytes() for p in base_dir.iterdir()}
    httpserver.expect_request("/offers/v1.0/aws/AmazonEC2/current/region_index.json").respond_with_handler(
        lambda request: time.sleep(1.5) or None)
    opts = UpdateOptions(sources=("paperspace", "aws"), aws_base_url=httpserver.url_for("/"),
                         timeout_s=(0.5, 0.3), quiet=True)
    with pytest.raises(UpdateFailed, match=rf"aws did not answer.*{previous.id}.*left untouched, nothing written"):
        update_snapshot(base_dir, opts, base=load_snapshot(previous.path))
    assert {p.name: p.read_bytes() for p in base_dir.iterdir()} == before


def test_bad_source_name_and_empty_source(tmp_path):
    with pytest.raises(UpdateFailed, match="unknown price source"):
        update_snapshot(tmp_path, UpdateOptions(sources=("gcp-magic",)))
    empty = tmp_path / "vms.csv"
    empty.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region\n")
    with pytest.raises(UpdateFailed, match="no usable offers"):
        update_snapshot(tmp_path, UpdateOptions(sources=("skypilot",), skypilot_catalog=str(empty), quiet=True))
    assert not list(tmp_path.glob("prices-*"))


def test_cli_show_table_and_json(capsys):
    assert main(["prices", "show", "--gpu", "Tesla V100-SXM2-16GB", "--count", "8"]) == 0
    out = capsys.readouterr().out
    assert "p3.16xlarge" in out and "24.48" in out and "2.7531" in out
    assert main(["prices", "show", "--gpu", "V100", "--count", "8", "--market", "spot", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["instance_type"] for r in rows] == ["p3.16xlarge"] and rows[0]["usd_per_hour"] == 2.7531
    assert main(["prices", "show", "--vcpus", "2"]) == 0
    assert "c5.large" in capsys.readouterr().out


def test_cli_show_no_match_exit_code(capsys):
    assert main(["prices", "show", "--gpu", "V100", "--count", "3"]) == 4
    assert "no offer with 3 x V100" in capsys.readouterr().err


def test_cli_update_writes_snapshot(tmp_path, capsys):
    rc = main(["prices", "update", "--source", "paperspace,skypilot", "--skypilot-catalog",
               str(FIX / "skypilot_aws_vms.csv"), "--out", str(tmp_path), "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    snap = load_snapshot(result["path"])
    assert snap.id == result["snapshot_id"] and len(snap.offers) == result["offers"]
    assert any("mac1.metal" in w for w in result["warnings"])  # skipped blank price, reported


def test_cli_update_failure_is_one_line(tmp_path, capsys):
    rc = main(["prices", "update", "--source", "skypilot", "--skypilot-catalog", str(tmp_path / "none.csv"),
               "--out", str(tmp_path), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "none.csv: no such file" in err and "left untouched" in err
