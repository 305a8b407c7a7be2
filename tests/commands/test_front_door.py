"""What a new user meets first: --version, the command list, help on every option with an example
at the end, JSON numbers, a closed pipe, the progress bar on a terminal only."""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios

import pytest

from repro import __version__
from repro.cli import build_parser
from tests.conftest import REPRO_BIN, run_cli


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"repro {__version__}"


def test_bare_repro_lists_the_commands():
    r = run_cli()
    assert r.returncode == 0
    for command in ("digits", "cifar", "imagenet", "report", "runs", "prices", "export", "lr-find", "rerun", "bench"):
        assert f"    {command}" in r.stdout
    assert "exit status: 0 ok" in r.stdout


def _parsers(parser: argparse.ArgumentParser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_option_has_help_and_every_command_ends_with_an_example():
    missing, no_example = [], []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if not action.help and not isinstance(action, argparse._SubParsersAction):
                missing.append(f"repro {' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
        if path:
            epilog = parser.epilog or ""
            if not (epilog.lstrip().startswith("example") and "repro " in epilog):
                no_example.append(" ".join(path))
    assert missing == [] and no_example == []


@pytest.mark.parametrize("command", [["digits"], ["runs"], ["report"], ["rerun"], ["recipes"], ["cifar"],
                                     ["imagenet"], ["prices"], ["prices", "show"], ["export", "dawnbench"],
                                     ["export", "skypilot"], ["lr-find"], ["bench"], ["bench", "gpu"]])
def test_help_ends_with_an_example(command):
    r = run_cli(*command, "--help")
    assert r.returncode == 0, r.stderr
    tail = r.stdout.rstrip().split("\n\n")[-1]
    assert tail.startswith("example") and "repro " in tail


def test_json_writes_numbers_as_numbers(tmp_path):
    r = run_cli("digits", "--epochs", "1", "--json", "--results", str(tmp_path))
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    run = next(d for d in docs if d["type"] == "run")
    row = run["cost"]["rows"][0]
    assert isinstance(row["usd_per_hour"], float) and isinstance(row["billed_usd"], float)
    epoch = next(d for d in docs if d["type"] == "epoch")
    assert isinstance(epoch["top1"], float) and isinstance(epoch["epoch"], int)


def test_output_into_a_closed_pipe_ends_quietly():
    r = subprocess.run(f"'{REPRO_BIN}' recipes | head -1", shell=True, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("digits") and r.stderr == ""
    r = subprocess.run(f"'{REPRO_BIN}' --help | head -1", shell=True, capture_output=True, text=True, timeout=60)
    assert r.stderr == ""


def _run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run `repro` with stdout and stderr on a pseudo-terminal; returns (status, what the terminal got)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))   # a 100-column terminal
    proc = subprocess.Popen([str(REPRO_BIN), *args], stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_only(tmp_path):
    status, screen = _run_on_a_terminal(["digits", "--epochs", "2", "--results", str(tmp_path / "tty")])
    assert status == 0 and "epoch 1:" in screen and "batch" in screen     # tqdm's bar, drawn on stderr
    assert "epoch   2/2" in screen
    quiet_status, quiet_screen = _run_on_a_terminal(["digits", "--epochs", "1", "--quiet",
                                                     "--results", str(tmp_path / "q")])
    assert quiet_status == 0 and quiet_screen == ""
    piped = run_cli("digits", "--epochs", "1", "--results", str(tmp_path / "pipe"))
    assert "batch" not in piped.stderr and "epoch 1:" not in piped.stderr
