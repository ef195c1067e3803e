"""What is particular to the CRM's shape (the generic module shape is the plugin contract's,
``tests/contract.py``): the areas its manifest names, each registered as a part of the module,
the endpoints of its one page and API blueprint, the commands of its one ``kontor crm`` group, and
services and record rules that never read Flask's ``current_user``."""
from __future__ import annotations

import ast
from pathlib import Path

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


def test_no_service_nor_record_rule_reads_flasks_current_user():
    for path in [*PACKAGE.rglob("services.py"), PACKAGE / "access.py", PACKAGE / "timeline.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "current_user" not in {alias.name for alias in node.names}, path


def test_the_one_blueprint_holds_every_areas_pages_and_endpoints_and_one_command_group(app):
    assert app.blueprints["crm"] is web.bp and app.blueprints["api_crm"] is web.api
    assert {"crm.leads", "crm.board", "crm.activities", "crm.tickets", "crm.campaigns", "crm.timeline_panel",
            "crm.web_to_lead", "api_crm.api_leads", "api_crm.api_tickets"} <= set(app.view_functions)
    command = app.cli.get_command(None, "crm")
    assert {"import-leads", "stages", "move", "sla-check", "send-campaign"} == set(command.commands)
