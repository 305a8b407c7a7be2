"""The results directory: atomic writes, schema checks, unique run ids."""
import json
import multiprocessing as mp
import os

import pytest

from repro.harness import store


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
    run = tmp_path / "digits" / "20260101T000000Z-abcdef"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"schema_version": 99, "run_id": "x"}))
    with pytest.raises(store.SchemaMismatch) as err:
        store.load_run(run)
    msg = str(err.value)
    assert str(run / "run.json") in msg and "99" in msg and str(store.SCHEMA_VERSION) in msg


def test_damaged_json_is_a_clear_error(tmp_path):
    (tmp_path / "run.json").write_text('{"schema_version": 1, "run_')
    with pytest.raises(store.StoreError, match="not valid JSON"):
        store.read_json(tmp_path / "run.json")


def test_list_runs_reports_unreadable_runs_instead_of_crashing(tmp_path):
    good = tmp_path / "digits" / "20260101T000000Z-aaaaaa"
    bad = tmp_path / "digits" / "20260101T000001Z-bbbbbb"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    store.atomic_write_json(good / "run.json", {"schema_version": 1, "run_id": good.name, "status": "finished"})
    (bad / "run.json").write_text("{")
    errors = []
    runs = store.list_runs(tmp_path, errors=errors)
    assert [r.run_id for r in runs] == [good.name]
    assert len(errors) == 1 and str(bad) in errors[0]


def _make_dirs(args):
    results, n = args
    return [store.create_run_dir(results, "digits").name for _ in range(n)]


def test_concurrent_processes_never_share_a_run_dir(tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        names = sum(pool.map(_make_dirs, [(tmp_path, 25)] * 4), [])
    assert len(names) == 100 and len(set(names)) == 100
    assert len(os.listdir(tmp_path / "digits")) == 100


def test_unwritable_results_dir_is_refused(tmp_path):
    # a path below a regular file can't be created, even by root
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(store.StoreError, match="writable --results"):
        store.create_run_dir(blocker / "results", "digits")


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


def test_read_json_takes_the_nan_literals_json_writes_for_a_diverged_loss(tmp_path):
    import math
    from repro.harness.store import StoreError, compact_json, parse_json, read_json
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"schema_version": 1, "loss": float("nan"), "big": 2 ** 70, "x": [1.5]}))
    data = read_json(path)
    assert math.isnan(data["loss"]) and data["big"] == 2 ** 70 and data["x"] == [1.5]
    assert parse_json(compact_json({"loss": float("nan"), 1: "a"})) == {"loss": None, "1": "a"}
    path.write_text('{"schema_version": 1, "x": ')
    with pytest.raises(StoreError, match="not valid JSON"):
        read_json(path)
