"""`repro price`: re-price run directories and published DAWNBench entries on any snapshot."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from repro.cli import main
from tests.helpers_records import golden_record
from repro.pricing.money import format_usd
from tests.conftest import run_cli

ENTRIES = Path(__file__).resolve().parents[1] / "fixtures" / "dawnbench"
IMAGENET = ENTRIES / "ImageNet" / "train" / "fastai_pytorch.json"
CIFAR = ENTRIES / "CIFAR10" / "train" / "fastai_pytorch.json"
VOLTA = ENTRIES / "CIFAR10" / "train" / "fastai_pytorch_single_volta.json"


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def by_market(rows: list[dict], target: Path) -> dict:
    return {(r["provider"], r["market"]): r for r in rows if r["type"] == "price" and r["target"] == str(target)}


def test_published_fastai_entries_at_their_2018_rates_and_on_todays_markets():
    r = run_cli("price", str(IMAGENET), str(CIFAR), str(VOLTA), "--snapshot", "dawnbench-2018-04", "--json")
    assert r.returncode == 0, r.stderr
    then = records(r.stdout)
    imagenet, cifar, volta = (by_market(then, p) for p in (IMAGENET, CIFAR, VOLTA))
    row = imagenet[("aws", "on-demand")]
    assert (row["instance_type"], row["usd_per_hour"], round(row["benchmark_seconds"] / 3600, 4)) == (
        "p3.16xlarge", 24.48, 2.9575)
    assert format_usd(Decimal(str(row["benchmark_usd"]))) == "$72.40"
    assert format_usd(Decimal(str(cifar[("aws", "on-demand")]["benchmark_usd"]))) == "$1.18"
    assert round(cifar[("aws", "on-demand")]["benchmark_seconds"]) == 174
    ps = volta[("paperspace", "on-demand")]
    assert (ps["usd_per_hour"], round(ps["benchmark_seconds"])) == (2.3, 404)
    assert format_usd(Decimal(str(ps["benchmark_usd"]))) == "$0.26"
    assert "dawnbench-2018-04 is" in r.stderr and r.stderr.count("days old") == 1   # said once, not per entry
    now = run_cli("price", str(IMAGENET), str(CIFAR), str(VOLTA), "--json")
    assert now.returncode == 0, now.stderr
    today = records(now.stdout)
    for entry in (IMAGENET, CIFAR, VOLTA):
        spot = by_market(today, entry)[("aws", "spot")]
        on_demand = by_market(today, entry)[("aws", "on-demand")]
        assert spot["benchmark_usd"] < on_demand["benchmark_usd"] and spot["source"].startswith("https://github.com/")
    assert by_market(today, VOLTA)[("aws", "spot")]["instance_type"] == "p3.2xlarge"


def test_human_output_names_entry_time_and_rate(capsys):
    assert main(["price", str(VOLTA), "--snapshot", "dawnbench-2018-04"]) == 0
    out = capsys.readouterr().out
    assert "'Paperspace Volta (V100)', top1 94% at epoch 26 (0.1122 h), published at $2.30/h" in out
    assert "paperspace on-demand V100 $2.30/h: benchmark $0.26" in out
    assert "billing rule unverified" in out


def write_run(tmp_path: Path, hardware: dict) -> Path:
    """A run.json as the harness writes it (records are checked against their schema on reading)."""
    run_dir = tmp_path / "results" / "r" / "20261129T000000Z-aaaaaa"
    run_dir.mkdir(parents=True)
    record = golden_record()
    record.update(run_id=run_dir.name, hardware={"cpu_model": "test CPU", **hardware}, status="finished",
                  outcome={"reached": True, "time_to_target_s": 600.0, "session_s": 660.0, "epochs": []},
                  segments=[{"segment": 1, "status": "finished", "ended_at": "2026-11-29T00:11:00.000000Z",
                                  "session_s": 660.0}])
    (run_dir / "run.json").write_text(json.dumps(record))
    return run_dir


def test_run_directory_is_repriced_and_cost_json_rewritten(tmp_path, capsys):
    run_dir = write_run(tmp_path, {"accelerator": "cuda", "gpu_model": "V100", "gpu_count": 16,
                                   "gpus_per_node": 8, "nodes": 2})
    assert main(["price", str(run_dir), "--snapshot", "dawnbench-2018-04", "--json"]) == 0
    rows = by_market(records(capsys.readouterr().out), run_dir)
    assert rows[("aws", "on-demand")]["nodes"] == 2 and rows[("aws", "on-demand")]["benchmark_usd"] == 8.16
    cost = json.loads((run_dir / "cost.json").read_text())
    assert cost["snapshot_id"] == "dawnbench-2018-04" and cost["rows"][0]["benchmark_usd"] == "8.160000"
    assert main(["price", str(run_dir), "--dry-run"]) == 0      # asks, writes nothing
    assert json.loads((run_dir / "cost.json").read_text())["snapshot_id"] == "dawnbench-2018-04"
    assert not list(run_dir.glob(".cost.json.*"))               # no temporary file left behind


def test_a_cost_json_symlink_is_replaced_not_followed(tmp_path):
    run_dir = write_run(tmp_path, {"accelerator": "cpu", "gpu_count": 0, "vcpus": 2})
    outside = tmp_path / "outside.json"
    outside.write_text("keep me")
    (run_dir / "cost.json").symlink_to(outside)
    assert main(["price", str(run_dir)]) == 0
    assert outside.read_text() == "keep me" and not (run_dir / "cost.json").is_symlink()


def test_hardware_the_text_does_not_name_must_be_given(tmp_path, capsys):
    entry = tmp_path / "CIFAR10" / "mystery.json"
    entry.parent.mkdir()
    entry.write_text(json.dumps({"hardware": "a box in the basement", "costPerHour": 1.0}))
    entry.with_suffix(".tsv").write_text((ENTRIES / "CIFAR10" / "train" / "fastai_pytorch.tsv").read_text())
    assert main(["price", str(entry)]) == 1
    assert "pass --hardware MODEL:COUNT" in capsys.readouterr().err
    assert main(["price", str(entry), "--hardware", "V100:8", "--nodes", "2", "--json"]) == 0
    rows = by_market(records(capsys.readouterr().out), entry)
    assert rows[("aws", "on-demand")]["nodes"] == 2 and rows[("aws", "on-demand")]["instance_type"] == "p3.16xlarge"


def test_multi_machine_entry_text_gives_nodes(tmp_path, capsys):
    entry = tmp_path / "ImageNet" / "four.json"
    entry.parent.mkdir()
    entry.write_text(json.dumps({"hardware": "32 * V100 (4 machines - AWS p3.16xlarge)", "costPerHour": 97.92}))
    entry.with_suffix(".tsv").write_text((ENTRIES / "ImageNet" / "train" / "fastai_pytorch.tsv").read_text())
    assert main(["price", str(entry), "--json"]) == 0
    row = by_market(records(capsys.readouterr().out), entry)[("aws", "on-demand")]
    assert (row["nodes"], row["gpu_count"], row["usd_per_hour_total"]) == (4, 8, 97.92)


def test_bad_targets_are_one_line_each_and_exit_1(tmp_path, capsys):
    assert main(["price", str(tmp_path / "missing.json"), str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("repro: error:") for line in err)
    assert "missing.json" in err[0] and "run.json" in err[1]


def test_price_and_import_read_every_fixture_entry_alike(tmp_path):
    """`repro price ENTRY.json` and `repro import dawnbench` read an entry through one reader: the
    same seconds, epoch and hardware for every entry of tests/fixtures/dawnbench."""
    r = run_cli("import", "dawnbench", str(ENTRIES), "--out", str(tmp_path / "published.json"), "--json")
    assert r.returncode == 0, r.stderr
    imported = {e["id"]: e for e in records(r.stdout) if e["type"] == "published"}
    paths = sorted(ENTRIES.glob("*/train/*.json"))
    assert len(imported) == len(paths) == 8
    r = run_cli("price", *map(str, paths), "--json")
    priced = {e["target"]: e for e in records(r.stdout) if e["type"] == "entry"}
    unpriced = [e for e in imported.values() if e["hardware"] is None]
    assert r.returncode == 1 and len(priced) == len(paths) - len(unpriced) == 6
    for entry in unpriced:     # each refused with the reason the import gives
        assert f"{entry['hardware_text']!r}: {entry['hardware_read']}; pass --hardware" in r.stderr
    given = run_cli("price", *(str(ENTRIES / f"{e['id']}.json") for e in unpriced), "--hardware", "V100:1", "--json")
    assert given.returncode == 0, given.stderr
    priced.update({e["target"]: e for e in records(given.stdout) if e["type"] == "entry"})
    for path in paths:
        entry, record = priced[str(path)], imported[path.relative_to(ENTRIES).with_suffix("").as_posix()]
        assert (entry["time_to_target_s"], entry["epoch"], entry["accuracy_target"], entry["usd_per_hour"]) == \
            (record["time_to_target_s"], record["epoch"], record["target"], record["usd_per_hour"])
        if record["hardware"] is not None:
            hardware = entry["hardware"]
            assert entry["hardware_read"] == record["hardware_read"]
            assert {"gpu_model": hardware["gpu_model"], "gpu_count": hardware["gpus_per_node"],
                    "nodes": hardware["nodes"]} == record["hardware"]
            assert hardware["gpu_count"] == hardware["gpus_per_node"] * hardware["nodes"]


def test_nodes_without_hardware_is_a_usage_error(capsys):
    assert main(["price", str(CIFAR), "--nodes", "2"]) == 2
    assert "--nodes is the node count of --hardware MODEL:COUNT" in capsys.readouterr().err


def test_an_entry_without_hardware_text_is_priced_on_what_is_given(tmp_path, capsys):
    entry = tmp_path / "CIFAR10" / "bare.json"
    entry.parent.mkdir()
    entry.write_text(json.dumps({"costPerHour": 2}))
    entry.with_suffix(".tsv").write_text((ENTRIES / "CIFAR10" / "train" / "basenet.tsv").read_text())
    assert main(["price", str(entry)]) == 1
    assert capsys.readouterr().err.strip() == (f"repro: error: {entry}: no hardware given; pass --hardware "
                                               "MODEL:COUNT (e.g. V100:8) and --nodes N")
    assert main(["price", str(entry), "--hardware", "V100:1"]) == 0
    assert f"{entry}: published entry 1 × V100 as given, top1 94% at epoch 30" in capsys.readouterr().out
