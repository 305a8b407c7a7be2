"""Every price source parses its provider's real format, served by a local pytest-httpserver."""
from __future__ import annotations

import json
import warnings
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.stub import Stubber

from repro.pricing.catalog import load_snapshot
from repro.pricing.sources import aws_ondemand, aws_spot, azure, http, paperspace, skypilot
from repro.pricing.sources.common import PriceSkipped, Skips, parse_price

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"
TODAY = date(2026, 11, 25)
OFFER_PATH = "/offers/v1.0/aws/AmazonEC2/20261120182104/us-east-1/index.json"


@pytest.fixture(autouse=True)
def no_retries(monkeypatch):
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)


def serve_price_list(httpserver, prefix=""):
    """The AWS Price List as AWS serves it: service index -> region index -> region offer file."""
    httpserver.expect_request(f"{prefix}/offers/v1.0/aws/index.json").respond_with_data(
        (FIX / "aws_offers_index.json").read_bytes(), content_type="application/json")
    httpserver.expect_request(f"{prefix}/offers/v1.0/aws/AmazonEC2/current/region_index.json").respond_with_data(
        (FIX / "aws_region_index.json").read_bytes(), content_type="application/json")
    httpserver.expect_request(f"{prefix}{OFFER_PATH}").respond_with_data(
        (FIX / "aws_offer_us-east-1.json").read_bytes(), content_type="application/json")


def by_key(offers):
    return {(o.provider, o.instance_type, o.market, o.region): o for o in offers}


@pytest.mark.parametrize("raw", [None, "", "  ", "N/A", "N/A*", "0", "0.0000000000", "-1", 0.0, "abc", "NaN"])
def test_unusable_prices_are_skipped_with_a_reason(raw):
    skips = Skips("t")
    assert parse_price(raw, "here", skips) is None
    assert len(skips.items) == 1 and skips.items[0].startswith("here:")
    with pytest.warns(PriceSkipped, match="skipped price at here"):
        skips.report()


def test_float_prices_keep_their_decimal_digits():
    assert parse_price(3.06, "x", Skips("t")) == Decimal("3.06")
    assert parse_price("$24.48", "x", Skips("t")) == Decimal("24.48")


@pytest.mark.parametrize("prefix", ["", "/mirror/aws-pricing"])
def test_aws_price_list_service_index_region_index_offer_file(httpserver, prefix):
    serve_price_list(httpserver, prefix)   # a mirror in a sub-folder resolves AWS's "/offers/..." links under it
    with pytest.warns(PriceSkipped, match="m5.large"):
        offers = aws_ondemand.fetch(("us-east-1",), base_url=httpserver.url_for(prefix or "/"), quiet=True,
                                    today=TODAY)
    found = by_key(offers)
    # Linux / shared / no software / used only: Windows, dedicated, reserved capacity, SQL are filtered
    assert set(found) == {("aws", "p3.16xlarge", "on-demand", "us-east-1"),
                          ("aws", "p3.2xlarge", "on-demand", "us-east-1"),
                          ("aws", "c5.large", "on-demand", "us-east-1")}
    p3 = found[("aws", "p3.16xlarge", "on-demand", "us-east-1")]
    assert (p3.usd_per_hour, p3.gpu_model, p3.gpu_count, p3.vcpus, p3.memory_gib) == (
        Decimal("24.48"), "V100", 8, 64, Decimal(488))
    assert p3.source == httpserver.url_for(prefix + OFFER_PATH) and p3.fetched_at == TODAY
    c5 = found[("aws", "c5.large", "on-demand", "us-east-1")]
    assert c5.gpu_model is None and c5.gpu_count == 0 and c5.usd_per_hour == Decimal("0.085")


def test_aws_unknown_region_is_a_clear_error(httpserver):
    serve_price_list(httpserver)
    with pytest.raises(http.SourceError, match="region 'mars-1' not listed"):
        aws_ondemand.fetch(("mars-1",), base_url=httpserver.url_for("/"), quiet=True)


