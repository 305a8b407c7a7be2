"""Export a recipe as a SkyPilot task: cloud placement and spot recovery are SkyPilot's job, not ours.

    repro export skypilot --recipe cifar-fastai-2018-8gpu --gpus V100:8 --spot --out cifar.sky.yaml
    sky jobs launch cifar.sky.yaml          # managed job: spot with recovery
    sky launch cifar.sky.yaml               # or a plain cluster

The task runs the repro image as SkyPilot's runtime environment (`image_id: docker:<image>`) and starts
one torchrun per node over all of the node's GPUs (SkyPilot's SKYPILOT_* variables give the node count,
rank and head IP). SkyPilot installs its agent (ssh, rsync) into the container with apt, so the
container runs as root there (`docker.run_options: --user=root`); plain `docker run` keeps the image's
non-root user.

Without `--managed`, a job relaunched after a spot preemption starts its run again from the
beginning (the interrupted run cannot claim a time to target; its directory stays in the bucket).
With `--managed` the task is a SkyPilot managed job whose checkpoints live on the results bucket
mount, and whose `run` script asks `repro.launch.managed` what to do on every (re)start: resume
the interrupted run from its latest checkpoint, start the next seed, or stop when all have ended.
A resumed run is one run with one segment per machine; its billed cost sums every segment.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from repro.recipes import RecipeError, command_for, get_recipe

VENV_BIN = "/opt/repro/venv/bin"            # the image's venv (docker/Dockerfile); login shells reset PATH
DATA_DIR = "/data"
RESULTS_DIR = "/results"
MASTER_PORT = 29500
# SkyPilot's recovery strategies for managed jobs (sky/jobs/recovery_strategy.py)
RECOVERY_STRATEGIES = ("EAGER_NEXT_REGION", "FAILOVER")
_GPUS_RE = re.compile(r"^(?P<model>[A-Za-z][A-Za-z0-9_.-]*)(?::(?P<count>[0-9]+))?$")
_BUCKET_RE = re.compile(r"^(s3|gs|r2|cos|oci|azure|https)://\S+$")


class ExportError(ValueError):
    """The export options cannot make a valid task; the message says what to change."""


@dataclass(frozen=True)
class SkyTaskOptions:
    recipe: str
    gpus: str                                # "V100:8": SkyPilot's accelerator spec, per node
    spot: bool = False
    image: str = "repro:latest"              # a registry reference the cloud VM can pull
    nodes: int = 1
    runs: int = 1
    seed: int = 0
    data_source: str | None = None           # bucket URL mounted at /data
    results_bucket: str | None = None        # bucket URL mounted at /results (survives preemption)
    recovery_strategy: str = "EAGER_NEXT_REGION"
    max_restarts_on_errors: int = 3
    cloud: str | None = None
    region: str | None = None
    disk_size_gb: int | None = None
    managed: bool = False                    # resume from the bucket's checkpoint on every restart
    epochs: int | None = None                # passed to new runs (a resume keeps the recorded config)


def parse_gpus(spec: str) -> tuple[str, int]:
    """'V100:8' → ('V100', 8); 'A100' → ('A100', 1)."""
    m = _GPUS_RE.match(spec.strip())
    if not m or (m.group("count") is not None and int(m.group("count")) < 1):
        raise ExportError(f"--gpus {spec!r} is not an accelerator spec; write MODEL:COUNT, e.g. V100:8 or A100:1")
    return m.group("model"), int(m.group("count") or 1)


def _recipe_command(name: str) -> tuple[str, str]:
    """(repro sub-command, dataset name) of a registered recipe."""
    try:
        recipe = get_recipe(name)
        return command_for(recipe), recipe.data.name
    except RecipeError as exc:
        raise ExportError(str(exc)) from None


def _torchrun(venv_bin: str) -> list[str]:
    return [
        'MASTER_ADDR=$(echo "$SKYPILOT_NODE_IPS" | head -n1)',
        f"{venv_bin}/torchrun \\",
        '  --nnodes="$SKYPILOT_NUM_NODES" --node-rank="$SKYPILOT_NODE_RANK" \\',
        '  --nproc-per-node="$SKYPILOT_NUM_GPUS_PER_NODE" \\',
        f'  --master-addr="$MASTER_ADDR" --master-port={MASTER_PORT} \\',
    ]


def run_script(command: str, recipe: str, *, runs: int, seed: int, with_data: bool, venv_bin: str = VENV_BIN,
               results_dir: str = RESULTS_DIR, epochs: int | None = None) -> str:
    """The task's `run`: one torchrun per node, every local GPU a rank, rendezvous on the head node."""
    train = [f"{venv_bin}/repro", command, "--recipe", recipe, "--runs", str(runs), "--seed", str(seed),
             "--results", results_dir]
    if with_data:
        train += ["--data", DATA_DIR]
    if epochs:
        train += ["--epochs", str(epochs)]
    return "\n".join(["set -euo pipefail", *_torchrun(venv_bin), f"  --no-python {shlex.join(train)}", ""])


