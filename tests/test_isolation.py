"""`make test` survives a test that kills its own process (a native crash in a library): the crash is
reported as a failure naming the test, the tests after it still run, and the run fails."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SUITE = '''
import os
import signal


def test_before():
    assert True


def test_dies_like_a_heap_corruption():
    os.kill(os.getpid(), signal.SIGSEGV)   # what "double free or corruption" ends in


def test_after():
    assert True
'''


def isolation_flags() -> list[str]:
    """The pytest options `make test` runs the suite with (Makefile, PYTEST_ISOLATION)."""
    found = re.search(r"^PYTEST_ISOLATION\s*:?=\s*(.+)$", (REPO / "Makefile").read_text(), re.M)
    assert found, "Makefile defines no PYTEST_ISOLATION"
    return shlex.split(found.group(1))


def test_make_test_runs_every_test_and_reports_a_crashing_one(tmp_path):
    make_test = re.search(r"^test:.*?\n\n", (REPO / "Makefile").read_text(), re.M | re.S).group(0)
    assert "pytest $(PYTEST_ISOLATION)" in make_test
    (tmp_path / "test_crash.py").write_text(SUITE)
    out = subprocess.run([sys.executable, "-m", "pytest", *isolation_flags(), "-p", "no:cacheprovider",
                          "-o", "addopts=", "--rootdir", str(tmp_path), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    report = out.stdout + out.stderr
    assert out.returncode == 1, report
    assert re.search(r"crashed while running .*test_dies_like_a_heap_corruption", report), report
    assert "1 failed, 2 passed" in report, report
