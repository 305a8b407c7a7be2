"""`repro export skypilot`: the task YAML it writes is accepted by SkyPilot's own loader (sky.Task)."""
from __future__ import annotations

import pytest
import yaml

from repro.cli import main
from repro.launch import skypilot

DIGEST_IMAGE = "ghcr.io/example/repro@sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def sky():
    return pytest.importorskip("sky", reason="skypilot is a dev dependency (pyproject.toml)")


def export(*argv: str) -> int:
    return main(["export", "skypilot", *argv])


def test_spot_export_loads_in_skypilot_with_recovery_image_and_mounts(sky, tmp_path, capsys):
    out = tmp_path / "cifar.sky.yaml"
    rc = export("--recipe", "cifar-fastai-2018", "--gpus", "V100:8", "--spot", "--image", DIGEST_IMAGE,
                "--data-source", "s3://example-data/cifar10", "--results-bucket", "s3://example-results",
                "--out", str(out), "--check")
    assert rc == 0
    assert "accepted by SkyPilot's loader" in capsys.readouterr().err

    task = sky.Task.from_yaml(str(out))
    (resources,) = task.resources
    assert resources.accelerators == {"V100": 8}
    assert resources.use_spot is True
    assert resources.job_recovery["strategy"] == "EAGER_NEXT_REGION"
    assert resources.job_recovery["max_restarts_on_errors"] == 3
    assert resources.extract_docker_image() == DIGEST_IMAGE
    assert task.num_nodes == 1
    assert set(task.storage_mounts) == {"/data", "/results"}
    assert task.envs["REPRO_IMAGE_DIGEST"] == DIGEST_IMAGE
    assert "/opt/repro/venv/bin/torchrun" in task.run
    assert '--nproc-per-node="$SKYPILOT_NUM_GPUS_PER_NODE"' in task.run
    assert "repro cifar --recipe cifar-fastai-2018" in task.run and "--data /data" in task.run


def test_multi_node_on_demand_export(sky, tmp_path):
    opts = skypilot.SkyTaskOptions(recipe="imagenet-fastai-2018", gpus="A100:8", nodes=2, image=DIGEST_IMAGE,
                                   data_source="gs://example/imagenet", results_bucket="gs://example-results",
                                   cloud="gcp", disk_size_gb=512)
    config = skypilot.task_config(opts)
    assert "use_spot" not in config["resources"] and "job_recovery" not in config["resources"]
    task = skypilot.validate_with_skypilot(skypilot.to_yaml(config, opts))
    (resources,) = task.resources
    assert task.num_nodes == 2 and resources.accelerators == {"A100": 8}
    assert str(resources.cloud).lower() == "gcp" and resources.disk_size == 512
    assert '--nnodes="$SKYPILOT_NUM_NODES"' in task.run and "$SKYPILOT_NODE_IPS" in task.run


def test_yaml_is_readable_and_states_how_to_launch(tmp_path, capsys):
    assert export("--recipe", "digits", "--gpus", "T4", "--spot") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("# SkyPilot task for repro recipe digits on 1 x T4 (spot")
    assert "sky jobs launch" in captured.out
    assert "run: |\n" in captured.out                       # the run script as a block, not an escaped string
    data = yaml.safe_load(captured.out)
    assert data["resources"]["accelerators"] == "T4:1"
    assert "file_mounts" not in data and "--data" not in data["run"]
    # what would work badly is said, on stderr
    assert "not pinned by digest" in captured.err and "no --results-bucket" in captured.err


def test_skypilot_loader_rejects_what_it_should(sky):
    opts = skypilot.SkyTaskOptions(recipe="digits", gpus="V100:1", spot=True)
    config = skypilot.task_config(opts)
    config["resources"]["use_spot"] = "sometimes"
    with pytest.raises(skypilot.ExportError, match="SkyPilot rejects the task"):
        skypilot.validate_with_skypilot(yaml.safe_dump(config))


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "digits", "--gpus", "V100:0"], "not an accelerator spec"),
    (["--recipe", "digits", "--gpus", "8xV100"], "MODEL:COUNT"),
    (["--recipe", "cifar-nope", "--gpus", "V100:8"], "unknown recipe 'cifar-nope'"),
    (["--recipe", "cifar-airbench", "--gpus", "V100:8"], "--data-source s3://BUCKET/cifar10"),
    (["--recipe", "digits", "--gpus", "V100:8", "--results-bucket", "/tmp/out"], "not a bucket URL"),
    (["--recipe", "digits", "--gpus", "V100:8", "--nodes", "0"], "must be ≥ 1"),
])
def test_bad_options_exit_non_zero_with_a_message(argv, message, capsys, tmp_path):
    out = tmp_path / "task.yaml"
    assert export(*argv, "--out", str(out)) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_parse_gpus():
    assert skypilot.parse_gpus("V100:8") == ("V100", 8)
    assert skypilot.parse_gpus("H100") == ("H100", 1)
    with pytest.raises(skypilot.ExportError):
        skypilot.parse_gpus("V100:x")


def test_through_the_repro_entry_point(tmp_path):
    from tests.conftest import run_cli

    out = tmp_path / "task.yaml"
    result = run_cli("export", "skypilot", "--recipe", "digits", "--gpus", "V100:8", "--spot", "--image", DIGEST_IMAGE,
                     "--results-bucket", "s3://example-results", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    data = yaml.safe_load(out.read_text())
    assert data["resources"]["use_spot"] is True and data["resources"]["image_id"] == f"docker:{DIGEST_IMAGE}"
    assert "--init" in data["config"]["docker"]["run_options"]   # an init passes the preemption's SIGTERM on
    help_text = run_cli("export", "skypilot", "--help", timeout=120).stdout
    assert "sky jobs launch cifar.sky.yaml" in help_text
