"""mllog.log goes through mlperf-logging's own parser and compliance checker."""
from pathlib import Path

from repro.harness import compliance, store
from repro.harness.mllog import read_events

REQUIRED = ["init_start", "init_stop", "run_start", "epoch_start", "epoch_stop", "eval_start", "eval_stop",
            "eval_accuracy", "run_stop", "seed", "global_batch_size", "opt_base_learning_rate",
            "train_samples", "eval_samples"]


def test_log_is_parsed_by_mlperf_loggings_parser(digits_group):
    _, summary = digits_group
    log = Path(summary.runs[0].run_dir) / store.MLLOG_FILE
    lines, errors = compliance.parse(log)
    assert errors == []
    keys = [line.key for line in lines]
    for key in REQUIRED:
        assert key in keys, key
    assert keys.index("init_stop") < keys.index("run_start") < keys.index("epoch_start")
    assert keys[-1] == "run_stop"
    stop = lines[-1]
    assert stop.value["metadata"]["status"] == "success"


def test_log_passes_the_compliance_rules_that_apply(digits_group):
    _, summary = digits_group
    for run in summary.runs:
        result = compliance.check(Path(run.run_dir) / store.MLLOG_FILE)
        assert result.ok, result.messages
        assert result.parse_errors == []
    assert set(result.skipped_rules) == {"submission_benchmark", "lowest_numerical_precision_in_attn",
                                         "submission_division (POST)"}


def test_compliance_checker_catches_a_broken_log(digits_group, tmp_path):
    _, summary = digits_group
    log = Path(summary.runs[0].run_dir) / store.MLLOG_FILE
    broken = tmp_path / "mllog.log"
    broken.write_text("".join(line + "\n" for line in log.read_text().splitlines() if '"run_start"' not in line))
    result = compliance.check(broken)
    assert not result.ok and any("run_start" in m for m in result.messages)


def test_eval_accuracy_events_match_run_json(digits_group):
    _, summary = digits_group
    run = summary.runs[0]
    acc = [e["value"] for e in read_events(Path(run.run_dir) / store.MLLOG_FILE) if e["key"] == "eval_accuracy"]
    assert acc == [e["top1"] for e in run.record["outcome"]["epochs"]]
