"""Both time-to-target rules on hand-made event sequences with known answers."""
import pytest

from repro.harness.clock import (Stopwatch, dawnbench_first_at_target, dawnbench_hours, dawnbench_time_to_target_s,
                                 mlperf_time_to_target_s)


def ev(key, t_ms, value=None, epoch=None):
    return {"key": key, "time_ms": t_ms, "value": value,
            "metadata": {"epoch_num": epoch} if epoch is not None else {}}


EVENTS = [
    ev("init_start", 0), ev("init_stop", 5_000), ev("run_start", 6_000),
    ev("epoch_start", 6_100, 1, 1), ev("epoch_stop", 16_000, 1, 1),
    ev("eval_start", 16_000, 1, 1), ev("eval_accuracy", 17_500, 0.90, 1), ev("eval_stop", 18_000, 1, 1),
    ev("epoch_start", 18_000, 2, 2), ev("epoch_stop", 28_000, 2, 2),
    ev("eval_start", 28_000, 2, 2), ev("eval_accuracy", 29_000, 0.941, 2), ev("eval_stop", 30_000, 2, 2),
    ev("epoch_start", 30_000, 3, 3), ev("eval_start", 40_000, 3, 3),
    ev("eval_accuracy", 41_000, 0.95, 3), ev("eval_stop", 42_000, 3, 3), ev("run_stop", 42_500),
]


def test_mlperf_counts_from_run_start_to_end_of_reaching_eval():
    # run_start at 6 s, the eval reaching 0.94 ends at 30 s: 24 s, eval time included, init excluded
    assert mlperf_time_to_target_s(EVENTS, 0.94) == pytest.approx(24.0)
    assert mlperf_time_to_target_s(EVENTS, 0.90) == pytest.approx(12.0)   # target met exactly counts
    assert mlperf_time_to_target_s(EVENTS, 0.95) == pytest.approx(36.0)


def test_mlperf_never_reached_is_none():
    assert mlperf_time_to_target_s(EVENTS, 0.96) is None


def test_mlperf_ignores_evals_before_run_start():
    early = [ev("eval_accuracy", 1_000, 0.99, 0), ev("eval_stop", 1_100, 0, 0)] + EVENTS
    assert mlperf_time_to_target_s(early, 0.94) == pytest.approx(24.0)


def test_mlperf_without_eval_stop_stops_at_the_accuracy_event():
    cut = EVENTS[:EVENTS.index(ev("eval_accuracy", 29_000, 0.941, 2)) + 1]
    assert mlperf_time_to_target_s(cut, 0.94) == pytest.approx(23.0)


ROWS = [{"epoch": 1, "hours": 0.001, "top1": 0.90, "top5": 0.99},
        {"epoch": 2, "hours": 0.002, "top1": 0.94, "top5": 0.995},
        {"epoch": 3, "hours": 0.0035, "top1": 0.93, "top5": 0.999}]


def test_dawnbench_first_row_at_or_above_target():
    assert dawnbench_time_to_target_s(ROWS, 0.94) == pytest.approx(7.2)
    assert dawnbench_time_to_target_s(ROWS, 0.85) == pytest.approx(3.6)
    assert dawnbench_time_to_target_s(ROWS, 0.999, metric="top5") == pytest.approx(12.6)
    assert dawnbench_time_to_target_s(ROWS, 0.95) is None
    assert dawnbench_first_at_target(ROWS, 0.94) is ROWS[1]                 # the row the time is read from
    assert dawnbench_first_at_target(ROWS, 0.999, metric="top5") is ROWS[2]
    assert dawnbench_first_at_target(ROWS, 0.95) is None


def test_stopwatch_subtracts_eval_time():
    t = iter([10.0, 14.0, 14.0])
    w = Stopwatch()
    w.now = lambda: next(t)
    w.start()
    w.eval_total_s = 1.5
    assert w.elapsed_s() == pytest.approx(4.0)
    assert w.training_s() == pytest.approx(2.5)


def test_stopwatch_before_start_is_an_error():
    with pytest.raises(RuntimeError):
        Stopwatch().elapsed_s()


def test_dawnbench_hours_are_elapsed_time_with_evaluation_included():
    # the entries' scripts wrote wall time since the start at the end of each epoch's evaluation
    assert dawnbench_hours(7200.0) == 2.0
    t = iter([0.0, 100.0])
    w = Stopwatch()
    w.now = lambda: next(t)
    w.start()
    w.eval_total_s = 30.0
    assert dawnbench_hours(w.elapsed_s()) * 3600 == pytest.approx(100.0)   # not 70: nothing subtracted


def test_a_runs_metrics_hours_include_its_evaluations(digits_group):
    from repro.harness import metrics, store
    results, _ = digits_group
    for run in store.list_runs(results):
        epochs = run.data["outcome"]["epochs"]
        rows = metrics.as_mappings(metrics.parse((run.path / store.METRICS_FILE).read_text()))
        for epoch, row in zip(epochs, rows):
            assert row["hours"] * 3600 == pytest.approx(epoch["elapsed_s"], abs=1e-4)  # 8 decimals of hours
            assert epoch["training_hours"] * 3600 == pytest.approx(epoch["elapsed_s"], abs=1e-6)
        assert epochs[-1]["elapsed_s"] >= sum(e["train_s"] + e["eval_s"] for e in epochs)