def test_aws_url_that_is_not_a_price_list_root_says_so(httpserver):
    httpserver.expect_request("/offers/v1.0/aws/index.json").respond_with_json({"offers": {"AmazonS3": {}}})
    with pytest.raises(http.SourceError, match="currentRegionIndexUrl; is --aws-url the Price List root"):
        aws_ondemand.fetch(("us-east-1",), base_url=httpserver.url_for("/"), quiet=True)


def test_aws_malformed_offer_file_names_file_and_line(tmp_path):
    text = (FIX / "aws_offer_us-east-1.json").read_text()
    lines = text.split("\n")
    target = next(i for i, line in enumerate(lines) if '"vcpu": "2"' in line)
    lines[target] = lines[target].replace('"vcpu": "2"', '"vcpu" "2"')
    bad = tmp_path / "index.json"
    bad.write_text("\n".join(lines))
    with pytest.raises(http.SourceError, match=rf"index\.json:{target + 1}: malformed JSON"):
        aws_ondemand.parse_offer_file(bad, source="x", fetched_on=TODAY)


@pytest.mark.parametrize("fixture, path, p3_price", [("aws_spot.json", "/spot.json", "2.448"),
                                                    ("aws_spot.js", "/spot.js", "7.344")])
def test_aws_spot_feed_plain_json_and_jsonp(httpserver, monkeypatch, fixture, path, p3_price):
    httpserver.expect_request(path).respond_with_data((FIX / fixture).read_text(), content_type="application/javascript")
    monkeypatch.setattr(aws_spot, "have_credentials", lambda: False)  # keyless: the public feed
    hardware = aws_spot.hardware_from(load_snapshot().offers)
    said = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        offers = aws_spot.fetch(hardware=hardware, regions=("us-east-1",), feed_urls=(httpserver.url_for(path),),
                                today=TODAY, log=said.append)
    found = by_key(offers)
    assert set(found) == {("aws", "c5.large", "spot", "us-east-1"), ("aws", "p3.16xlarge", "spot", "us-east-1")}
    p3 = found[("aws", "p3.16xlarge", "spot", "us-east-1")]
    assert (p3.usd_per_hour, p3.gpu_model, p3.gpu_count) == (Decimal(p3_price), "V100", 8)
    messages = " ".join(str(w.message) for w in caught)
    assert "p3.2xlarge" in messages and "N/A" in messages  # skipped price, said so
    assert "t2.nano" in messages                           # no hardware record: skipped, not guessed
    assert "keyless public spot feed" in said[0]


def test_aws_spot_falls_back_to_the_jsonp_feed_and_says_it_is_frozen(httpserver, monkeypatch):
    httpserver.expect_request("/spot.json").respond_with_data("gone", status=404)
    httpserver.expect_request("/spot.js").respond_with_data((FIX / "aws_spot.js").read_text())
    monkeypatch.setattr(aws_spot, "SPOT_JS_URL", httpserver.url_for("/spot.js"))
    hardware = aws_spot.hardware_from(load_snapshot().offers)
    with pytest.warns(UserWarning, match=r"spot\.json: HTTP 404.*used .*spot\.js instead"):
        offers = aws_spot.fetch_feed(hardware=hardware, urls=(httpserver.url_for("/spot.json"),
                                                              httpserver.url_for("/spot.js")), today=TODAY)
    assert {o.instance_type for o in offers} == {"c5.large", "p3.16xlarge"}
    assert all("frozen since 2024-05-13" in o.note for o in offers)


def test_aws_spot_feed_rejects_other_formats():
    with pytest.raises(http.SourceError, match="neither the plain-JSON spot feed nor the JSONP"):
        aws_spot.parse_feed("<html>", hardware={}, regions=None, source="s", today=TODAY)
    with pytest.raises(http.SourceError, match="without config.regions"):
        aws_spot.parse_feed('{"vers": 1}', hardware={}, regions=None, source="s", today=TODAY)


def test_without_boto3_the_spot_source_uses_the_feed_and_never_raises_import_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_boto3(name, *args, **kwargs):
        if name == "boto3" or name.startswith("botocore"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_boto3)
    assert aws_spot.boto3_available() is False and aws_spot.have_credentials() is False


