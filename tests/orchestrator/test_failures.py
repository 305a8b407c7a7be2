"""Nothing is lost: divergence, exceptions, SIGTERM (at any moment, as PID 1 too), SIGKILL and a full
disk all leave readable, marked runs, the documented exit status and no half-made directory."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time

import pytest

from repro import api
from repro.harness import rundirs, store
from repro.harness.mllog import read_events
from tests.conftest import REPO, REPRO_BIN, prerequisite, run_cli


def test_nan_loss_marks_the_run_diverged_and_keeps_it(tmp_path):
    summary = api.train("digits", epochs=2, results_dir=tmp_path, overrides=["optim.peak_lr=1e12"])
    assert not summary.ok
    run = summary.runs[0]
    rec = store.load_run(run.run_dir).data
    assert rec["status"] == "diverged" and "loss became" in rec["error"]
    stop = [e for e in read_events(run.run_dir / "mllog.log") if e["key"] == "run_stop"]
    assert stop and stop[0]["metadata"]["status"] == "aborted"
    assert run.cost["rows"], "a diverged run still cost money and is priced"


def test_exception_marks_the_run_failed_with_the_message(tmp_path, monkeypatch):
    import repro.train.loop as loop

    def broken(*a, **k):
        raise RuntimeError("eval exploded")

    monkeypatch.setattr(loop, "evaluate", broken)
    summary = api.train("digits", epochs=1, results_dir=tmp_path)
    rec = summary.runs[0].record
    assert rec["status"] == "failed" and rec["error"] == "RuntimeError: eval exploded"
    assert rec["ended_at"] is not None


def _start(tmp_path, epochs=400):
    return subprocess.Popen([str(REPRO_BIN), "digits", "--epochs", str(epochs), "--quiet", "--results",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_epochs(tmp_path, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in tmp_path.glob("digits/*/run.json"):
            try:
                if len(json.loads(p.read_text())["outcome"]["epochs"]) >= n:
                    return p
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.1)
    raise AssertionError("the run never reached the wanted epoch")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_mark_the_run_interrupted(tmp_path, signum):
    proc = _start(tmp_path)
    run_json = _wait_for_epochs(tmp_path, 1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err   # 143 for SIGTERM, 130 for SIGINT
    rec = json.loads(run_json.read_text())
    assert rec["status"] == "interrupted" and signal.Signals(signum).name in rec["error"]
    assert (run_json.parent / "cost.json").exists()


def _start_runs(results, *extra, prefix=(), runs=3, epochs=2):
    return subprocess.Popen([*prefix, str(REPRO_BIN), "digits", "--runs", str(runs), "--epochs", str(epochs),
                             "--results", str(results), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_ended_in_order(results, returncode: int, err: str) -> dict:
    """What any interruption must leave: the documented exit status, no run directory without a
    readable run.json, no run left `running`, at most one `interrupted` (the one under way) and a
    group file that says the group was interrupted whenever a run is. Returns {run_id: status}.
    A SIGTERM that lands before Python has run repro's first line, or after its last, ends the
    process by the signal itself (-15 here, 143 in a shell or through an init such as tini, as
    documented): then nothing was written, or everything was (a `complete` group of finished runs)."""
    assert returncode in (0, 143, -signal.SIGTERM), err[-2000:]
    statuses = {}
    for run_dir in sorted(results.glob("digits/*")):
        if run_dir.is_dir():
            record = store.load_run(run_dir).data      # readable and valid, whatever the moment
            statuses[run_dir.name] = record["status"]
    assert set(statuses.values()) <= {"finished", "interrupted"}, statuses
    assert list(statuses.values()).count("interrupted") <= 1, statuses
    groups = list(results.glob("digits/group-*.json"))
    if statuses:
        assert len(groups) == 1, "a group whose runs left directories has a group file"
        group = store.read_json(groups[0])
        assert {e["run_id"] for e in group["runs"]} == set(statuses)
        if group["status"] == "complete":
            # every planned run finished and recorded: true whatever came after (a SIGTERM after the
            # last line ends the process by the signal itself: -15, or 143 through an init like tini)
            assert set(statuses.values()) == {"finished"} and len(statuses) == group["planned_runs"], group
        elif returncode == 143:
            assert group["status"] == "interrupted" and group["interrupted_by"] == "SIGTERM"
        if returncode == -signal.SIGTERM:
            assert group["status"] == "complete", "killed by the signal itself while runs were under way"
    return statuses


def test_sigterm_between_seeds_ends_the_group_in_order(tmp_path):
    """Right after a run's "run directory:" line (pricing done, the next seed not yet started)."""
    proc = _start_runs(tmp_path)
    for line in proc.stdout:
        if "run directory:" in line:
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err[-2000:]
    statuses = check_ended_in_order(tmp_path, proc.returncode, err)
    assert list(statuses.values())[0] == "finished" and len(statuses) <= 2
    assert [p.name for p in tmp_path.glob("digits/.*")] == []        # nothing half-made left behind


def _signal_at_random_moments(tmp_path, count: int, signum: int, rng: random.Random):
    """`count` signals, each at a random moment of a live `repro digits --runs 3 --epochs 2` (a
    moment after the command ended is drawn again, and the next draws shrink to what it took);
    yields (results folder, process) after each landed signal, the process ended."""
    t0 = time.monotonic()
    _start_runs(tmp_path / "reference").communicate(timeout=600)
    whole_s = time.monotonic() - t0
    landed = attempts = 0
    while landed < count:
        attempts += 1
        assert attempts <= 3 * count, f"only {landed} of {attempts} moments fell inside the command's life"
        results = tmp_path / f"try{attempts}"
        started = time.monotonic()
        proc = _start_runs(results)
        time.sleep(rng.uniform(0.0, whole_s))
        if proc.poll() is not None:
            whole_s = time.monotonic() - started      # it ended sooner than drawn: draw within its life
            proc.communicate(timeout=60)
            continue
        proc.send_signal(signum)
        landed += 1
        proc.wait(timeout=300)
        yield results, proc


