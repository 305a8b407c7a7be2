"""The results directory: atomic writes, records read safely and checked against their schemas."""
import json
import os

import pytest

from repro.harness import rundirs, store
from tests.helpers_records import copy_run, deep_json, golden_record


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "run.json"
    store.atomic_write_json(p, {"schema_version": 1, "a": 1})
    store.atomic_write_json(p, {"schema_version": 1, "a": 2})
    assert json.loads(p.read_text()) == {"schema_version": 1, "a": 2}
    assert [f.name for f in tmp_path.iterdir()] == ["run.json"]


def test_failed_write_keeps_old_file(tmp_path):
    p = tmp_path / "run.json"
    store.atomic_write_json(p, {"schema_version": 1, "ok": True})

    class Boom:
        def __str__(self):
            raise RuntimeError("serialisation failed half way")

    with pytest.raises(RuntimeError):
        store.atomic_write_json(p, {"schema_version": 1, "bad": Boom()})
    assert json.loads(p.read_text()) == {"schema_version": 1, "ok": True}
    assert [f.name for f in tmp_path.iterdir()] == ["run.json"]


def test_schema_mismatch_names_file_and_versions(tmp_path):
    run = copy_run(tmp_path)
    (run / "run.json").write_text(json.dumps({**golden_record(), "schema_version": 99}))
    with pytest.raises(store.SchemaMismatch) as err:
        store.load_run(run)
    msg = str(err.value)
    assert str(run / "run.json") in msg and "99" in msg and str(store.SCHEMA_VERSION) in msg
    assert "unreadable: schema_version" in msg


def test_damaged_json_is_a_clear_error(tmp_path):
    (tmp_path / "run.json").write_text('{"schema_version": 1, "run_')
    with pytest.raises(store.UnreadableRecord, match="not valid JSON"):
        store.read_json(tmp_path / "run.json")


def test_a_record_that_fails_its_schema_names_the_field_and_the_reason(tmp_path):
    run = copy_run(tmp_path)
    record = golden_record()
    record["outcome"]["epochs"][2]["top1"] = "high"
    (run / "run.json").write_text(json.dumps(record))
    with pytest.raises(store.UnreadableRecord) as err:
        store.load_run(run)
    assert err.value.detail == "outcome.epochs[2].top1: must be number or null (found 'high')"
    assert str(err.value) == f"{run / 'run.json'}: unreadable: {err.value.detail}"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_not_json_and_fail_where_they_stand(tmp_path, literal):
    run = copy_run(tmp_path)
    text = json.dumps(golden_record()).replace('"time_to_target_s": 3.9', f'"time_to_target_s": {literal}')
    assert literal in text
    (run / "run.json").write_text(text)
    with pytest.raises(store.UnreadableRecord, match=f"outcome.time_to_target_s: must be number or null "
                                                      f"\\(found {literal}\\)"):
        store.load_run(run)


def test_nesting_too_deep_for_a_parser_is_unreadable_not_a_crash(tmp_path):
    for depth in (900, 2000, 100_000):
        (tmp_path / "run.json").write_text(deep_json(depth))
        with pytest.raises(store.UnreadableRecord, match="unreadable"):
            store.read_json(tmp_path / "run.json")


def test_a_symbolic_link_is_never_followed(tmp_path):
    secret = tmp_path / "outside.json"
    secret.write_text(json.dumps(golden_record()))
    run = copy_run(tmp_path / "results")
    (run / "run.json").unlink()
    (run / "run.json").symlink_to(secret)
    with pytest.raises(store.UnreadableRecord, match="a symbolic link, not followed"):
        store.read_json(run / "run.json")
    errors = []
    assert store.list_runs(tmp_path / "results", errors=errors) == []
    assert errors == [f"{run / 'run.json'}: skipped: a symbolic link, not followed"]


def test_a_fifo_or_a_huge_file_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "run.json")
    with pytest.raises(store.UnreadableRecord, match="not a regular file"):
        store.read_json(tmp_path / "run.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(store.UnreadableRecord, match="more than a record may hold"):
        store.read_bytes(big, limit=1024)


def test_list_runs_reports_unreadable_and_skipped_runs_instead_of_crashing(tmp_path):
    results = tmp_path / "results"
    good = copy_run(results, run_id="20260101T000000Z-aaaaaa")
    bad = copy_run(results, run_id="20260101T000001Z-bbbbbb")
    (bad / "run.json").write_text("{")
    empty = results / "digits" / "20260101T000002Z-cccccc"
    empty.mkdir()
    outside = copy_run(tmp_path / "elsewhere")
    (results / "digits" / "20260101T000003Z-linked").symlink_to(outside)
    (results / "linked-recipe").symlink_to(tmp_path / "elsewhere" / "digits")
    (results / "digits" / ".new-1-20260101T000004Z-dddddd").mkdir()   # a run being made: silent
    errors = []
    runs = store.list_runs(results, errors=errors)
    assert [r.run_id for r in runs] == [good.name]
    assert len(errors) == 4, errors
    assert any(str(bad) in e and "not valid JSON" in e for e in errors)
    assert f"{empty}: skipped: no run.json" in "\n".join(errors)
    assert sum("a symbolic link, not followed" in e for e in errors) == 2
    with pytest.raises(store.StoreError):
        store.list_runs(results)


def test_background_writer_lands_newest_snapshot_and_flushes(tmp_path):
    w = store.BackgroundWriter()
    target = tmp_path / "run.json"
    for i in range(200):
        w.submit(target, json.dumps({"schema_version": 1, "i": i}))
    w.flush()
    assert json.loads(target.read_text())["i"] == 199
    assert [f.name for f in tmp_path.iterdir()] == ["run.json"]


def test_background_writer_surfaces_a_failed_write(tmp_path):
    w = store.BackgroundWriter()
    w.submit(tmp_path / "no-such-dir" / "run.json", "{}")
    with pytest.raises(store.StoreError, match="writing a run snapshot failed"):
        w.flush()


def test_compact_json_writes_null_for_nan_and_parse_json_reads_json_literals():
    from repro.harness.store import compact_json, parse_json
    assert parse_json(compact_json({"loss": float("nan"), 1: "a"})) == {"loss": None, "1": "a"}
    assert parse_json('{"big": 1180591620717411303424}') == {"big": 2 ** 70}


def test_overwrite_in_place_is_the_last_resort_for_a_full_disk(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"schema_version": 1, "status": "running", "pad": "x" * 1000}))
    rundirs.overwrite_in_place(path, {"schema_version": 1, "status": "failed"})
    assert json.loads(path.read_text()) == {"schema_version": 1, "status": "failed"}
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(OSError):
        rundirs.overwrite_in_place(link, {"x": 1})
