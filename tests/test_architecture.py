"""The house rules of docs/architecture.md, checked on the code itself: the import-linter layers
hold (and a forbidden import breaks them), no import cycle anywhere in repro/, small functions and
modules, and nothing in the repository points outside it."""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, capture_output=True, text=True, env=env, timeout=120)


def test_the_layers_hold():
    out = _lint(REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" in out.stdout and "0 broken" in out.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("repro/train/schedule.py", "import repro.pricing.money", "the trainer knows nothing about money"),
    ("repro/report/format.py", "import repro.train.schedule", "commands on top"),
    ("repro/harness/stats.py", "import repro.orchestrator", "commands on top"),
    ("repro/pricing/money.py", "import repro.commands.output", "commands on top"),
])
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, contract):
    shutil.copytree(REPO / "repro", tmp_path / "repro", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    out = _lint(tmp_path)
    assert out.returncode != 0, out.stdout
    assert "BROKEN" in out.stdout and contract in out.stdout


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module graph: every group of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            groups.append(group)

    sys.setrecursionlimit(10_000)
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycle_anywhere():
    graph = grimp.build_graph("repro")
    # a package's __init__ importing its own modules is how packages work; anything else is a cycle
    cycles = [g for g in _strongly_connected(graph) if len(g) > 1]
    assert cycles == [], cycles


def _python_files():
    return sorted(p for p in (REPO / "repro").rglob("*.py"))


def test_no_function_over_60_lines():
    long = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_module_over_400_lines():
    big = [f"{p.relative_to(REPO)} ({n} lines)" for p in _python_files()
           if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert big == []


def test_nothing_points_outside_the_repository():
    needle = "../" + "shared"   # spelled in two parts so this file does not match itself
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    outside = [name for name in tracked if Path(name).suffix in (".py", ".md", ".j2", ".toml", ".txt", "")
               and (REPO / name).is_file() and needle in (REPO / name).read_text(errors="replace")]
    assert outside == []
