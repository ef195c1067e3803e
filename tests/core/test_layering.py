"""The layering rule: a module imports only ``core`` (the facade), itself, and the public API of the
modules its manifest names in ``depends``. The contracts in pyproject.toml follow the manifests,
the example plugin keeps the rule, and the checker catches a module that breaks it."""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from core.plugins import discover

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def contract_for(package: str, depends: list[str], others: set[str]) -> dict:
    """The forbidden contract of module ``package`` whose manifest depends on the packages ``depends``.

    ``others`` are the packages of the other modules (and anything else a module must not reach):
    each one it does not depend on is forbidden whole, and each dependency's internals
    (``plugins.accounting.*``), its ``__init__`` (the public API) staying allowed. ``core.*`` is
    every submodule of the core: only the facade ``core`` is allowed.
    """
    forbidden = {"core.*"} | {o for o in others if o != package and o not in depends} | {f"{d}.*" for d in depends}
    return {"source_modules": [package], "forbidden_modules": sorted(forbidden)}


def bundled() -> dict[str, tuple[str, list[str]]]:
    """Each bundled module's package and the names in its ``depends``."""
    found = discover()
    return {info.name: (info.module.__name__.rpartition(".")[0],
                        [f"plugins.{Requirement(d).name}" for d in info.manifest.depends])
            for info in found.plugins.values() if info.module.__name__.startswith("plugins.")}


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_contracts_follow_the_manifests():
    modules = bundled()
    assert {"accounting", "crm"} <= set(modules)
    siblings = {f"plugins.{p.stem}" for p in (ROOT / "plugins").iterdir()
                if p.name != "__init__.py" and (p.suffix == ".py" or (p / "__init__.py").exists())}
    forbidden = {tuple(c["source_modules"]): c for c in contracts() if c["type"] == "forbidden"}
    for name, (package, depends) in modules.items():
        contract = forbidden.get((package,))
        assert contract is not None, f"no contract for {name}: add '{name} imports only core, itself and its depends'"
        expected = contract_for(package, depends, siblings)
        declared = set(contract["forbidden_modules"])
        if "plugins.*" in declared:  # the wildcard is every sibling; the module itself is skipped as overlapping
            declared = (declared - {"plugins.*"}) | (siblings - {package})
        assert sorted(declared) == expected["forbidden_modules"], (
            f"{name}'s contract does not match its manifest's depends {depends}")
        assert contract.get("allow_indirect_imports") is True  # `core` imports its own submodules
    independent = [set(c["modules"]) for c in contracts() if c["type"] == "independence"]
    for (a, (pa, da)), (b, (pb, db)) in itertools.combinations(sorted(modules.items()), 2):
        if pa not in db and pb not in da:
            assert any({pa, pb} <= group for group in independent), f"{a} and {b} are not declared independent"


def lint(tmp_path: Path, root_packages: list[str], extra: list[dict], *paths: Path) -> subprocess.CompletedProcess:
    """Run lint-imports with ``extra`` contracts over ``root_packages`` (``paths`` on sys.path)."""
    lines = ["[tool.importlinter]", f"root_packages = {root_packages!r}".replace("'", '"'), ""]
    for number, contract in enumerate(extra):
        lines += ["[[tool.importlinter.contracts]]", f'name = "contract {number}"', 'type = "forbidden"',
                  f"source_modules = {contract['source_modules']!r}".replace("'", '"'),
                  f"forbidden_modules = {contract['forbidden_modules']!r}".replace("'", '"'),
                  "allow_indirect_imports = true", ""]
    config = tmp_path / "importlinter.toml"
    config.write_text("\n".join(lines))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(p) for p in paths] + [str(ROOT)])}
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--config", str(config)], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_the_example_plugin_keeps_the_rule(tmp_path):
    done = lint(tmp_path, ["core", "plugins", "kontor_hello"], [contract_for("kontor_hello", [], {"plugins"})],
                ROOT / "tests" / "example_plugin")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "contract 0 KEPT" in done.stdout


INTRUDER = '''
from core import Manifest, hookimpl
from core.db import session
from plugins.crm.leads.services import create_lead

manifest = Manifest(name="intruder", title="Intruder", version="1.0", summary="Reaches into crm.")
'''


def test_the_checker_catches_a_module_importing_another_modules_internals(tmp_path):
    package = tmp_path / "src" / "kontor_intruder"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Intruder."""\n')
    (package / "plugin.py").write_text(INTRUDER)
    done = lint(tmp_path, ["core", "plugins", "kontor_intruder"], [contract_for("kontor_intruder", [], {"plugins"})],
                tmp_path / "src")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "contract 0 BROKEN" in done.stdout
    assert "kontor_intruder.plugin -> plugins.crm.leads.services" in done.stdout
    assert "kontor_intruder.plugin -> core.db" in done.stdout


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, by the name it is imported as; ``from a import b`` also counts as
    ``a.b`` (``b`` may be a module), and a relative import keeps its bare name (``from .conftest``)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.module:
                found.add(node.module)
            found.update(f"{node.module}.{alias.name}" if node.module else alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def imports_of_a_conftest_or_a_test_file(tests: Path) -> list[str]:
    """Each ``path imports module`` under ``tests`` where a module imports a ``conftest`` or a test
    file (``test_*``) rather than a helper module."""
    return [f"{path.relative_to(tests.parent)} imports {module}"
            for path in sorted(tests.rglob("*.py")) for module in sorted(_imported_modules(path))
            if module.rpartition(".")[2] == "conftest" or module.rpartition(".")[2].startswith("test_")]


def test_no_test_file_imports_a_helper_from_a_conftest_nor_from_another_test_file():
    """Shared helpers live in helper modules (``core.testing``, a module's ``testing.py``,
    ``tests/e2e/pages.py``, ``tests/core/lifecycle_helpers.py`` …) and shared fixtures in a
    ``conftest.py`` that pytest finds by itself; never imported from a ``conftest.py`` (pytest loads
    that as a plugin of its own, and importing it again runs it twice) nor from another test file
    (which would run its tests again)."""
    assert imports_of_a_conftest_or_a_test_file(ROOT / "tests") == []


def test_the_check_catches_a_test_importing_a_conftest_or_a_test_file(tmp_path):
    tests = tmp_path / "tests"
    (tests / "plugins" / "shop").mkdir(parents=True)
    (tests / "plugins" / "shop" / "test_orders_web.py").write_text(
        "from tests.conftest import make_user\n"
        "from .test_orders_services import an_order\n"
        "from tests.plugins.shop import test_stock_services\n"
        "from . import conftest\n"
        "from tests.e2e.pages import sign_in\n"
        "from core.testing import WebClient\n")
    (tests / "plugins" / "shop" / "test_orders_api.py").write_text("import tests.plugins.shop.test_orders_web\n")
    (tests / "plugins" / "shop" / "test_orders_services.py").write_text("from plugins.shop.testing import an_order\n")
    assert imports_of_a_conftest_or_a_test_file(tests) == [
        "tests/plugins/shop/test_orders_api.py imports tests.plugins.shop.test_orders_web",
        "tests/plugins/shop/test_orders_web.py imports conftest",
        "tests/plugins/shop/test_orders_web.py imports test_orders_services",
        "tests/plugins/shop/test_orders_web.py imports tests.conftest",
        "tests/plugins/shop/test_orders_web.py imports tests.plugins.shop.test_stock_services",
    ]
