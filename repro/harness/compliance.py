"""Check an mllog.log with mlperf-logging's own compliance checker.

repro's recipes are not MLPerf benchmarks, so a few of the checker's common rules cannot hold for
them. We run the checker on the package's own `training_<ruleset>/common.yaml` with exactly those
rules taken out, each with its reason, and every other rule kept as MLPerf wrote it:

- `submission_benchmark` must name an MLPerf benchmark (flux1, llama31_8b, …); its POST then loads a
  per-benchmark rule file `open_<benchmark>.yaml` that does not exist for digits or cifar10.
- `submission_division`'s POST loads `open_common.yaml`, which only re-states the benchmark rule
  above; the division check itself (closed | open) is kept.
- `lowest_numerical_precision_in_attn` (v6.1 disclosure): our CNNs have no attention layers, so
  there is no honest value to log.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from mlperf_logging.compliance_checker import mlp_compliance
from mlperf_logging.compliance_checker import mlp_parser

DEFAULT_RULESET = "6.1.0"
NOT_APPLICABLE = {
    "submission_benchmark": "must name an MLPerf benchmark and load its per-benchmark rule file; "
                            "repro's recipes are not MLPerf benchmarks",
    "lowest_numerical_precision_in_attn": "the models have no attention layers; no honest value exists",
}
POST_DROPPED = {
    "submission_division": "its POST loads open_common.yaml, which only re-checks submission_benchmark",
}


@dataclass(frozen=True)
class ComplianceResult:
    ok: bool
    ruleset: str
    messages: list[str]
    skipped_rules: dict[str, str]
    parse_errors: list[str]


def parse(path: Path, ruleset: str = DEFAULT_RULESET):
    """mlperf-logging's own parser: (loglines, errors)."""
    return mlp_parser.parse_file(str(path), ruleset=ruleset)


def _derived_rules(ruleset: str) -> list:
    stock = Path(mlp_compliance.__file__).parent / f"training_{ruleset}" / "common.yaml"
    rules = yaml.load(stock.read_text(), Loader=yaml.BaseLoader)
    kept = []
    for rule in rules:
        key = rule.get("KEY")
        if key is not None:
            if key["NAME"] in NOT_APPLICABLE:
                continue
            if key["NAME"] in POST_DROPPED:
                key = {k: v for k, v in key.items() if k != "POST"}
                # the stock POST also sets the init budget; keep that part (open division: 240 min)
                key["POST"] = "s['compile_time_mins'] = 240 if v['value'] == 'open' else 30"
                rule = {"KEY": key}
        kept.append(rule)
    return kept


def check(path: Path, ruleset: str = DEFAULT_RULESET) -> ComplianceResult:
    rules = _derived_rules(ruleset)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / f"repro_training_{ruleset}.yaml"
        config.write_text(yaml.safe_dump(rules, sort_keys=False))
        checker = mlp_compliance.make_checker("training", ruleset, quiet=False, werror=True)
        previous = logging.root.level
        logging.root.setLevel(logging.ERROR)  # the checker logs every rule file at INFO
        try:
            ok = checker.check_file(str(path), str(config))
        finally:
            logging.root.setLevel(previous)
    _, errors = parse(path, ruleset)
    messages = [*checker.warnings.values(), *checker.overwritable.values(), *checker.not_overwritable]
    return ComplianceResult(ok=bool(ok), ruleset=ruleset, messages=messages,
                            skipped_rules={**NOT_APPLICABLE, **{f"{k} (POST)": v for k, v in POST_DROPPED.items()}},
                            parse_errors=[f"{line}: {err}" for line, err in errors])