def managed_run_script(command: str, recipe: str, *, runs: int, seed: int, with_data: bool,
                       venv_bin: str = VENV_BIN, results_dir: str = RESULTS_DIR, epochs: int | None = None) -> str:
    """A managed job's `run`: on every (re)start, resume or start runs in the job's own folder on the
    bucket until every seed's run has ended (`repro.launch.managed`)."""
    ask = [f"{venv_bin}/python", "-m", "repro.launch.managed", "next", "--job-dir", "__JOB_DIR__",
           "--command", command, "--recipe", recipe, "--seed", str(seed), "--runs", str(runs)]
    if with_data:
        ask += ["--data", DATA_DIR]
    if epochs:
        ask += ["--epochs", str(epochs)]
    job_dir = shlex.quote(f"{results_dir}/repro-jobs/{recipe}") + '/"${SKYPILOT_TASK_ID//[^A-Za-z0-9._-]/_}"'
    asking = shlex.join(ask).replace("__JOB_DIR__", '"$JOB_DIR"')
    return "\n".join([
        "set -euo pipefail",
        f"JOB_DIR={job_dir}",
        f'while ARGS="$({asking})" && [ -n "$ARGS" ]; do',
        '  eval "set -- $ARGS"',
        *(f"  {line}" for line in _torchrun(venv_bin)),
        f'    --no-python {venv_bin}/repro "$@"',
        "done",
        "",
    ])


def _check_bucket(flag: str, url: str | None) -> None:
    if url is not None and not _BUCKET_RE.match(url):
        raise ExportError(f"{flag} {url!r} is not a bucket URL; use s3://, gs://, r2://, azure://, cos:// or oci://")


