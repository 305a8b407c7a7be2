"""The report's modules depend one way (read → render → write → build) and only on lower layers."""
from __future__ import annotations

import ast
from pathlib import Path

import repro.report
from repro.report.pool import ordered_map, start_map

PACKAGE = Path(repro.report.__file__).parent
FORBIDDEN = ("repro.train", "repro.orchestrator", "repro.commands", "repro.cli", "repro.api",
             "repro.launch")


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """(repro modules imported at module level, repro imports made inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    nested: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("repro"):
            names = {f"{node.module}.{a.name}" if node.module == "repro.report" else node.module
                     for a in node.names}
        elif isinstance(node, ast.Import):
            names = {a.name for a in node.names if a.name.startswith("repro")}
        else:
            continue
        if node.col_offset:
            nested += sorted(names)
        else:
            top |= names
    return top, nested


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in PACKAGE.glob("*.py"):
        name = f"repro.report.{path.stem}" if path.stem != "__init__" else "repro.report"
        graph[name] = _imports(path)[0]
    return graph


def test_no_module_of_the_report_imports_itself_back():
    graph = _graph()
    report = {name: {d for d in deps if d in graph} for name, deps in graph.items()
              if name != "repro.report"}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " → ".join((*trail, name))
        if name in done:
            return
        for dep in report.get(name, ()):
            visit(dep, (*trail, name))
        done.add(name)

    for name in report:
        visit(name, ())


def test_report_imports_no_higher_layer_and_nothing_inside_functions():
    for path in PACKAGE.glob("*.py"):
        top, nested = _imports(path)
        assert not nested, f"{path.name} imports {nested} inside a function"
        assert not [m for m in top if m.startswith(FORBIDDEN)], path.name


def test_fork_pool_runs_closures_in_order():
    data = list(range(50))
    assert ordered_map(lambda k: data[k] * 2, range(50), 2) == [k * 2 for k in range(50)]
    assert start_map(lambda k: data[k] + 1, range(5), 2).wait() == [1, 2, 3, 4, 5]
