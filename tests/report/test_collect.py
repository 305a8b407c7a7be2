"""Reading a results folder that holds broken, hostile or half-made records: `repro report` exits 0,
lists each bad record as "unreadable: <field>: <reason>" (or "skipped: <why>") and renders the rest;
no symbolic link is followed and no byte of a file outside --results reaches the site."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.report import build_site
from repro.report.collect import collect_runs
from tests.conftest import run_cli
from tests.helpers_records import (COST_VARIANTS, GOLDEN, RUN_VARIANTS, break_record, copy_run, deep_json,
                                   golden_record)

GOOD_ID = "20261101T100000Z-good00"
SECRET = "TOP-SECRET-BYTES-0xC0FFEE"


def _variant_id(index: int) -> str:
    return f"20261102T{index:06d}Z-bad{index:03d}"


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory):
    """One good run, and one run directory per broken variant (run.json and cost.json ones)."""
    results = tmp_path_factory.mktemp("hostile") / "results"
    copy_run(results, run_id=GOOD_ID)
    for index, (name, field, raw) in enumerate(RUN_VARIANTS + COST_VARIANTS):
        break_record(copy_run(results, run_id=_variant_id(index)), name, field, raw)
    deep = copy_run(results, run_id=_variant_id(900))
    (deep / "run.json").write_text(deep_json(2000))
    return results


def test_every_broken_record_is_listed_and_the_rest_renders(hostile_results):
    collected = collect_runs(hostile_results)
    shown = {run["run_id"] for run in collected.runs}
    errors = "\n".join(collected.errors)
    for index, (name, field, raw) in enumerate(RUN_VARIANTS):
        run_id = _variant_id(index)
        assert run_id not in shown, (field, raw)
        line = next(e for e in collected.errors if run_id in e)
        assert line.startswith(f"digits/{run_id}/run.json: unreadable: "), line
        assert field.split(".")[0] in line or "schema_version" in line, line
    for index, (name, field, raw) in enumerate(COST_VARIANTS, start=len(RUN_VARIANTS)):
        run = next(r for r in collected.runs if r["run_id"] == _variant_id(index))
        assert not run["priced"] and run["costs"] == []          # shown, as not priced
        assert f"digits/{_variant_id(index)}/cost.json: unreadable: " in errors
    assert f"digits/{_variant_id(900)}/run.json: unreadable: nested too deeply" in errors
    assert GOOD_ID in shown
    assert str(hostile_results) not in errors        # paths relative to --results, never this machine's
    assert {u["path"] for u in collected.unreadable} >= {f"digits/{_variant_id(i)}" for i in range(len(RUN_VARIANTS))}


def test_repro_report_exits_0_and_lists_every_bad_run(hostile_results, tmp_path):
    out = run_cli("report", "--results", str(hostile_results), "--out", str(tmp_path / "site"))
    assert out.returncode == 0, out.stderr[-3000:]
    index = (tmp_path / "site" / "index.html").read_text()
    for index_number in range(len(RUN_VARIANTS) + len(COST_VARIANTS)):
        assert _variant_id(index_number) in index
    data = json.loads((tmp_path / "site" / "index.json").read_text())
    assert len(data["unreadable"]) == len(RUN_VARIANTS) + 1
    assert (tmp_path / "site" / "runs" / "digits" / f"{GOOD_ID}.html").is_file()


def test_repro_digits_refuses_a_task_that_would_name_a_file(tmp_path):
    out = run_cli("digits", "--set", "task=a/b", "--results", str(tmp_path / "r"))
    assert out.returncode == 1 and "task 'a/b'" in out.stderr
    assert not (tmp_path / "r").exists()


# -- symbolic links and files outside --results ---------------------------------------------------
@pytest.fixture
def linked_results(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    (outside / "secret.json").write_text(json.dumps({**golden_record(), "recipe": SECRET}))
    results = tmp_path / "results"
    for index, name in enumerate(("metrics.tsv", "mllog.log", "cost.json", "run.json")):
        run = copy_run(results, run_id=f"20261103T00000{index}Z-link{index:02d}")
        (run / name).unlink()
        (run / name).symlink_to(secret if name != "run.json" else outside / "secret.json")
    elsewhere = copy_run(outside / "runs")
    record = json.loads((elsewhere / "run.json").read_text())
    (elsewhere / "run.json").write_text(json.dumps({**record, "recipe": SECRET}))
    (results / "digits" / "20261103T000009Z-linkdir").symlink_to(elsewhere)
    (results / "linked-recipe").symlink_to(outside / "runs" / "digits")
    return results, outside


def test_no_link_and_no_outside_byte_reaches_the_site(linked_results, tmp_path):
    results, outside = linked_results
    site = tmp_path / "site"
    out = run_cli("report", "--results", str(results), "--out", str(site))
    assert out.returncode == 0, out.stderr[-3000:]
    for path in site.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            assert os.lstat(path).st_ino not in {os.stat(p).st_ino for p in outside.rglob("*") if p.is_file()}
    index = (site / "index.html").read_text()
    for skipped in ("metrics.tsv", "mllog.log", "cost.json"):
        assert f"{skipped}: skipped: a symbolic link, not followed" in index
    assert "20261103T000003Z-link03/run.json: skipped: a symbolic link, not followed" in index
    assert "20261103T000009Z-linkdir: skipped: a symbolic link, not followed" in index
    assert "linked-recipe: skipped: a symbolic link, not followed" in index
    page = (site / "runs" / "digits" / "20261103T000000Z-link00.html").read_text()
    assert "metrics.tsv" not in page.split("Files:")[1].split("</p>")[0]   # not linked from the page


def test_export_and_rerun_say_unreadable_and_the_field(hostile_results, tmp_path):
    bad = hostile_results / "digits" / _variant_id(0)
    for args in (["export", "dawnbench", str(bad), "--out", str(tmp_path / "e")], ["rerun", str(bad)]):
        out = run_cli(*args)
        assert out.returncode == 1, out.stderr
        assert "unreadable: outcome.time_to_target_s: must be number or null (found Infinity)" in out.stderr
    linked = tmp_path / "linked-run"
    linked.symlink_to(hostile_results / "digits" / GOOD_ID)
    out = run_cli("export", "dawnbench", str(linked), "--out", str(tmp_path / "e"))
    assert out.returncode == 1 and "a symbolic link, not followed" in out.stderr


def test_export_writes_the_entry_without_a_price_when_cost_json_is_bad(hostile_results, tmp_path):
    from repro.report.dawnbench import export_dawnbench

    bad_cost = hostile_results / "digits" / _variant_id(len(RUN_VARIANTS))
    paths = export_dawnbench(bad_cost, tmp_path / "e")
    entry = json.loads(paths[0].read_text())
    assert entry["costPerHour"] is None and "cost.json: unreadable: rows" in entry["misc"]["costPerHour_source"]


# -- half-made and stale runs, staging left by killed processes ----------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_running_run_whose_process_is_gone_is_stale(tmp_path):
    results = tmp_path / "results"
    run = copy_run(results, run_id="20261104T000000Z-stale0")
    record = {**golden_record(), "run_id": run.name, "status": "running", "ended_at": None,
              "process": {"pid": _dead_pid(), "hostname": socket.gethostname(), "boot_id": None,
                          "heartbeat_at": "2026-11-04T00:00:00Z"}}
    (run / "run.json").write_text(json.dumps(record))
    alive = copy_run(results, run_id="20261104T000001Z-alive0")
    (alive / "run.json").write_text(json.dumps({**record, "run_id": alive.name, "process": {
        **record["process"], "pid": os.getpid(), "started_unix_s": None}}))
    elsewhere = copy_run(results, run_id="20261104T000002Z-other0")
    (elsewhere / "run.json").write_text(json.dumps({**record, "run_id": elsewhere.name, "process": {
        **record["process"], "hostname": "another-host"}}))
    runs = {r["run_id"]: r for r in collect_runs(results).runs}
    assert runs[run.name]["stale"] and runs[run.name]["status_text"] == "stale (process gone)"
    assert not runs[alive.name]["stale"] and runs[alive.name]["status_text"] == "running"
    assert runs[elsewhere.name]["status_text"] == "running on another-host (not checked from here)"
    out = run_cli("runs", "--results", str(results))
    assert out.returncode == 0
    assert "stale (process gone)" in next(line for line in out.stdout.splitlines() if run.name in line)


def test_a_build_removes_staging_left_by_killed_processes_only(tmp_path):
    results = tmp_path / "results"
    copy_run(results)
    dead_run = results / "digits" / f".new-{_dead_pid()}-20261105T000000Z-aaaaaa"
    dead_run.mkdir()
    os.utime(dead_run, (0, 0))                 # older than the grace a live one gets
    site = tmp_path / "site"
    dead_page = site / "runs" / f".staging-{_dead_pid()}"
    dead_page.mkdir(parents=True)
    (dead_page / "half.html").write_text("<p>half")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_page = site / "runs" / f".staging-{sleeper.pid}"
        live_page.mkdir()
        build_site(results, site)
        assert not dead_run.exists() and not dead_page.exists()
        assert live_page.exists()             # another build at work keeps its folder
    finally:
        sleeper.kill()
        sleeper.wait()


# -- property-based: real records mutated at random never stop the report --------------------------
DELETE = object()


@st.composite
def mutations(draw):
    record = golden_record()
    paths = []

    def walk(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*prefix, key))
                walk(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((*prefix, index))
                walk(value, (*prefix, index))

    walk(record, ())
    path = draw(st.sampled_from(paths))
    if draw(st.integers(0, 4)) == 0:
        return path, DELETE
    value = draw(st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=8),
                           st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.none(), max_size=2)))
    return path, value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(mutations())
def test_a_mutated_real_record_is_shown_or_listed_never_a_crash(tmp_path, mutation):
    path, value = mutation
    results = tmp_path / "results"
    shutil.rmtree(results, ignore_errors=True)
    run = copy_run(results)
    record = golden_record()
    node = record
    for part in path[:-1]:
        node = node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    (run / "run.json").write_text(json.dumps(record))     # NaN/Infinity as Python's json writes them
    site = tmp_path / "site"
    build_site(results, site)
    data = json.loads((site / "index.json").read_text())
    assert len(data["runs"]) + len(data["unreadable"]) == 1


def test_a_source_url_urlsplit_refuses_is_shown_as_text(tmp_path):
    results = tmp_path / "results"
    run = copy_run(results)
    record = {**golden_record(), "published": {"claim": "a claim", "source": "http://user:[x@[broken/paper"}}
    (run / "run.json").write_text(json.dumps(record))
    build_site(results, tmp_path / "site")
    page = (tmp_path / "site" / "runs" / "digits" / f"{run.name}.html").read_text()
    assert "http://user:[x@[broken/paper" in page and 'href="http://user' not in page


def test_golden_tree_still_renders_whole(tmp_path):
    collected = collect_runs(GOLDEN)
    assert collected.errors == [] and len(collected.runs) == 20