def task_config(opts: SkyTaskOptions) -> dict[str, Any]:
    """The SkyPilot task as a dict, in the order a person reads it."""
    command, dataset = _recipe_command(opts.recipe)
    model, count = parse_gpus(opts.gpus)
    if opts.nodes < 1 or opts.runs < 1:
        raise ExportError(f"--nodes and --runs must be ≥ 1, got {opts.nodes} and {opts.runs}")
    if opts.recovery_strategy not in RECOVERY_STRATEGIES:
        raise ExportError(f"recovery strategy {opts.recovery_strategy!r} unknown; use one of {RECOVERY_STRATEGIES}")
    _check_bucket("--data-source", opts.data_source)
    _check_bucket("--results-bucket", opts.results_bucket)
    if opts.managed and opts.results_bucket is None:
        raise ExportError("--managed keeps checkpoints on the results bucket so a restarted job can resume; "
                          "pass --results-bucket s3://BUCKET (mounted at /results)")
    if opts.epochs is not None and opts.epochs < 1:
        raise ExportError(f"--epochs must be >= 1, got {opts.epochs}")
    if command != "digits" and opts.data_source is None:
        raise ExportError(f"recipe {opts.recipe!r} needs the {dataset} dataset on the cloud VM; pass "
                          f"--data-source s3://BUCKET/{dataset} (mounted at {DATA_DIR})")

    resources: dict[str, Any] = {"accelerators": f"{model}:{count}", "image_id": f"docker:{opts.image}"}
    if opts.cloud:
        resources["cloud"] = opts.cloud
    if opts.region:
        resources["region"] = opts.region
    if opts.disk_size_gb:
        resources["disk_size"] = opts.disk_size_gb
    if opts.spot:
        resources["use_spot"] = True
        resources["job_recovery"] = {"strategy": opts.recovery_strategy,
                                     "max_restarts_on_errors": opts.max_restarts_on_errors}

    envs = {"OMP_NUM_THREADS": "8"}
    if "@sha256:" in opts.image:
        envs["REPRO_IMAGE_DIGEST"] = opts.image      # provenance: repro.harness.provenance.image_digest

    file_mounts: dict[str, Any] = {}
    if opts.data_source:
        file_mounts[DATA_DIR] = {"source": opts.data_source, "mode": "MOUNT"}
    if opts.results_bucket:
        file_mounts[RESULTS_DIR] = {"source": opts.results_bucket, "mode": "MOUNT"}

    config: dict[str, Any] = {
        "name": f"repro-{opts.recipe}",
        "num_nodes": opts.nodes,
        "resources": resources,
        "envs": envs,
    }
    if file_mounts:
        config["file_mounts"] = file_mounts
    # --init: an init as PID 1 passes the preemption's SIGTERM on to repro (repro.harness.signals)
    config["config"] = {"docker": {"run_options": ["--init", "--user=root", "--ipc=host", "--shm-size=16g"]}}
    script = managed_run_script if opts.managed else run_script
    config["run"] = script(command, opts.recipe, runs=opts.runs, seed=opts.seed,
                           with_data=opts.data_source is not None, epochs=opts.epochs)
    return config


def warnings_for(opts: SkyTaskOptions) -> list[str]:
    """What will work but not as a user would want."""
    notes = []
    if "@sha256:" not in opts.image:
        notes.append(f"image {opts.image!r} is not pinned by digest: runs will record no image digest; "
                     "push it and pass --image REGISTRY/repro@sha256:<digest>")
    if "/" not in opts.image.split("@")[0]:
        notes.append(f"image {opts.image!r} names no registry, so a cloud VM cannot pull it; "
                     "`docker push` it and pass --image REGISTRY/NAME…")
    if opts.results_bucket is None:
        notes.append(f"no --results-bucket: results stay on the VM's disk at {RESULTS_DIR} and are lost with it "
                     "(and with a spot preemption)")
    return notes


class _TaskDumper(yaml.SafeDumper):
    """Multi-line strings (the run script) as `|` blocks, so the exported file reads like a script."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_TaskDumper.add_representer(str, _str_representer)


def to_yaml(config: dict[str, Any], opts: SkyTaskOptions) -> str:
    launch = "sky jobs launch" if opts.spot or opts.managed else "sky launch"
    kind = ("managed job, resumes from the bucket's checkpoint after preemption" if opts.managed
            else "spot, managed job recovery" if opts.spot else "")
    header = (f"# SkyPilot task for repro recipe {opts.recipe} on {opts.nodes} x {opts.gpus}"
              f"{f' ({kind})' if kind else ''}.\n"
              f"# Written by `repro export skypilot`. Launch with: {launch} THIS_FILE\n")
    return header + yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, default_flow_style=False, width=120)


def validate_with_skypilot(text: str):
    """Load the YAML with SkyPilot's own loader (schema and resource checks); returns the sky.Task.
    Raises ExportError when SkyPilot rejects it or is not installed."""
    try:
        import sky
    except ImportError as exc:
        raise ExportError("SkyPilot is not installed here (`pip install skypilot`); cannot validate") from exc
    try:
        return sky.Task.from_yaml_str(text)
    except Exception as exc:  # SkyPilot raises ValueError, jsonschema errors and its own exception types
        raise ExportError(f"SkyPilot rejects the task: {exc}") from exc
