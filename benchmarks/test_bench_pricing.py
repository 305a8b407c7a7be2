"""Ingest a generated AWS Price List offer file of >= 300 MB in bounded memory.

The file has the real region-offer-file layout (products, then terms.OnDemand and terms.Reserved)
with a realistic mix: most SKUs are Windows, dedicated, RHEL or capacity reservations that the
filter drops, one in six is a Linux/shared/used SKU that is kept. Ingestion runs in a fresh
subprocess so its peak RSS (ru_maxrss) is its own; the acceptance bound is 200 MiB.

    .venv/bin/pytest benchmarks/test_bench_pricing.py --benchmark-only -s
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TARGET_BYTES = 300 * 1024 * 1024
PEAK_RSS_LIMIT_MIB = 200
FAMILIES = [("c5", 0, None), ("m5", 0, None), ("r5", 0, None), ("p3", 8, "V100"), ("g5", 4, "A10G")]
SIZES = [("large", 2, 4), ("xlarge", 4, 8), ("2xlarge", 8, 16), ("4xlarge", 16, 32), ("8xlarge", 32, 64),
         ("12xlarge", 48, 96), ("16xlarge", 64, 128), ("24xlarge", 96, 192)]
VARIANTS = [("Linux", "Shared", "NA", "Used"), ("Windows", "Shared", "NA", "Used"),
            ("Linux", "Dedicated", "NA", "Used"), ("RHEL", "Shared", "NA", "Used"),
            ("Linux", "Shared", "SQL Web", "Used"), ("Linux", "Shared", "NA", "AllocatedCapacityReservation")]


def _product(i: int) -> tuple[str, dict]:
    family, gpus, _ = FAMILIES[i % len(FAMILIES)]
    size, vcpus, mem = SIZES[(i // len(FAMILIES)) % len(SIZES)]
    os_, tenancy, sw, cap = VARIANTS[i % len(VARIANTS)]
    sku = f"SKU{i:012d}"
    attrs = {"servicecode": "AmazonEC2", "location": "US East (N. Virginia)", "locationType": "AWS Region",
             "instanceType": f"{family}.{size}", "currentGeneration": "Yes", "instanceFamily": "General purpose",
             "vcpu": str(vcpus), "physicalProcessor": "Intel Xeon Platinum 8275L", "clockSpeed": "3 GHz",
             "memory": f"{mem} GiB", "storage": "EBS only", "networkPerformance": "Up to 10 Gigabit",
             "processorArchitecture": "64-bit", "tenancy": tenancy, "operatingSystem": os_,
             "licenseModel": "No License required", "usagetype": f"BoxUsage:{family}.{size}:{i}",
             "operation": "RunInstances", "availabilityzone": "NA", "capacitystatus": cap,
             "classicnetworkingsupport": "false", "dedicatedEbsThroughput": "Up to 4750 Mbps",
             "ecu": "10", "enhancedNetworkingSupported": "Yes", "intelAvxAvailable": "Yes",
             "intelAvx2Available": "Yes", "intelTurboAvailable": "Yes", "marketoption": "OnDemand",
             "normalizationSizeFactor": "4", "preInstalledSw": sw, "processorFeatures": "Intel AVX; Intel AVX2",
             "regionCode": "us-east-1", "servicename": "Amazon Elastic Compute Cloud", "vpcnetworkingsupport": "true"}
    if gpus:
        attrs["gpu"] = str(gpus)
    return sku, {"sku": sku, "productFamily": "Compute Instance", "attributes": attrs}


def _term(sku: str, code: str, usd: str, extra: dict | None = None) -> dict:
    return {f"{sku}.{code}": {"offerTermCode": code, "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {f"{sku}.{code}.6YS6EN2CT7": {
                "rateCode": f"{sku}.{code}.6YS6EN2CT7", "description": f"${usd} per On Demand Instance Hour",
                "beginRange": "0", "endRange": "Inf", "unit": "Hrs", "pricePerUnit": {"USD": usd},
                "appliesTo": []}}, "termAttributes": extra or {}}}


def write_offer_file(path: Path, target_bytes: int = TARGET_BYTES) -> int:
    """Stream a region offer file of at least `target_bytes`; returns the SKU count."""
    # products take ~45 % of a real file; estimate SKUs from one sample of each part
    sample_sku, sample = _product(0)
    per_sku = len(json.dumps(sample)) + 3 * len(json.dumps(_term(sample_sku, "4NA7Y494T4", "1.0")))
    count = target_bytes // per_sku + 1
    with open(path, "w", encoding="utf-8") as out:
        out.write('{\n"formatVersion" : "v1.0",\n"disclaimer" : "generated for a benchmark",\n'
                  '"offerCode" : "AmazonEC2",\n"version" : "20261120182104",\n'
                  '"publicationDate" : "2026-11-20T18:21:04Z",\n"products" : {\n')
        for i in range(count):
            sku, product = _product(i)
            out.write(("" if i == 0 else ",\n") + json.dumps(sku) + " : " + json.dumps(product))
        out.write('\n},\n"terms" : {\n"OnDemand" : {\n')
        for i in range(count):
            sku = f"SKU{i:012d}"
            out.write(("" if i == 0 else ",\n") + json.dumps(sku) + " : "
                      + json.dumps(_term(sku, "JRTCKXETXF", f"{0.05 + (i % 997) / 100:.10f}")))
        out.write('\n},\n"Reserved" : {\n')
        for i in range(count):
            sku = f"SKU{i:012d}"
            terms = {}
            for code, lease in (("4NA7Y494T4", "1yr"), ("38NPMPTW36", "3yr")):
                terms.update(_term(sku, code, f"{0.03 + (i % 991) / 100:.10f}",
                                   {"LeaseContractLength": lease, "OfferingClass": "standard",
                                    "PurchaseOption": "No Upfront"}))
            out.write(("" if i == 0 else ",\n") + json.dumps(sku) + " : " + json.dumps(terms))
        out.write("\n}\n}\n}\n")
    return count


INGEST = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from repro.pricing.sources.aws_ondemand import parse_offer_file
start = time.perf_counter()
offers = parse_offer_file(Path(sys.argv[1]), source="bench", fetched_on=date(2026, 11, 25))
seconds = time.perf_counter() - start
print(json.dumps({"offers": len(offers), "seconds": seconds,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ingest_in_subprocess(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", INGEST, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def offer_file(tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("aws") / "index.json"
    skus = write_offer_file(path)
    return path, skus


@pytest.mark.slow
def test_ingest_300mb_offer_file_in_bounded_memory(benchmark, offer_file):
    path, skus = offer_file
    size_mib = path.stat().st_size / 2**20
    assert size_mib >= 300
    result = benchmark.pedantic(ingest_in_subprocess, args=(path,), rounds=1, iterations=1)
    benchmark.extra_info.update(file_mib=round(size_mib, 1), skus=skus, **result)
    print(f"\n{size_mib:.0f} MiB, {skus} SKUs -> {result['offers']} offers in {result['seconds']:.1f} s, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB")
    kept = sum(1 for i in range(skus) if i % len(VARIANTS) == 0)
    assert result["offers"] == kept
    assert result["peak_rss_mib"] < PEAK_RSS_LIMIT_MIB
