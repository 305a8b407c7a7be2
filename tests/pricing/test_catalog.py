"""Offers, snapshots on disk, the shipped snapshot, and the errors a broken snapshot gives."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from repro.pricing.catalog import (
    SHIPPED_SNAPSHOT_ID, Offer, PriceSnapshotError, Snapshot, load_snapshot, merge_offers,
    write_snapshot,
)
from repro.pricing.locations import SNAPSHOT_DIR, shipped_ids, write_current
from repro.pricing.urls import public_url, source_label

SRC = "https://example.org/prices.csv"


def offer(**kw) -> Offer:
    base = dict(provider="aws", instance_type="p3.16xlarge", gpu_model="V100", gpu_count=8, vcpus=64,
                memory_gib=Decimal(488), region="us-east-1", market="on-demand",
                usd_per_hour=Decimal("24.48"), source=SRC, fetched_at=date(2026, 11, 20))
    base.update(kw)
    return Offer(**base)


def test_shipped_snapshot_has_real_cited_prices():
    snap = load_snapshot()
    assert snap.id == SHIPPED_SNAPSHOT_ID
    for o in snap.offers:
        assert o.source.startswith("https://") and o.fetched_at and o.usd_per_hour > 0
    p3 = {(o.instance_type, o.market): o.usd_per_hour for o in snap.offers
          if o.provider == "aws" and o.region == "us-east-1"}
    assert p3[("p3.2xlarge", "on-demand")] == Decimal("3.06")
    assert p3[("p3.8xlarge", "on-demand")] == Decimal("12.24")
    assert p3[("p3.16xlarge", "on-demand")] == Decimal("24.48")
    assert p3[("p3.16xlarge", "spot")] < p3[("p3.16xlarge", "on-demand")]
    # CPU sizes a CPU run is priced on, on both AWS markets
    for vcpus in (2, 4, 8, 16):
        for market in ("on-demand", "spot"):
            assert snap.find(provider="aws", market=market, gpu_count=0, vcpus=vcpus), (vcpus, market)
    assert snap.find(provider="paperspace", gpu_model="V100", gpu_count=1)
    assert snap.find(provider="paperspace", gpu_model="H100", gpu_count=8)
    assert snap.find(provider="aws", gpu_model="A100", gpu_count=8)


# Where each provider sells each GPU in the SkyPilot catalogs the shipped rows were read from
COVERAGE = {
    "aws": {"V100", "V100-32GB", "A100", "A100-80GB", "H100", "H200", "L4", "T4", "CPU"},
    "gcp": {"A100", "A100-80GB", "H100", "CPU"},
    "azure": {"V100", "V100-32GB", "A100", "A100-80GB", "H100", "T4", "CPU"},
    "lambda": {"V100", "A100", "A100-80GB", "H100", "CPU"},
    "paperspace": {"V100", "A100-80GB", "H100", "CPU"},
}


def test_shipped_snapshot_covers_providers_gpus_markets_and_names_its_commits():
    snap = load_snapshot(SHIPPED_SNAPSHOT_ID)
    for provider, models in COVERAGE.items():
        have = {o.gpu_model or "CPU" for o in snap.offers if o.provider == provider}
        assert models <= have, (provider, models - have)
        spot = {o.gpu_model or "CPU" for o in snap.offers if o.provider == provider and o.market == "spot"}
        assert bool(spot) == (provider not in ("lambda", "paperspace")), provider   # spot where sold
    assert {o.region for o in snap.offers if o.provider == "aws"} == {"us-east-1", "eu-west-1"}
    for o in snap.offers:   # every row cites the catalog file at a fixed commit
        assert re.search(r"/blob/[0-9a-f]{40}/catalogs/v6/[a-z]+/vms\.csv$", o.source), o.source
        assert o.fetched_at.isoformat() >= "2026-11-25"
    # GCP's GPU offers are the host VM row plus the accelerator row of the same catalog
    a2 = snap.find(provider="gcp", gpu_model="A100", gpu_count=1, market="on-demand")[0]
    assert a2.usd_per_hour == Decimal("0.73948") + Decimal("2.93391") and "host a2-highgpu-1g" in a2.note


def test_dated_snapshot_of_the_dawnbench_rates_is_shipped():
    assert {"dawnbench-2018-04", SHIPPED_SNAPSHOT_ID, "shipped-2026-11-25"} <= set(shipped_ids())
    old = load_snapshot("dawnbench-2018-04")
    rates = {(o.provider, o.instance_type): o.usd_per_hour for o in old.offers}
    assert rates == {("aws", "p3.16xlarge"): Decimal("24.48"), ("aws", "p3.2xlarge"): Decimal("3.06"),
                     ("paperspace", "V100"): Decimal("2.30")}
    assert all("dawn-bench-entries/blob/fb27b827" in o.source for o in old.offers)


def test_round_trip_through_disk(tmp_path):
    snap = Snapshot("test-1", datetime(2026, 11, 20, tzinfo=timezone.utc),
                    [offer(), offer(market="spot", usd_per_hour=Decimal("7.3440"), zone="use1-az1")])
    path = write_snapshot(snap, tmp_path)
    back = load_snapshot(path)
    assert back.id == "test-1" and back.path == path
    assert sorted(o.usd_per_hour for o in back.offers) == [Decimal("7.3440"), Decimal("24.48")]
    assert {o.zone for o in back.offers} == {None, "use1-az1"}
    # the JSON sidecar path loads the same snapshot
    assert load_snapshot(path.with_suffix(".json")).id == "test-1"


def test_env_var_selects_snapshot(tmp_path, monkeypatch):
    path = write_snapshot(Snapshot("env-1", datetime.now(timezone.utc), [offer()]), tmp_path)
    monkeypatch.setenv("REPRO_PRICE_SNAPSHOT", str(path))
    assert load_snapshot().id == "env-1"


def test_stale_flag():
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    snap = Snapshot("s", now - timedelta(days=31), [offer()])
    assert snap.stale(30, now) and not snap.stale(40, now)
    assert not Snapshot("s", now - timedelta(days=2), [offer()]).stale(30, now)


def test_missing_snapshot_names_file_and_fix(tmp_path):
    with pytest.raises(PriceSnapshotError, match=r"nope\.json.*repro prices update"):
        load_snapshot(tmp_path / "nope.csv")


def _write(tmp_path, csv_text: str, meta: dict | str | None = None):
    """A snapshot pair whose metadata matches the CSV, so the CSV's own errors are what loading reports."""
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(csv_text)
    rows = sum(1 for _ in csv.reader(io.StringIO(csv_text))) - 1
    integrity = {"file": "bad.csv", "rows": rows, "sha256": hashlib.sha256(csv_text.encode()).hexdigest()}
    meta = meta if meta is not None else {"schema_version": 2, "id": "bad", "fetched_at": "2026-11-25T00:00:00Z",
                                          "csv": integrity}
    (tmp_path / "bad.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    return csv_path


HEADER = "provider,instance_type,gpu_model,gpu_count,vcpus,memory_gib,region,zone,market,usd_per_hour,source,fetched_at,note\n"
GOOD = f"aws,c5.large,,0,2,4,us-east-1,,on-demand,0.085,{SRC},2026-11-25,\n"


@pytest.mark.parametrize("bad_row, message", [
    (f"aws,c5.large,,0,2,4,us-east-1,,on-demand,abc,{SRC},2026-11-25,\n", r"bad\.csv:3: usd_per_hour 'abc'"),
    (f"aws,c5.large,,0,2,4,us-east-1,,on-demand,,{SRC},2026-11-25,\n", r"bad\.csv:3: empty usd_per_hour"),
    (f"aws,c5.large,,0,2,4,us-east-1,,on-demand,-1,{SRC},2026-11-25,\n", r"bad\.csv:3: .*positive"),
    (f"aws,c5.large,,0,2,4,us-east-1,,bargain,0.1,{SRC},2026-11-25,\n", r"bad\.csv:3: market must be"),
    ("aws,c5.large,,0,2\n", r"bad\.csv:3: "),
])
def test_malformed_row_names_file_and_line(tmp_path, bad_row, message):
    with pytest.raises(PriceSnapshotError, match=message):
        load_snapshot(_write(tmp_path, HEADER + GOOD + bad_row))


def test_bad_header_and_metadata(tmp_path):
    with pytest.raises(PriceSnapshotError, match=r"bad\.csv:1: header lacks column\(s\) usd_per_hour"):
        load_snapshot(_write(tmp_path, HEADER.replace("usd_per_hour", "price") + GOOD))
    with pytest.raises(PriceSnapshotError, match=r"bad\.json:1: .*not valid JSON"):
        load_snapshot(_write(tmp_path, HEADER + GOOD, "{not json"))
    with pytest.raises(PriceSnapshotError, match="schema_version 7"):
        load_snapshot(_write(tmp_path, HEADER + GOOD, {"schema_version": 7, "id": "x", "fetched_at": "2026"}))
    with pytest.raises(PriceSnapshotError, match="schema_version 1 is not 2 .*row count and sha256"):
        load_snapshot(_write(tmp_path, HEADER + GOOD, {"schema_version": 1, "id": "x", "fetched_at": "2026"}))
    with pytest.raises(PriceSnapshotError, match="metadata lacks 'csv'"):
        load_snapshot(_write(tmp_path, HEADER + GOOD, {"schema_version": 2, "id": "x", "fetched_at": "2026"}))
    with pytest.raises(PriceSnapshotError, match="holds no offers"):
        load_snapshot(_write(tmp_path, HEADER))


def test_offer_rejects_float_and_zero_prices():
    with pytest.raises(TypeError):
        offer(usd_per_hour=24.48)
    with pytest.raises(ValueError):
        offer(usd_per_hour=Decimal(0))


def test_merge_lets_later_group_override():
    base = [offer(), offer(instance_type="p3.2xlarge", gpu_count=1, usd_per_hour=Decimal("3.06"))]
    override = [offer(usd_per_hour=Decimal("20.00"), source="file:///override.csv")]
    merged = {o.instance_type: o for o in merge_offers(base, override)}
    assert merged["p3.16xlarge"].usd_per_hour == Decimal("20.00")
    assert merged["p3.2xlarge"].usd_per_hour == Decimal("3.06")


def test_default_is_env_then_last_update_then_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_PRICES_DIR", str(tmp_path / "home"))
    assert load_snapshot().id == SHIPPED_SNAPSHOT_ID
    updated = write_snapshot(Snapshot("prices-1", datetime.now(timezone.utc), [offer()]), tmp_path / "out")
    write_current(updated)
    assert load_snapshot().id == "prices-1"
    monkeypatch.setenv("REPRO_PRICE_SNAPSHOT", "dawnbench-2018-04")       # a shipped id works too
    assert load_snapshot().id == "dawnbench-2018-04"
    monkeypatch.delenv("REPRO_PRICE_SNAPSHOT")
    updated.unlink()
    with pytest.raises(PriceSnapshotError, match=r"current\.json names .*prices-1\.csv, which does not exist"):
        load_snapshot()
    (tmp_path / "home" / "current.json").write_text("{broken")
    with pytest.raises(PriceSnapshotError, match="pointer is unreadable"):
        load_snapshot()


def test_snapshot_ids_cannot_escape_the_folder(tmp_path):
    with pytest.raises(PriceSnapshotError, match="must be letters"):
        write_snapshot(Snapshot("../evil", datetime.now(timezone.utc), [offer()]), tmp_path)


def test_urls_lose_their_secrets_and_tables_get_short_labels():
    assert public_url("https://user:pw@mirror.example/aws/?token=abc#x") == "https://mirror.example/aws/"
    assert source_label("https://github.com/skypilot-org/skypilot-catalog/blob/"
                        "9602371ebabb7fa302db3ba179816ae07d044e35/catalogs/v6/aws/vms.csv") == "skypilot@9602371:aws"
    assert source_label("https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/x.json") == "aws-price-list"
    assert source_label("https://website.spot.ec2.aws.a2z.com/spot.json") == "aws-spot-feed"
    assert source_label("https://prices.azure.com/api/retail/prices") == "azure-retail-api"
    assert source_label((SNAPSHOT_DIR / "x.csv").as_uri()) == "file:x.csv"
