"""The mllog.log of an `imagenet-rn50-fast` run against mlperf-logging's own compliance checker.

Findings (asserted below, so a change in either side shows up here):
- Latest ruleset that still has ResNet (training 4.0.0; ResNet left MLPerf Training after v4.0), our
  division (open): passes.
- Latest ruleset overall (training 6.1.0): the checker itself stops, because 6.1.0 ships no
  `open_resnet.yaml` (the benchmark was retired); no log of a ResNet run can pass it.
- The same log declared closed division (4.0.0): exactly one rule fails, `eval_accuracy` must reach
  0.759 at least once. It cannot on a CPU-sized run of a generated tree; only the full recipe on the real
  ImageNet can reach it. Every SGD hyperparameter rule (base LR a multiple of 0.001, end LR 1e-4,
  weight decay a power of 2 × 1e-4, warm-up, BN span, …) passes with the recipe's values.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from repro import api
from tests.helpers_imagenet import make_tree

CLOSED_FAILURES = {("eval_accuracy", "v['value'] >= 0.7590 and v['value'] < 1.0")}


@pytest.fixture(scope="module")
def mllog(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("rn50")
    data = make_tree(tmp / "data", classes=3, train_per_class=4, val_per_class=3)
    out = api.train("imagenet-rn50-fast", epochs=1, data_dir=data, results_dir=tmp / "results",
                    device="cpu", overrides=["data.batch_size=4", "data.eval_batch_size=9", "data.workers=0",
                                             "data.size_knots=[[0,32],[1,32]]", "data.eval_size=32"])
    assert out.ok, out
    return Path(out.runs[0].run_dir) / "mllog.log"


def _check(log: Path, ruleset: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlperf_logging.compliance_checker", "--usage", "training",
                           "--ruleset", ruleset, str(log)], check=False, capture_output=True, text=True, cwd=cwd, timeout=120)


def _failures(output: str) -> set[tuple[str, str]]:
    found = {(k, c.strip()) for k, c in re.findall(r"Failed checks for (\w+) : (.+)", output)}
    for key, check in re.findall(r"CHECK for '(\w+)' failed in line \d+:.*?failed test:\s*(.+?)\n", output, re.DOTALL):
        found.add((key, check.strip()))
    return found


def test_passes_the_latest_resnet_ruleset_in_the_open_division(mllog, tmp_path):
    proc = _check(mllog, "4.0.0", tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SUCCESS" in out and "training_4.0.0/open_resnet.yaml" in out
    assert '"submission_benchmark", "value": "resnet"' in mllog.read_text()


def test_latest_ruleset_has_no_resnet_rules(mllog, tmp_path):
    proc = _check(mllog, "6.1.0", tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(r"No such file or directory: .*training_6\.1\.0/open_resnet\.yaml", out), out[-2000:]


def test_closed_division_fails_exactly_the_accuracy_rule(mllog, tmp_path):
    closed = tmp_path / "closed.log"
    text = mllog.read_text()
    assert text.count('"submission_division", "value": "open"') == 1
    closed.write_text(text.replace('"submission_division", "value": "open"', '"submission_division", "value": "closed"'))
    proc = _check(closed, "4.0.0", tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "training_3.1.0/closed_resnet_sgd.yaml" in out  # the SGD hyperparameter rules ran …
    assert _failures(out) == CLOSED_FAILURES, out[-3000:]  # … and only the accuracy target failed