@pytest.mark.slow
def test_sigterm_at_20_random_moments_of_three_runs(tmp_path):
    for results, proc in _signal_at_random_moments(tmp_path, 20, signal.SIGTERM, random.Random(2026)):
        err = proc.stderr.read()
        statuses = check_ended_in_order(results, proc.returncode, err)
        if proc.returncode == 143 and "interrupted" in statuses.values():
            run = store.load_run(results / "digits" / next(k for k, v in statuses.items() if v == "interrupted"))
            assert "SIGTERM" in run.data["error"]


def _pid1_child(unshare: subprocess.Popen, timeout: float = 60) -> int:
    """The pid (as this host sees it) of the process that is PID 1 in unshare's new namespace."""
    import psutil
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = psutil.Process(unshare.pid).children()
        if children:
            return children[0].pid
        time.sleep(0.01)
    raise AssertionError("unshare started no child")


def _image_entrypoint() -> list[str]:
    """The image's entry point before "repro" (docker/Dockerfile ENTRYPOINT), e.g. tini --."""
    text = (REPO / "docker" / "Dockerfile").read_text()
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))
    assert entry[-1] == "repro"
    return entry[:-1]


@pytest.mark.slow
def test_sigterm_as_pid_1_at_random_moments_with_the_images_init(tmp_path):
    """As the image runs it (the Dockerfile's ENTRYPOINT as PID 1 of a fresh PID namespace),
    SIGTERM at any moment, start-up included, ends the command with 143 and the runs in order."""
    prerequisite(os.geteuid() == 0 and shutil.which("unshare") is not None,
                 "a fresh PID namespace (unshare --pid) needs root")
    init = _image_entrypoint()
    prerequisite(shutil.which(init[0]) is not None or os.path.exists(init[0]),
                 f"{init[0]} (the image's init) is not installed here (apt-get install tini)")
    rng = random.Random(1)
    prefix = ["unshare", "--pid", "--fork", "--kill-child", *init]
    for i, delay in enumerate([0.0, 0.05, 0.3, *(rng.uniform(0.5, 12.0) for _ in range(5))]):
        results = tmp_path / f"pid1-{i}"
        proc = _start_runs(results, prefix=prefix)
        pid1 = _pid1_child(proc)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(pid1, signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        check_ended_in_order(results, proc.returncode, err)
        assert proc.returncode == 143 or delay > 5, (delay, err[-1000:])


def test_repro_as_pid_1_itself_handles_sigterm_once_started(tmp_path):
    """Without an init too: once repro's handlers are in place, SIGTERM reaches it as PID 1."""
    prerequisite(os.geteuid() == 0 and shutil.which("unshare") is not None,
                 "a fresh PID namespace (unshare --pid) needs root")
    proc = _start_runs(tmp_path, "--quiet", prefix=["unshare", "--pid", "--fork", "--kill-child"], runs=1,
                       epochs=400)
    pid1 = _pid1_child(proc)
    run_json = _wait_for_epochs(tmp_path, 1)
    os.kill(pid1, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert json.loads(run_json.read_text())["status"] == "interrupted"


@pytest.mark.slow
def test_kill_9_at_50_random_moments_leaves_no_orphan_and_shows_stale(tmp_path):
    tries = int(os.environ.get("REPRO_KILL_TRIES", "50"))
    killed = list(_signal_at_random_moments(tmp_path, tries, signal.SIGKILL, random.Random(1234)))
    assert len(killed) == tries and all(proc.returncode == -signal.SIGKILL for _, proc in killed)
    time.sleep(rundirs.EMPTY_STAGING_GRACE_S + 1)
    for results, _ in killed:
        rows, problems = api.run_table(results)                                # what `repro runs` shows
        assert problems == []                                                  # nothing skipped or unreadable
        assert [r["status"] for r in rows].count("running") <= 1, rows       # the one under way
        for row in rows:
            assert row["status"] in ("finished", "running"), row
            if row["status"] == "running":                                     # shown as stale
                assert row["stale"] and row["status_text"] == "stale (process gone)", row
        visible = [p for p in results.glob("digits/*") if p.is_dir()]
        assert len(visible) == len(rows)                                       # 0 orphan directories
        if list(results.glob("digits/.new-*")):                                # killed mid-making
            api.build_report(results, tmp_path / "site")
            assert list(results.glob("digits/.new-*")) == []


def test_disk_full_marks_the_run_failed_and_exits_3(tmp_path):
    prerequisite(os.geteuid() == 0, "mounting a small tmpfs needs root")
    for size in ("40k", "300k"):
        mount = tmp_path / f"tiny-{size}"
        mount.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
        try:
            out = run_cli("digits", "--epochs", "2", "--results", str(mount / "results"))
            assert out.returncode == 3, out.stderr[-2000:]
            run_dirs = [p for p in (mount / "results" / "digits").iterdir() if p.is_dir()]
            assert len(run_dirs) == 1
            record = store.load_run(run_dirs[0]).data
            assert record["status"] == "failed" and "No space left on device" in record["error"]
            assert not (run_dirs[0] / rundirs.RESERVE_FILE).exists()
        finally:
            subprocess.run(["umount", str(mount)], check=True)
