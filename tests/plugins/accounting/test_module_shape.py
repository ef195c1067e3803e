"""Accounting has the one documented module shape: areas declared in the manifest, each with its own
``plugin.py``; one module-level blueprint of pages and one of endpoints that every app shares; one
``kontor accounting`` command group; area packages without forwarding functions; nothing imported
from the core's submodules."""
from __future__ import annotations

import ast
from pathlib import Path

from core.wsgi import Dispatcher

import plugins.accounting
from plugins.accounting import plugin, web

PACKAGE = Path(plugins.accounting.__file__).parent
AREAS = ("ledger", "tax", "invoicing", "banking", "reports")


def test_the_manifest_declares_the_areas_and_each_area_is_a_plugin_of_the_module(app):
    assert plugin.manifest.areas == AREAS
    pm = app.extensions["kontor"].pm
    for area in AREAS:
        part = pm.get_plugin(f"accounting.{area}")
        assert part is not None and part.__name__ == f"plugins.accounting.{area}.plugin"


def test_area_packages_hold_no_functions_and_nothing_forwards_hooks():
    for area in AREAS:
        tree = ast.parse((PACKAGE / area / "__init__.py").read_text(encoding="utf-8"))
        assert [type(node).__name__ for node in tree.body] in (["Expr"], []), f"{area}/__init__.py is not a docstring"
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "globals().update" not in text and "AreaHooks" not in text and "corelinks" not in text, path


def test_no_module_code_imports_a_core_submodule():
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("core."), f"{path}: from {node.module} import"


def test_every_app_shares_the_one_blueprint_with_the_same_endpoints(settings):
    first, second = Dispatcher(settings).app, Dispatcher(settings).app
    for app in (first, second):
        assert app.blueprints["accounting"] is web.bp
        assert app.blueprints["api_accounting"] is web.api
    assert {e for e in first.view_functions if e.startswith(("accounting.", "api_accounting."))} == \
        {e for e in second.view_functions if e.startswith(("accounting.", "api_accounting."))}
    endpoints = set(first.view_functions)
    assert {"accounting.accounts", "accounting.taxes", "accounting.invoices", "accounting.payments",
            "accounting.reports", "api_accounting.api_entries", "api_accounting.api_statement"} <= endpoints
    command = first.cli.get_command(None, "accounting")
    assert {"verify", "chart", "rates", "taxes", "vat", "revalue", "statement", "report"} <= set(command.commands)
