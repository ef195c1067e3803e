"""The CRM has the one documented module shape: areas declared in the manifest, each with its own
``plugin.py``; one module-level blueprint of pages and one of endpoints that every app shares; one
``kontor crm`` command group; area packages without forwarding functions; services and record
rules that never read Flask's ``current_user``; nothing imported from the core's submodules."""
from __future__ import annotations

import ast
from pathlib import Path

from core.wsgi import Dispatcher

import plugins.crm
from plugins.crm import plugin, web

PACKAGE = Path(plugins.crm.__file__).parent
AREAS = ("leads", "pipeline", "activities", "tickets", "campaigns")


def test_the_manifest_declares_the_areas_and_each_area_is_a_plugin_of_the_module(app):
    assert plugin.manifest.areas == AREAS
    pm = app.extensions["kontor"].pm
    for area in AREAS:
        part = pm.get_plugin(f"crm.{area}")
        assert part is not None and part.__name__ == f"plugins.crm.{area}.plugin"


def test_area_packages_hold_no_functions_and_nothing_forwards_hooks():
    for area in AREAS:
        tree = ast.parse((PACKAGE / area / "__init__.py").read_text(encoding="utf-8"))
        assert [type(node).__name__ for node in tree.body] in (["Expr"], []), f"{area}/__init__.py is not a docstring"
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "globals().update" not in text and "AreaHooks" not in text and "corelinks" not in text, path


def test_no_service_nor_record_rule_reads_flasks_current_user():
    for path in [*PACKAGE.rglob("services.py"), PACKAGE / "access.py", PACKAGE / "timeline.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "current_user" not in {alias.name for alias in node.names}, path


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
        assert app.blueprints["crm"] is web.bp
        assert app.blueprints["api_crm"] is web.api
    assert {e for e in first.view_functions if e.startswith(("crm.", "api_crm."))} == \
        {e for e in second.view_functions if e.startswith(("crm.", "api_crm."))}
    assert {"crm.leads", "crm.board", "crm.activities", "crm.tickets", "crm.campaigns", "crm.timeline_panel",
            "crm.web_to_lead", "api_crm.api_leads", "api_crm.api_tickets"} <= set(first.view_functions)
    command = first.cli.get_command(None, "crm")
    assert {"import-leads", "stages", "move", "sla-check", "send-campaign"} == set(command.commands)
