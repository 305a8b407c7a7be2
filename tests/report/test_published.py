"""Published DAWNBench entries: read from real entry files, shown beside measured runs with the cost
their authors reported and the same hours priced today on spot, on-demand and Paperspace."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from repro.pricing.catalog import load_snapshot
from repro.pricing.rules import usd_for_seconds
from repro.report.markets import market_of
from repro.report import build_site
from repro.pricing.dawnbench_entries import TARGETS
from repro.report.comparable import TASKS as BOARD_TASKS
from repro.report.dawnbench_entries import TASKS, EntriesError, checkout_commit, import_entries
from repro.report.published import SHIPPED_DIR, imported_path, load_published, price_published
from tests.conftest import run_cli
from tests.helpers_report import GOLDEN, soup

ENTRIES = Path(__file__).resolve().parents[1] / "fixtures" / "dawnbench"
COMMIT = "fb27b827bd83eff9021698ffe576b33a100e0b78"


@pytest.fixture(scope="module")
def imported():
    document, problems = import_entries(ENTRIES, snapshot=load_snapshot(), commit=COMMIT)
    return {e["id"]: e for e in document["entries"]}, problems, document


def test_time_is_the_first_epoch_at_the_threshold_and_cost_is_hours_times_rate(imported):
    entries, _, _ = imported
    fastai = entries["CIFAR10/train/fastai_pytorch"]
    # the TSV's row for epoch 35: 0.04832193277777778 h at 94.03 % (the first at or over 94)
    assert fastai["epoch"] == 35 and fastai["accuracy"] == 0.9403
    assert fastai["time_to_target_s"] == pytest.approx(0.04832193277777778 * 3600)
    assert Decimal(fastai["reported_usd"]) == usd_for_seconds(Decimal("24.48"), fastai["time_to_target_s"])
    assert Decimal(fastai["reported_usd"]).quantize(Decimal("0.01")) == Decimal("1.18")
    assert fastai["hardware"] == {"gpu_model": "V100", "gpu_count": 8, "nodes": 1}
    volta = entries["CIFAR10/train/fastai_pytorch_single_volta"]
    assert Decimal(volta["reported_usd"]).quantize(Decimal("0.01")) == Decimal("0.26")   # the post's USD 0.26
    imagenet = entries["ImageNet/train/fastai_pytorch"]
    assert imagenet["target"] == {"metric": "top5", "value": 0.93}
    assert Decimal(imagenet["reported_usd"]).quantize(Decimal("0.01")) == Decimal("72.40")
    assert fastai["source"] == f"https://github.com/stanford-futuredata/dawn-bench-entries/blob/{COMMIT}/" \
                               "CIFAR10/train/fastai_pytorch.json"


def test_odd_real_files_are_read_as_written(imported):
    entries, problems, _ = imported
    assert problems == []
    kres = entries["CIFAR10/train/KRes34_1GTX1080Ti_pytorch"]          # TSV with a byte-order mark
    assert kres["epoch"] is not None and kres["hardware"] is None
    assert "names no GPU model" in kres["hardware_read"]
    mxnet = entries["ImageNet/train/dawn_resnet152_b_8k80_ec2_mxnet"]  # hours before epoch
    assert mxnet["hardware"] == {"gpu_model": "K80", "gpu_count": 8, "nodes": 1}
    tpu = entries["ImageNet/train/google_resnet50_tpupod_tensorflow18"]
    assert tpu["hardware"] is None and "TPU" in tpu["hardware_read"] and tpu["reported_usd"] is None
    sixteen = entries["ImageNet/train/fastai_resnet50_p3_16_machine_pytorch"]
    assert sixteen["hardware"] == {"gpu_model": "V100", "gpu_count": 8, "nodes": 16}


def test_priced_today_on_every_market_of_the_snapshot(imported):
    entries, _, _ = imported
    snapshot = load_snapshot()
    rows = {r["id"]: r for r in price_published(list(entries.values()), snapshot)}
    volta = rows["CIFAR10/train/fastai_pytorch_single_volta"]          # 1 × V100
    seconds = volta["time_to_target_s"]
    for market in ("spot", "on-demand", "paperspace"):
        offers = [o for o in snapshot.find(gpu_model="V100", gpu_count=1)
                  if market_of(f"{o.provider} {o.market}") == market]
        cost = volta["market_costs"][market]
        cheapest = min(offers, key=lambda o: (o.usd_per_hour, o.provider))
        assert Decimal(cost["usd"]) == usd_for_seconds(cheapest.usd_per_hour, seconds)
        assert cost["key"] == f"{cheapest.provider} {cheapest.market}"
    assert volta["snapshot_id"] == snapshot.id
    eight = rows["CIFAR10/train/fastai_pytorch"]
    assert {"spot", "on-demand"} <= set(eight["market_costs"])
    if "paperspace" not in eight["market_costs"]:
        assert "8 x V100" in eight["no_offer"]["paperspace"]
    sixteen = rows["ImageNet/train/fastai_resnet50_p3_16_machine_pytorch"]   # 16 instances for the time
    one_node = min(o.usd_per_hour for o in snapshot.find(gpu_model="V100", gpu_count=8, market="on-demand")
                   if market_of(f"{o.provider} {o.market}") == "on-demand")
    assert Decimal(sixteen["market_costs"]["on-demand"]["usd"]) == usd_for_seconds(
        one_node, sixteen["time_to_target_s"] * 16)
    assert sixteen["market_costs"]["on-demand"]["instance_type"].startswith("16 × ")
    tpu = rows["ImageNet/train/google_resnet50_tpupod_tensorflow18"]
    assert tpu["market_costs"] == {} and "TPU" in tpu["not_priced"]


def test_imported_entries_show_reported_and_todays_costs_on_the_board(tmp_path):
    """The acceptance path: `repro import dawnbench` on real entry files, then `repro report`."""
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    r = run_cli("import", "dawnbench", str(ENTRIES), "--results", str(results), "--commit", COMMIT)
    assert r.returncode == 0, r.stderr
    assert "CIFAR10/train/fastai_pytorch_single_volta" in r.stdout and "reported $0.26" in r.stdout
    assert imported_path(results, "dawnbench").is_file()
    r = run_cli("report", "--results", str(results), "--out", str(tmp_path / "site"))
    assert r.returncode == 0, r.stderr
    page = soup(tmp_path / "site" / "index.html")
    volta = page.find("tr", attrs={"data-id": "CIFAR10/train/fastai_pytorch_single_volta"})
    cells = {td["class"][-1] if "cost" not in td["class"] else td["class"][1]: td
             for td in volta.find_all("td")}
    assert cells["reported"].get_text() == "$0.26"
    for market in ("m-spot", "m-on-demand", "m-paperspace"):
        assert cells[market].get_text().startswith("$"), market
    assert volta.find("td", class_="rank").get_text(strip=True) == "published"
    data = json.loads((tmp_path / "site" / "index.json").read_text())
    board = [b for b in data["tasks"] if b["task"] == "cifar10"][0]
    row = [p for p in board["published"] if p["id"] == "CIFAR10/train/fastai_pytorch_single_volta"][0]
    assert row["reported_usd"] and set(row["market_costs"]) == {"spot", "on-demand", "paperspace"}
    assert row["origin"]["commit"] == COMMIT


def test_a_repository_that_is_not_one_is_an_error_and_writes_nothing(tmp_path):
    with pytest.raises(EntriesError, match="no CIFAR10/train or ImageNet/train folder"):
        import_entries(tmp_path)
    r = run_cli("import", "dawnbench", str(tmp_path), "--results", str(tmp_path / "results"))
    assert r.returncode == 1 and "pass a checkout of" in r.stderr
    assert not (tmp_path / "results").exists()
    r = run_cli("import", "dawnbench", str(ENTRIES), "--commit", "abc", "--results", str(tmp_path / "r2"))
    assert r.returncode == 1 and "40-character" in r.stderr and not (tmp_path / "r2").exists()


def test_hostile_entries_are_left_out_and_named(tmp_path):
    root = tmp_path / "entries"
    shutil.copytree(ENTRIES, root)
    train = root / "CIFAR10" / "train"
    nan = json.loads((train / "basenet.json").read_text())
    (train / "basenet.json").write_text(json.dumps(nan).replace("3.06", "NaN"))
    (train / "fastai_pytorch.tsv").write_text("epoch\thours\ttop1Accuracy\n1\t0.1\t90.0\n2\t0.2\t93.9\n")
    secret = tmp_path / "secret.json"
    secret.write_text('{"author": "x"}')
    os.symlink(secret, train / "linked.json")
    (train / "linked.tsv").write_text("epoch\thours\ttop1Accuracy\n1\t0.1\t95\n")
    document, problems = import_entries(root, snapshot=load_snapshot(), commit=COMMIT)
    ids = {e["id"] for e in document["entries"]}
    assert "CIFAR10/train/basenet" not in ids and "CIFAR10/train/fastai_pytorch" not in ids
    assert "CIFAR10/train/linked" not in ids
    text = "\n".join(problems)
    assert "basenet.json: NaN is not a number JSON allows" in text
    assert "fastai_pytorch.json: never reaches 94 % top1Accuracy (best 93.9 %)" in text
    assert "linked.json: not a file inside the checkout" in text


def test_the_commit_is_read_only_from_a_checkout_of_the_entries_itself(tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    root = tmp_path / "dawn-bench-entries"
    shutil.copytree(ENTRIES, root)
    subprocess.run([*git, "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "entries"], check=True)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert checkout_commit(root) == (head, False)
    (root / "CIFAR10" / "train" / "basenet.tsv").write_text("changed")
    assert checkout_commit(root) == (head, True)
    # a copy inside another repository (as tests/fixtures sits inside repro's) is at no commit of its own
    nested = root / "copy"
    shutil.copytree(ENTRIES, nested)
    assert checkout_commit(nested) == (None, None)
    document, _ = import_entries(nested)
    assert document["commit"] is None and "/blob/master/" in document["entries"][0]["source"]


def test_entries_can_be_picked_by_name(tmp_path):
    document, problems = import_entries(ENTRIES, names=["CIFAR10/fastai_pytorch", "basenet", "nope"],
                                        commit=COMMIT)
    assert [e["id"] for e in document["entries"]] == ["CIFAR10/train/fastai_pytorch", "CIFAR10/train/basenet"]
    assert problems == [f"nope: no such entry under {ENTRIES}"]


def test_shipped_records_name_their_commit_and_cover_what_was_promised():
    entries, errors = load_published(None)
    assert errors == []
    ids = {e["id"] for e in entries}
    assert {"CIFAR10/train/fastai_pytorch", "CIFAR10/train/fastai_pytorch_single_volta",
            "ImageNet/train/fastai_pytorch", "CIFAR10/train/basenet",
            "CIFAR10/train/apple_resnet9_8v100_pytorch",                  # fastest CIFAR-10 entry
            "CIFAR10/train/BAIDU-USA-GAIT_BaiduNet9_1GV100_pytorch",      # cheapest CIFAR-10 entry
            "ImageNet/train/alibabacloud_resnet50_gn6e_16_machine_tensorflow",   # fastest ImageNet
            "ImageNet/train/alibabacloud_resnet50_gn6e_1_machine_tensorflow"} <= ids   # cheapest ImageNet
    for entry in entries:
        commit = entry["origin"]["commit"]
        assert len(commit) == 40 and commit in entry["source"], entry["id"]
    for path in SHIPPED_DIR.glob("*.json"):
        assert json.loads(path.read_text())["dirty"] is False


def test_the_shipped_dawnbench_file_is_what_the_importer_writes_from_its_commit():
    """Regenerating the shipped records from the test copies of the same entry files gives the
    same numbers (the shipped file is imported data, not typed)."""
    shipped = {e["id"]: e for e in json.loads((SHIPPED_DIR / "dawnbench.json").read_text())["entries"]}
    again, _ = import_entries(ENTRIES, snapshot=load_snapshot(), commit=COMMIT)
    for entry in again["entries"]:
        if entry["id"] in shipped:
            assert entry == shipped[entry["id"]]


def test_a_damaged_published_file_is_reported_not_fatal(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    bad = imported_path(results, "dawnbench")
    bad.parent.mkdir()
    bad.write_text(json.dumps({"schema_version": 1, "entries": [{"id": "x", "task": "cifar10",
                                                                  "source": "https://e", "time_to_target_s": None}]}))
    index = build_site(results, tmp_path / "site")
    errors = soup(index).find("section", class_="errors").get_text()
    assert "time_to_target_s None is not a positive number" in errors
    assert "its published results are not shown" in errors


def test_each_imported_task_is_ranked_at_the_target_the_entries_are_read_at():
    for folder, task in TASKS.items():
        metric, value = TARGETS[folder]
        assert (BOARD_TASKS[task]["metric"], BOARD_TASKS[task]["value"]) == (metric, value)


def test_markup_and_script_links_in_a_record_stay_text(tmp_path):
    results = tmp_path / "results"
    (results / "cifar-airbench94").mkdir(parents=True)
    evil = {"id": "x/<script>alert(1)</script>", "task": "cifar10", "kind": "dawnbench",
            "model": "<img src=x onerror=alert(1)>", "author": "\"><script>alert('a')</script>",
            "framework": "<b>f</b>", "code_url": "javascript:alert('code')", "date": "2018-01-01",
            "hardware_text": "<i>8 * V100</i>", "hardware": None, "hardware_read": "<script>x</script>",
            "target": {"metric": "top1", "value": 0.94}, "epoch": 1, "accuracy": 0.95, "hours": 0.1,
            "time_to_target_s": 360.0, "usd_per_hour": None, "reported_usd": None,
            "source": "javascript:alert('src')", "log": "javascript:alert('log')"}
    index = build_site(results, tmp_path / "site", published=[evil])
    raw = index.read_text()
    assert "<script>alert" not in raw and "<img src=x" not in raw and "<b>f</b>" not in raw
    page = soup(index)
    assert not [a for a in page.find_all("a") if a.get("href", "").lower().startswith("javascript")]
    row = page.find("tr", attrs={"data-id": evil["id"]})
    assert evil["model"] in row.get_text() and evil["author"] in row.get_text()


def test_without_a_readable_snapshot_published_rows_keep_their_reported_cost(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_PRICE_SNAPSHOT", str(tmp_path / "gone.csv"))
    results = tmp_path / "results"
    shutil.copytree(GOLDEN / "cifar-airbench94", results / "cifar-airbench94")
    page = soup(build_site(results, tmp_path / "site"))
    assert "published results shown at their reported cost only" in page.find("section", class_="errors").get_text()
    row = page.find("tr", attrs={"data-id": "CIFAR10/train/fastai_pytorch"})
    assert row.find("td", class_="reported").get_text() == "$1.18"
    assert {td.get_text() for td in row.select("td.cost")} <= {"not priced"}