def test_aws_spot_boto3_with_stubber():
    import boto3

    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    stub = Stubber(client)
    history = [
        {"AvailabilityZone": "us-east-1a", "InstanceType": "p3.16xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "7.500000", "Timestamp": datetime(2026, 11, 24, 10, tzinfo=timezone.utc)},
        {"AvailabilityZone": "us-east-1a", "InstanceType": "p3.16xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "7.000000", "Timestamp": datetime(2026, 11, 24, 12, tzinfo=timezone.utc)},  # newer wins
        {"AvailabilityZone": "us-east-1b", "InstanceType": "p3.16xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "7.200000", "Timestamp": datetime(2026, 11, 24, 12, tzinfo=timezone.utc)},
        {"AvailabilityZone": "us-east-1c", "InstanceType": "c5.large", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "0.000000", "Timestamp": datetime(2026, 11, 24, 12, tzinfo=timezone.utc)},
    ]
    hardware = aws_spot.hardware_from(load_snapshot().offers)
    stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history},
                      {"InstanceTypes": ["c5.large", "p3.16xlarge"], "ProductDescriptions": ["Linux/UNIX"],
                       "StartTime": now})
    with stub, pytest.warns(PriceSkipped, match="c5.large us-east-1c"):
        offers = aws_spot.fetch_boto3(client, "us-east-1", hardware=hardware,
                                      instance_types=["p3.16xlarge", "c5.large"], today=TODAY, now=now)
    assert len(offers) == 1
    assert (offers[0].usd_per_hour, offers[0].zone, offers[0].market) == (Decimal("7"), "us-east-1a", "spot")
    assert "DescribeSpotPriceHistory" in offers[0].source


@pytest.mark.parametrize("link", ["absolute", "relative-path", "relative-query"])
def test_azure_retail_prices_paged_with_absolute_or_relative_links(httpserver, link):
    page2 = {"absolute": httpserver.url_for("/api/retail/prices/page2"),
             "relative-path": "/api/retail/prices/page2", "relative-query": "?$skip=100"}[link]
    page1 = json.loads((FIX / "azure_page1.json").read_text())
    page1["NextPageLink"] = page2
    second = json.loads((FIX / "azure_page2.json").read_text())
    httpserver.expect_request("/api/retail/prices", query_string={"$skip": "100"}).respond_with_json(second)
    httpserver.expect_request("/api/retail/prices/page2").respond_with_json(second)
    httpserver.expect_request("/api/retail/prices").respond_with_json(page1)
    with pytest.warns(PriceSkipped, match="D2s v5 Spot"):
        offers = azure.fetch(("eastus",), base_url=httpserver.url_for("/api/retail/prices"), today=TODAY)
    found = {(o.instance_type, o.market): o for o in offers}
    assert set(found) == {("Standard_NC24s_v3", "on-demand"), ("Standard_NC24s_v3", "spot"),
                          ("Standard_D2s_v5", "on-demand")}
    nc = found[("Standard_NC24s_v3", "on-demand")]
    assert (nc.usd_per_hour, nc.gpu_model, nc.gpu_count, nc.vcpus) == (Decimal("12.24"), "V100", 4, 24)
    assert found[("Standard_NC24s_v3", "spot")].usd_per_hour == Decimal("2.448")
    first = httpserver.log[0][0]
    assert "armRegionName eq 'eastus'" in first.args["$filter"]


def test_azure_next_link_loop_is_an_error(httpserver):
    page = json.loads((FIX / "azure_page2.json").read_text())
    page["NextPageLink"] = "/api/retail/prices?x=1"
    httpserver.expect_request("/api/retail/prices").respond_with_json(page)
    with pytest.raises(http.SourceError, match="repeats a page already read"):
        azure._pages(httpserver.url_for("/api/retail/prices") + "?x=1", http.DEFAULT_TIMEOUT_S)


def test_skypilot_catalog_from_url_and_path(httpserver):
    httpserver.expect_request("/vms.csv").respond_with_data((FIX / "skypilot_aws_vms.csv").read_text())
    with pytest.warns(PriceSkipped):
        offers = skypilot.fetch("aws", httpserver.url_for("/vms.csv"), today=TODAY)
    found = {(o.instance_type, o.market, o.region): o for o in offers}
    assert found[("c5.large", "on-demand", "us-east-1")].usd_per_hour == Decimal("0.085")
    spot = found[("p3.16xlarge", "spot", "us-east-1")]
    assert (spot.usd_per_hour, spot.zone, spot.gpu_model) == (Decimal("2.7531"), "use1-az5", "V100")
    assert found[("c5.large", "spot", "us-east-1")].zone == "use1-az2"
    assert ("mac1.metal", "on-demand", "us-east-1") not in found       # blank price skipped
    assert ("p5e.48xlarge", "on-demand", "us-east-2") not in found     # blank Price, real SpotPrice
    assert ("p5e.48xlarge", "spot", "us-east-2") in found
    # a blank SpotPrice means "no spot market" (Paperspace has none): not a skipped price
    ps = skypilot.fetch("paperspace", str(FIX / "skypilot_paperspace_vms.csv"), today=TODAY)
    assert {o.instance_type: o.usd_per_hour for o in ps} == {
        "H100x8": Decimal("47.6"), "V100": Decimal("2.29"), "C5": Decimal("0.08")}
    assert ps[0].source.startswith("file://")


def test_skypilot_malformed_csv(tmp_path):
    bad = tmp_path / "vms.csv"
    bad.write_text("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region\n"
                   "c5.large,,,two,4.0,,0.085,0.03,us-east-1\n")
    with pytest.raises(http.SourceError, match=r"vms\.csv:2: not a number"):
        skypilot.fetch("aws", str(bad))
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(http.SourceError, match=r"x\.csv:1: not a SkyPilot vms\.csv"):
        skypilot.fetch("aws", str(tmp_path / "x.csv"))


def test_paperspace_table_and_override(monkeypatch):
    table = {o.instance_type: o for o in paperspace.fetch()}
    assert table["V100"].usd_per_hour == Decimal("2.29") and table["H100x8"].gpu_count == 8
    assert all(o.source.startswith("https://") for o in table.values())
    with pytest.warns(PriceSkipped, match="P6000"):
        merged = {o.instance_type: o for o in paperspace.fetch(FIX / "paperspace_override.csv")}
    assert merged["V100"].usd_per_hour == Decimal("2.30") and merged["V100"].fetched_at == date(2026, 11, 24)
    assert merged["P5000"].gpu_model == "P5000" and "P6000" not in merged
    assert merged["H100x8"].usd_per_hour == Decimal("47.60")  # untouched rows stay
    with pytest.raises(http.SourceError, match="not found"):
        paperspace.fetch("/no/such/file.csv")


def test_timeout_becomes_source_unavailable(httpserver):
    import time

    httpserver.expect_request("/slow").respond_with_handler(lambda request: time.sleep(1.5) or None)
    with pytest.raises(http.SourceUnavailable, match="no answer"):
        http.get_json(httpserver.url_for("/slow"), timeout=(0.5, 0.3))


def test_messages_never_show_credentials_or_query_strings(httpserver):
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    url = httpserver.url_for("/gone").replace("http://", "http://user:hunter2@") + "?token=s3cr3t"
    with pytest.raises(http.SourceError) as caught:
        http.get(url)
    assert "hunter2" not in str(caught.value) and "s3cr3t" not in str(caught.value) and "/gone" in str(caught.value)


def test_http_error_status(httpserver):
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    with pytest.raises(http.SourceError, match="HTTP 404"):
        http.get(httpserver.url_for("/gone"))


def test_aws_spot_boto3_errors_are_source_errors():
    import boto3

    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    stub.add_client_error("describe_spot_price_history", service_error_code="UnauthorizedOperation",
                          service_message="You are not authorized to perform this operation.")
    hardware = aws_spot.hardware_from(load_snapshot().offers)
    with stub, pytest.raises(http.SourceError, match="UnauthorizedOperation.*DescribeSpotPriceHistory permission"):
        aws_spot.fetch(hardware=hardware, regions=("us-east-1",), client_factory=lambda region: client)
