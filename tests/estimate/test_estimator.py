"""estimate(): every matching offer, each with its basis; the library the command wraps."""
import pytest

from repro.estimate import EstimateError, EstimateRequest, estimate
from repro.pricing.catalog import load_snapshot
from repro.recipes import resolve
from tests.estimate.helpers import write_run


def test_cifar_airbench_on_one_h100_lists_every_matching_offer_with_time_cost_and_basis(tmp_path):
    result = estimate(EstimateRequest("cifar-airbench", gpus=("H100:1",), runs_from=tmp_path))
    assert result.rows, result.unestimated
    for row in result.rows:
        assert row["gpu_model"] == "H100" and row["gpu_count"] == 1
        assert row["low_s"] <= row["time_to_target_s"] <= row["high_s"]
        assert row["benchmark_usd"] and row["billed_usd"] and row["basis"] == "table" and row["scaled"]
        assert "airbench" in row["basis_detail"] and row["basis_sources"]
    offered = {(o.provider, o.market) for o in result.snapshot.find(gpu_model="H100", gpu_count=1)}
    assert {(r["provider"], r["market"]) for r in result.rows} == offered
    assert {(u["provider"], u["market"]) for u in result.unmatched}.isdisjoint(offered)


def test_without_gpu_every_gpu_offer_is_estimated_or_says_why_not(tmp_path):
    result = estimate(EstimateRequest("cifar-airbench", runs_from=tmp_path, market="spot"))
    assert {r["market"] for r in result.rows} == {"spot"}
    assert sum(r["cheapest"] for r in result.rows) == 1 and sum(r["fastest"] for r in result.rows) == 1
    for miss in result.unestimated:
        assert miss["reason"]
    doc = result.to_dict()
    assert doc["epochs_to_target"]["kind"] == "published" and doc["snapshot_id"] == result.snapshot.id


def test_measured_runs_are_the_basis_on_their_own_hardware(tmp_path):
    recipe = resolve("cifar-airbench")
    v100 = {"accelerator": "cuda", "gpu_name": "Tesla V100-SXM2-16GB", "gpu_count": 1}
    for i, t in enumerate((10.0, 11.0, 12.0, 13.0, 30.0)):
        write_run(tmp_path, recipe, f"r{i}", time_s=t, epochs=9, hardware=v100, session_s=t + 5)
    result = estimate(EstimateRequest("cifar-airbench", gpus=("V100:1", "H100:1"), runs_from=tmp_path))
    measured = [r for r in result.rows if r["hardware"] == "1 × V100"]
    assert measured and all(r["basis"] == "measured" for r in measured)
    assert measured[0]["time_to_target_s"] == pytest.approx(12.0)           # olympic mean of 10..30
    assert (measured[0]["low_s"], measured[0]["high_s"]) == (10.0, 30.0)
    h100 = [r for r in result.rows if r["hardware"] == "1 × H100"]
    assert h100 and h100[0]["basis"] == "table" and "epoch 9: 5 measured run(s)" in h100[0]["basis_detail"]


@pytest.mark.parametrize("request_kwargs, message", [
    ({"recipe": "nope"}, "known recipes"),
    ({"recipe": "cifar-airbench", "gpus": ("X100:1",)}, "GPU models it has"),
    ({"recipe": "cifar-airbench", "market": "reserved"}, "--market"),
    ({"recipe": "digits"}, "pass --calibrate"),
    ({"recipe": "digits", "calibration_budget_s": float("nan")}, "--calibrate-seconds"),
])
def test_unusable_requests_say_what_to_do(tmp_path, request_kwargs, message):
    with pytest.raises(EstimateError, match=message):
        estimate(EstimateRequest(runs_from=tmp_path, **request_kwargs))


def test_the_library_call_is_the_command_s(tmp_path):
    from repro import api

    result = api.estimate("cifar-airbench", gpus=("V100:8",), market="spot", runs_from=tmp_path)
    spot = load_snapshot().find(gpu_model="V100", gpu_count=8, market="spot")        # one per region
    assert sorted((r["instance_type"], r["region"]) for r in result.rows) == sorted((o.instance_type, o.region) for o in spot)


def test_a_run_s_estimate_travels_in_its_plan_file_to_the_ranks(tmp_path):
    from repro import api
    from repro.orchestrator.plan import Plan

    recipe = resolve("digits")
    for i, t in enumerate((0.6, 0.7, 0.8)):
        write_run(tmp_path, recipe, f"r{i}", time_s=t, epochs=4)
    plan = api.plan("digits", results_dir=tmp_path, device="cpu", estimate=True)
    assert plan.estimate["basis"] == "measured" and plan.estimate["time_to_target_s"] == pytest.approx(0.7)
    assert plan.estimate["epochs_to_target"]["kind"] == "measured"
    assert Plan.from_json(plan.to_json()).estimate == plan.estimate
