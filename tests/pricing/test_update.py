"""`repro prices update/show`: sources reached through flags and the environment, updates that merge,
cannot hang, leave nothing behind and become the default; snapshots that refuse to load when damaged."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug import Response

from repro.cli import main
from repro.pricing.catalog import PriceSnapshotError, load_snapshot
from repro.pricing.locations import read_current
from repro.pricing.sources import aws_spot, http
from repro.pricing.update import UpdateFailed, UpdateOptions, update_snapshot
from tests.conftest import run_cli

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"
OFFER_PATH = "/offers/v1.0/aws/AmazonEC2/20261120182104/us-east-1/index.json"


@pytest.fixture(autouse=True)
def keyless(monkeypatch, tmp_path):
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)
    monkeypatch.setattr(aws_spot, "have_credentials", lambda: False)
    monkeypatch.setenv("REPRO_PRICES_DIR", str(tmp_path / "prices-home"))


def serve_aws(httpserver, offer_file: Path = FIX / "aws_offer_us-east-1.json"):
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_data(
        (FIX / "aws_offers_index.json").read_bytes())
    httpserver.expect_request("/offers/v1.0/aws/AmazonEC2/current/region_index.json").respond_with_data(
        (FIX / "aws_region_index.json").read_bytes())
    httpserver.expect_request(OFFER_PATH).respond_with_data(offer_file.read_bytes())
    httpserver.expect_request("/spot.json").respond_with_data((FIX / "aws_spot.json").read_text())
    httpserver.expect_request("/spot.js").respond_with_data((FIX / "aws_spot.js").read_text())


def trickle(request):
    """A server that is never silent long enough for a read timeout: one byte every 0.5 s."""
    def body():
        yield b'{"offers": {'
        for _ in range(120):
            time.sleep(0.5)
            yield b" "
    return Response(body(), content_type="application/json", direct_passthrough=True)


def test_update_through_cli_flags_merges_and_becomes_the_default(httpserver, tmp_path, capsys):
    serve_aws(httpserver)
    rc = main(["prices", "update", "--source", "aws,aws-spot", "--aws-url", httpserver.url_for("/"),
               "--aws-spot-url", httpserver.url_for("/spot.json"), "--out", str(tmp_path / "out"), "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    snap = load_snapshot()        # no flag, no env: the pointer the update wrote
    assert snap.id == result["snapshot_id"] and result["default"] is True
    assert read_current() == Path(result["path"]).resolve()
    aws = {(o.instance_type, o.market, o.region): o for o in snap.offers if o.provider == "aws"}
    assert aws[("p3.16xlarge", "on-demand", "us-east-1")].usd_per_hour == Decimal("24.48")
    assert aws[("p3.16xlarge", "spot", "us-east-1")].usd_per_hour == Decimal("2.448")     # plain-JSON feed
    assert aws[("p3.16xlarge", "on-demand", "us-east-1")].source.startswith(httpserver.url_for("/offers/"))
    # offers the live sources did not return are kept, with their own source and date
    assert ("p4d.24xlarge", "on-demand", "us-east-1") in aws and ("p3.2xlarge", "on-demand", "eu-west-1") in aws
    assert {o.provider for o in snap.offers} >= {"gcp", "azure", "lambda", "paperspace"}


def test_partial_aws_update_keeps_unrelated_offers(httpserver, tmp_path):
    doc = json.loads((FIX / "aws_offer_us-east-1.json").read_text())
    keep = {sku for sku, p in doc["products"].items() if p["attributes"].get("instanceType") == "p3.16xlarge"}
    doc["products"] = {k: v for k, v in doc["products"].items() if k in keep}
    few = tmp_path / "few.json"
    few.write_text(json.dumps(doc))
    serve_aws(httpserver, few)
    snap = update_snapshot(tmp_path, UpdateOptions(sources=("aws",), aws_url=httpserver.url_for("/"), quiet=True))
    aws = {(o.instance_type, o.market, o.region): o for o in snap.offers if o.provider == "aws"}
    assert aws[("p3.16xlarge", "on-demand", "us-east-1")].source.startswith("http://")       # refreshed
    assert aws[("c5.large", "on-demand", "us-east-1")].source.startswith("https://github.com/")  # kept
    assert ("c5.large", "spot", "us-east-1") in aws


def test_source_urls_come_from_the_environment(httpserver, tmp_path, monkeypatch):
    serve_aws(httpserver)
    monkeypatch.setenv("REPRO_AWS_URL", httpserver.url_for("/"))
    monkeypatch.setenv("REPRO_AWS_SPOT_URL", httpserver.url_for("/spot.js"))
    snap = update_snapshot(tmp_path, UpdateOptions(sources=("aws", "aws-spot"), quiet=True))
    spot = [o for o in snap.offers if o.provider == "aws" and o.market == "spot" and o.instance_type == "p3.16xlarge"
            and o.region == "us-east-1"]
    assert spot[0].usd_per_hour == Decimal("7.344")                                          # the JSONP feed
    paths = [entry[0].path for entry in httpserver.log]
    assert "/offers/v1.0/aws/index.json" in paths and "/spot.js" in paths


def test_azure_url_flag(httpserver, tmp_path, capsys):
    page = json.loads((FIX / "azure_page2.json").read_text())
    httpserver.expect_request("/prices").respond_with_json(page)
    rc = main(["prices", "update", "--source", "azure", "--azure-url", httpserver.url_for("/prices"),
               "--out", str(tmp_path), "--quiet"])
    assert rc == 0 and httpserver.log


def test_trickling_server_is_cut_off_within_the_timeout(httpserver, tmp_path):
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_handler(trickle)
    before = load_snapshot()
    started = time.monotonic()
    with pytest.raises(UpdateFailed, match=r"aws did not answer: .*within 2 s.*left untouched, nothing written"):
        update_snapshot(tmp_path / "out", UpdateOptions(sources=("aws",), aws_url=httpserver.url_for("/"),
                                                        timeout_s=2.0, quiet=True))
    assert time.monotonic() - started < 2.0 + 5
    assert not (tmp_path / "out").exists() and load_snapshot().id == before.id


def test_silent_server_costs_the_timeout_not_retries_times_it(httpserver, tmp_path, monkeypatch):
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 3)
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_handler(
        lambda request: time.sleep(6) or Response("{}"))
    started = time.monotonic()
    with pytest.raises(UpdateFailed, match="within 1.5 s"):
        update_snapshot(tmp_path, UpdateOptions(sources=("aws",), aws_url=httpserver.url_for("/"),
                                                timeout_s=1.5, quiet=True))
    assert time.monotonic() - started < 1.5 + 5


def test_cli_trickle_cut_off_and_no_temp_file_survives_a_kill(httpserver, tmp_path):
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_data(
        (FIX / "aws_offers_index.json").read_bytes())
    httpserver.expect_request("/offers/v1.0/aws/AmazonEC2/current/region_index.json").respond_with_data(
        (FIX / "aws_region_index.json").read_bytes())
    httpserver.expect_request(OFFER_PATH).respond_with_handler(trickle)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp), "REPRO_PRICES_DIR": str(tmp_path / "home")}
    started = time.monotonic()
    r = run_cli("prices", "update", "--source", "aws", "--aws-url", httpserver.url_for("/"), "--timeout", "2",
                "--out", str(tmp_path / "out"), env=env, timeout=60)
    errors = [line for line in r.stderr.splitlines() if line.startswith("repro: error:")]
    assert r.returncode == 1 and len(errors) == 1 and "within 2 s" in errors[0] and "Traceback" not in r.stderr
    assert time.monotonic() - started < 2 + 5 + 10    # + the interpreter's start on a shared machine
    proc = subprocess.Popen([str(Path(sys.executable).with_name("repro")), "prices", "update", "--source", "aws",
                             "--aws-url", httpserver.url_for("/"), "--timeout", "30", "--quiet",
                             "--out", str(tmp_path / "out")], env={**os.environ, **env})
    deadline = time.monotonic() + 30
    while not any(e[0].path == OFFER_PATH for e in httpserver.log[1:]) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)            # mid-download
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert list(tmp.iterdir()) == [] and not (tmp_path / "out").exists()


def test_truncated_or_edited_snapshot_is_refused(tmp_path):
    snap = update_snapshot(tmp_path, UpdateOptions(sources=("paperspace",), quiet=True, make_default=False))
    lines = snap.path.read_text().splitlines(keepends=True)
    snap.path.write_text("".join(lines[:-3]))                       # cut at a line boundary: still a CSV
    with pytest.raises(PriceSnapshotError, match=rf"holds {len(lines) - 4} offer rows .* records {len(lines) - 1} rows"):
        load_snapshot(snap.path)
    snap.path.write_text("".join(lines).replace("2.29", "0.29"))    # same rows, edited price
    with pytest.raises(PriceSnapshotError, match="truncated or edited"):
        load_snapshot(snap.path)


def test_failed_update_leaves_default_and_files_alone(httpserver, tmp_path):
    first = update_snapshot(tmp_path / "p", UpdateOptions(sources=("paperspace",), quiet=True))
    before = {p.name: p.read_bytes() for p in (tmp_path / "p").iterdir()}
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_data("not json")
    with pytest.raises(UpdateFailed, match=rf"aws failed: .*not JSON.*{first.id}.*left untouched"):
        update_snapshot(tmp_path / "p", UpdateOptions(sources=("paperspace", "aws"), aws_url=httpserver.url_for("/"),
                                                      quiet=True))
    assert {p.name: p.read_bytes() for p in (tmp_path / "p").iterdir()} == before
    assert load_snapshot().id == first.id


def test_bad_source_name_empty_source_and_bad_timeout(tmp_path, capsys):
    with pytest.raises(UpdateFailed, match="unknown price source"):
        update_snapshot(tmp_path, UpdateOptions(sources=("gcp-magic",)))
    empty = tmp_path / "vms.csv"
    empty.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region\n")
    with pytest.raises(UpdateFailed, match="no usable offers"):
        update_snapshot(tmp_path, UpdateOptions(sources=("skypilot",), skypilot_catalog=str(empty), quiet=True))
    assert not list(tmp_path.glob("prices-*"))
    with pytest.raises(SystemExit):
        main(["prices", "update", "--timeout", "0"])
    assert "--timeout" in capsys.readouterr().err


def test_cli_show_table_json_and_gpu_count_syntax(capsys):
    assert main(["prices", "show", "--gpu", "Tesla V100-SXM2-16GB:8"]) == 0
    out = capsys.readouterr().out
    assert "p3.16xlarge" in out and "$24.48" in out and "$2.448" in out and "skypilot@9602371:aws" in out
    assert "https://" not in out                                  # the short source id in the table ...
    assert main(["prices", "show", "--gpu", "V100", "--count", "8", "--market", "spot", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(r["market"] == "spot" for r in rows)
    first = rows[0]
    assert first["usd_per_hour"] == 2.448 and first["gpu_count"] == 8 and first["vcpus"] == 64   # numbers
    assert first["source"].startswith("https://github.com/skypilot-org/skypilot-catalog/blob/")  # ... the URL here
    assert main(["prices", "show", "--vcpus", "2"]) == 0
    assert "c5.large" in capsys.readouterr().out


@pytest.mark.parametrize("argv, error", [
    (["--gpu", "V100", "--count", "0"], "count must be a whole number >= 1"),
    (["--gpu", "V100", "--count", "-1"], "count must be a whole number >= 1"),
    (["--vcpus", "0"], "count must be a whole number >= 1"),
])
def test_cli_show_rejects_counts_below_one(argv, error, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["prices", "show", *argv])
    assert exit_.value.code == 2 and error in capsys.readouterr().err


def test_cli_show_no_match_lists_what_exists(capsys):
    assert main(["prices", "show", "--gpu", "V100:3"]) == 4
    err = capsys.readouterr().err
    assert "no offer with 3 x V100" in err and "V100: 1, 2, 4, 8" in err and "H200: 8" in err and "CPU: 2, 4" in err
    assert main(["prices", "show", "--gpu", "V100:0"]) == 1
    assert main(["prices", "show", "--gpu", "V100:8", "--count", "4"]) == 1
    assert "disagree" in capsys.readouterr().err


def test_cli_update_failure_is_one_line(tmp_path, capsys):
    rc = main(["prices", "update", "--source", "skypilot", "--skypilot-catalog", str(tmp_path / "none.csv"),
               "--out", str(tmp_path), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "none.csv: no such file" in err and "left untouched" in err and len(err.strip().splitlines()) == 1


def test_update_without_boto3_uses_the_keyless_feed(httpserver, tmp_path):
    """As in a fresh venv without `repro[aws]`: boto3 cannot be imported at all."""
    serve_aws(httpserver)
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['boto3'] = None\nsys.modules['botocore'] = None\n")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")]),
           "REPRO_PRICES_DIR": str(tmp_path / "home"), "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "example"}
    r = run_cli("prices", "update", "--source", "aws,aws-spot", "--aws-url", httpserver.url_for("/"),
                "--aws-spot-url", httpserver.url_for("/spot.json"), "--out", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr
    assert "boto3 is not installed (pip install 'repro[aws]'); using the keyless public spot feed" in r.stderr
    assert "Traceback" not in r.stderr
