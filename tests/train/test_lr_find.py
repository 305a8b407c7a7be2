"""LR range test: exponential sweep, smoothing, stop on divergence, a suggestion, the CLI table/JSON."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from repro.recipes import get_recipe
from repro.cli import main
from repro.train.lr_find import find_lr, lr_at, lr_range_test, suggest


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_sweep_is_exponential():
    lrs = [lr_at(i, 5, 1e-4, 1.0) for i in range(5)]
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    with pytest.raises(ValueError, match="at least 2 steps"):
        lr_at(0, 1, 1e-4, 1.0)


def test_suggestion_is_the_steepest_descent_before_the_minimum():
    lrs = list(np.logspace(-5, 1, 121))
    # loss falls fastest around 1e-2 (a logistic step in log-LR), bottoms out at ~0.3, then climbs again
    smoothed = [2.0 - 1.5 / (1 + np.exp(-4 * (np.log10(lr) + 2))) + (max(0.0, np.log10(lr) + 0.5) ** 2)
                for lr in lrs]
    steepest, at_min = suggest(lrs, smoothed)
    assert steepest == pytest.approx(1e-2, rel=0.15)
    assert 1e-1 < at_min < 1.0
    assert suggest([], []) == (None, None)
    assert suggest([1e-3, 1e-2], [1.0, 0.5]) == (pytest.approx(1e-3), 1e-2)   # too short: minimum ÷ 10


def regression_batches(seed=0):
    g = torch.Generator().manual_seed(seed)
    w_true = torch.randn(8, 1, generator=g)
    while True:
        x = torch.randn(32, 8, generator=g)
        yield x, x @ w_true


def test_range_test_stops_on_divergence_and_suggests_a_stable_lr():
    torch.manual_seed(0)
    model = nn.Linear(8, 1, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    # for this least-squares problem plain SGD becomes unstable past an LR of about 1 (2 / curvature of 2)
    result = lr_range_test(model, regression_batches(), opt, criterion=nn.MSELoss(), steps=120,
                           start_lr=1e-4, end_lr=100.0)
    assert result.stopped == "diverged"
    assert len(result.lrs) < 120 and result.lrs[-1] > 1.0
    assert result.suggested_lr is not None and 1e-3 < result.suggested_lr < 1.0
    assert result.lr_at_min < result.lrs[-1] < 10.0
    assert result.min_loss == min(result.smoothed) < result.smoothed[0]
    # bias-corrected moving average: the first smoothed value is the first loss itself
    assert result.smoothed[0] == pytest.approx(result.losses[0])
    table = result.table(rows=7)
    assert len(table) == 7 and table[0]["step"] == 1 and table[-1]["step"] == len(result.lrs)


def test_range_test_reports_running_out_of_data():
    model = nn.Linear(8, 1)
    batches = [next(regression_batches()) for _ in range(3)]
    result = lr_range_test(model, batches, torch.optim.SGD(model.parameters(), lr=0.0),
                           criterion=nn.MSELoss(), steps=10, start_lr=1e-4, end_lr=1e-2)
    assert result.stopped == "out of data" and len(result.lrs) == 3


def test_find_lr_on_a_recipe_starts_from_a_fresh_model():
    result = find_lr(get_recipe("digits"), steps=40, start_lr=1e-3, end_lr=10.0)
    assert 0 < len(result.lrs) <= 40 and result.lrs[0] == pytest.approx(1e-3)
    assert result.suggested_lr is not None and 1e-3 <= result.suggested_lr <= 10.0
    assert result.min_loss < result.smoothed[0]                # digits is learnable: the loss fell


def run_cli(argv):
    return main(argv)


def test_cli_prints_a_table_and_a_suggestion(capsys):
    assert run_cli(["lr-find", "--recipe", "digits", "--steps", "30", "--rows", "5", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "LR range test: recipe digits" in out
    rows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == 5
    assert "suggested peak LR" in out and "recipe uses 0.2" in out


def test_cli_json(capsys):
    assert run_cli(["lr-find", "--recipe", "digits", "--steps", "20", "--json", "--device", "cpu",
                    "--start-lr", "1e-3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["recipe"] == "digits" and doc["recipe_peak_lr"] == 0.2
    assert len(doc["lrs"]) == len(doc["losses"]) == len(doc["smoothed"]) <= 20
    assert doc["lrs"][0] == pytest.approx(1e-3) and doc["suggested_lr"] > 0


def test_cli_rejects_unknown_override(capsys):
    assert run_cli(["lr-find", "--recipe", "digits", "--set", "optim.nope=1", "--device", "cpu"]) == 1
    assert "unknown recipe key 'optim.nope'" in capsys.readouterr().err
