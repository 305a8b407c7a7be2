"""The one reader of a DAWNBench entry (JSON + TSV): the real files of
stanford-futuredata/dawn-bench-entries (tests/fixtures/dawnbench), entries outside that layout, and
files a hostile checkout may hold."""
from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from repro.pricing.catalog import load_snapshot
from repro.pricing.dawnbench_entries import TARGETS, EntryError, read_entry, task_folder

ENTRIES = Path(__file__).resolve().parents[1] / "fixtures" / "dawnbench"
CIFAR_TSV = (ENTRIES / "CIFAR10" / "train" / "fastai_pytorch.tsv").read_text()


@pytest.fixture(scope="module")
def snapshot():
    return load_snapshot()


def write_entry(folder: Path, name: str, fields: dict | str, tsv: str = CIFAR_TSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(fields if isinstance(fields, str) else json.dumps(fields))
    path.with_suffix(".tsv").write_text(tsv)
    return path


def test_an_entry_is_read_under_the_dawnbench_rule(snapshot):
    entry = read_entry(ENTRIES / "CIFAR10" / "train" / "fastai_pytorch.json", snapshot=snapshot)
    # the TSV's row for epoch 35: 0.04832193277777778 h at 94.03 % (the first at or over 94)
    assert (entry.target, entry.epoch, entry.accuracy) == (("top1", 0.94), 35, 0.9403)
    assert entry.hours == 0.04832193277777778 and entry.time_to_target_s == entry.hours * 3600
    assert entry.hardware == {"accelerator": "cuda", "gpu_model": "V100", "gpu_count": 8, "gpus_per_node": 8,
                              "nodes": 1}
    assert entry.hardware_read == "8 × V100 on p3.16xlarge" and entry.not_priced is None
    assert entry.usd_per_hour == Decimal("24.48") and entry.hardware_text == "8 * V100 (AWS p3.16xlarge)"
    assert entry.fields["model"] == "Custom Wide Resnet"


def test_odd_real_files_read_as_written(snapshot):
    train = ENTRIES / "ImageNet" / "train"
    mxnet = read_entry(train / "dawn_resnet152_b_8k80_ec2_mxnet.json", snapshot=snapshot)   # hours before epoch
    assert (mxnet.target, mxnet.epoch) == (("top5", 0.93), 107) and mxnet.hardware["gpu_model"] == "K80"
    sixteen = read_entry(train / "fastai_resnet50_p3_16_machine_pytorch.json", snapshot=snapshot)
    assert (sixteen.hardware["gpus_per_node"], sixteen.hardware["nodes"], sixteen.hardware["gpu_count"]) == (8, 16, 128)
    kres = read_entry(ENTRIES / "CIFAR10" / "train" / "KRes34_1GTX1080Ti_pytorch.json", snapshot=snapshot)  # BOM
    assert kres.epoch == 55 and kres.hardware is None and "names no GPU model" in kres.not_priced
    tpu = read_entry(train / "google_resnet50_tpupod_tensorflow18.json", snapshot=snapshot)   # CRLF
    assert tpu.epoch == 87 and "TPU" in tpu.not_priced and tpu.usd_per_hour is None


def test_the_first_row_at_the_target_is_found_by_column_name(tmp_path):
    tsv = "hours\tepoch\ttop1Accuracy\ttop5Accuracy\n0.5\t1\t60\t92.9\n0.9\t2\t70\t93.0\n"
    entry = read_entry(write_entry(tmp_path / "ImageNet" / "train", "e", {"hardware": "8 * V100"}, tsv))
    assert (entry.epoch, entry.hours, entry.accuracy) == (2, 0.9, 0.93)
    fractional = "epoch\thours\ttop1Accuracy\n1.00096\t0.09\t41.3\n2.00192\t0.18\t94.5\n"
    assert read_entry(write_entry(tmp_path / "CIFAR10" / "train", "tf", {}, fractional)).epoch == 2.00192


@pytest.mark.parametrize("tsv, message", [
    ("epoch\thours\ttop1Accuracy\n1\t0.1\t50\n", "its TSV e.tsv has no top5Accuracy values"),
    ("epoch\thours\ttop1Accuracy\ttop5Accuracy\n1\tinf\t50\t95\n", "its TSV e.tsv: TSV line 2 is not a row of finite"),
    ("epoch\thours\ttop1Accuracy\ttop5Accuracy\n1\t0.1\t50\t90\n2\t0.2\t60\t92.99\n",
     "never reaches 93 % top5Accuracy (best 92.99 %)"),
    ("", "its TSV e.tsv has no top5Accuracy values"),
])
def test_a_log_that_does_not_say_the_time_is_an_error(tmp_path, tsv, message):
    with pytest.raises(EntryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_entry(write_entry(tmp_path / "ImageNet" / "train", "e", {"hardware": "8 * V100"}, tsv))


def test_the_target_comes_from_the_flag_then_the_task_folder_then_what_an_export_recorded(tmp_path):
    exported = {"hardware": "8 × V100", "misc": {"target": {"metric": "top1", "value": 0.5}}}
    assert read_entry(write_entry(tmp_path / "exports", "run", exported)).target == ("top1", 0.5)
    assert read_entry(write_entry(tmp_path / "CIFAR10", "run", exported)).target == TARGETS["CIFAR10"]
    assert read_entry(write_entry(tmp_path / "exports", "run", exported), target="top1:93").target == ("top1", 0.93)
    assert read_entry(write_entry(tmp_path / "exports", "run", exported), target="top1:0.9").target == ("top1", 0.9)
    # a folder called imagenet higher up says nothing about an entry two levels below it
    lost = write_entry(tmp_path / "imagenet" / "exports" / "mine", "e", {"hardware": "8 * V100"})
    with pytest.raises(EntryError, match="no target known.*pass --target top1:94"):
        read_entry(lost)
    assert task_folder(lost) is None and task_folder(tmp_path / "imagenet" / "train" / "e.json") == "ImageNet"
    for bad in ("top3:94", "top1:0", "top1:101", "top1:", "top1:nan"):
        with pytest.raises(EntryError, match="write top1:94 or top5:93"):
            read_entry(lost, target=bad)
    damaged = {"misc": {"target": {"metric": "top1", "value": "0.5"}}}
    with pytest.raises(EntryError, match="no target known"):
        read_entry(write_entry(tmp_path / "exports", "damaged", damaged))


def test_log_filename_is_a_url_in_real_entries_and_is_not_followed(tmp_path):
    fields = {"hardware": "8 * V100", "logFilename": "https://github.com/x/y/files/1531578/log.log"}
    assert read_entry(write_entry(tmp_path / "CIFAR10" / "train", "e", fields)).epoch == 35
    fields["logFilename"] = "../../../../etc/passwd"
    assert read_entry(write_entry(tmp_path / "CIFAR10" / "train", "e", fields)).epoch == 35


@pytest.mark.parametrize("text, message", [
    ('{"hardware": "8 * V100", "costPerHour": NaN}', "NaN is not a number JSON allows"),
    ('{"hardware": "8 * V100", "costPerHour": Infinity}', "Infinity is not a number JSON allows"),
    ('{"hardware": "8 * V100", "costPerHour": 0}', "costPerHour 0 is not a positive number"),
    ('{"hardware": "8 * V100", "costPerHour": -3}', "costPerHour -3 is not a positive number"),
    ('{"hardware": "8 * V100", "costPerHour": true}', "costPerHour True is not a positive number"),
    ('{"hardware": "8 * V100", "costPerHour": "1e999"}', "costPerHour '1e999' is not a positive number"),
    ('{"hardware": "8 * V100", "costPerHour": "cheap"}', "costPerHour 'cheap' is not a positive number"),
    ('{"hardware": "8 * V100", "costPerHour": [3]}', r"costPerHour \[3\] is not a positive number"),
    ("[1, 2]", "the JSON is not an object"),
    ("{", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('{"schema_version": 1, "run_id": "x", "hardware": {}}', "a run's run.json, not a DAWNBench entry"),
])
def test_a_damaged_entry_says_what_is_wrong(tmp_path, text, message):
    with pytest.raises(EntryError, match=message):
        read_entry(write_entry(tmp_path / "CIFAR10" / "train", "e", text))


def test_a_rate_written_as_text_keeps_its_digits(tmp_path):
    entry = read_entry(write_entry(tmp_path / "CIFAR10" / "train", "e", {"hardware": "V100", "costPerHour": "3.060"}))
    assert entry.usd_per_hour == Decimal("3.060")
    assert read_entry(write_entry(tmp_path / "CIFAR10", "f", {"costPerHour": 3.06})).usd_per_hour == Decimal("3.06")


def test_a_byte_order_mark_before_the_json_is_dropped(tmp_path):
    path = write_entry(tmp_path / "CIFAR10" / "train", "e", {"hardware": "V100"})
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_entry(path).hardware_read == "1 × V100"


def test_given_hardware_replaces_the_text(tmp_path, snapshot):
    path = write_entry(tmp_path / "CIFAR10", "mystery", {"hardware": "a box in the basement"})
    assert read_entry(path, snapshot=snapshot).not_priced == "names no GPU model or instance type repro can price"
    entry = read_entry(path, snapshot=snapshot, hardware="V100:8", nodes=2)
    assert entry.hardware["gpu_count"] == 16 and entry.hardware_read == "2 × 8 × V100 as given"
    with pytest.raises(EntryError, match="write MODEL:COUNT"):
        read_entry(path, hardware="V100:none")


def test_inside_a_checkout_no_link_out_of_it_is_followed(tmp_path):
    root = tmp_path / "entries"
    shutil.copytree(ENTRIES, root)
    train = root / "CIFAR10" / "train"
    outside = write_entry(tmp_path / "elsewhere", "secret", {"hardware": "V100"})
    os.symlink(outside, train / "linked.json")
    with pytest.raises(EntryError, match="not a file inside the checkout"):
        read_entry(train / "linked.json", checkout=root)
    (train / "basenet.tsv").unlink()
    os.symlink(outside.with_suffix(".tsv"), train / "basenet.tsv")
    with pytest.raises(EntryError, match="not a file inside the checkout"):
        read_entry(train / "basenet.json", checkout=root)
    assert read_entry(train / "basenet.json").epoch == 35         # a file the user names is read


def test_what_is_not_a_regular_file_is_not_read(tmp_path):
    path = write_entry(tmp_path / "CIFAR10", "e", {"hardware": "V100"})
    path.with_suffix(".tsv").unlink()
    with pytest.raises(EntryError, match="no such file"):
        read_entry(path)
    os.mkfifo(path.with_suffix(".tsv"))            # would block a reader that opened it
    with pytest.raises(EntryError, match="not a regular file"):
        read_entry(path)
    with pytest.raises(EntryError, match="no such file"):
        read_entry(tmp_path / "CIFAR10" / "missing.json")
    loop = tmp_path / "CIFAR10" / "loop.json"
    os.symlink(loop, loop)
    with pytest.raises(EntryError, match="a link that loops back on itself"):
        read_entry(loop)
