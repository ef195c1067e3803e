"""The core's modules import each other without a cycle, and the core imports no plugin."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The import cycles among ``package``'s modules: strongly connected groups of more than one
    module (Tarjan), each sorted. Imports inside functions count: they are cycles all the same."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # iterative, so a deep graph needs no recursion limit
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return [c for c in found if all(m == package or m.startswith(package + ".") for m in c)]


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from loopy import b\n")
    (package / "b.py").write_text("def later():\n    from loopy.c import x\n")
    (package / "c.py").write_text("import loopy.a\nx = 1\n")
    (package / "d.py").write_text("import loopy.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles(grimp.build_graph("loopy", cache_dir=None), "loopy") == [["loopy.a", "loopy.b", "loopy.c"]]


def test_the_core_modules_import_each_other_without_a_cycle():
    graph = grimp.build_graph("core", cache_dir=None)
    assert cycles(graph, "core") == []


def test_nothing_in_the_core_imports_the_core_facade():
    """``core/__init__.py`` is only the facade for plugins: the core's own modules import submodules."""
    graph = grimp.build_graph("core", cache_dir=None)
    assert graph.find_modules_that_directly_import("core") == set()


@pytest.mark.parametrize("module", ["core.plugins", "core.modules.registry", "core.app", "core.db", "core.api.input",
                                    "core.audit.recorder", "core.cli"])
def test_each_core_module_imports_first_in_a_fresh_interpreter(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_import_linter_contracts_are_kept():
    """``lint-imports`` with the contracts in pyproject.toml, among them: the core imports no plugin."""
    done = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The core imports no plugin KEPT" in done.stdout
