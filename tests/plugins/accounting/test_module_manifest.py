"""What is particular to accounting's shape (the generic module shape is the plugin contract's,
``tests/contract.py``): the areas its manifest names, each registered as a part of the module,
the endpoints of its one page and API blueprint, and the commands of its one ``kontor accounting``
group."""
from __future__ import annotations

from plugins.accounting import plugin, web

AREAS = ("ledger", "tax", "invoicing", "banking", "reports")


def test_the_manifest_declares_the_areas_and_each_area_is_a_plugin_of_the_module(app):
    assert plugin.manifest.areas == AREAS
    pm = app.extensions["kontor"].pm
    for area in AREAS:
        part = pm.get_plugin(f"accounting.{area}")
        assert part is not None and part.__name__ == f"plugins.accounting.{area}.plugin"


def test_the_one_blueprint_holds_every_areas_pages_and_endpoints_and_one_command_group(app):
    assert app.blueprints["accounting"] is web.bp and app.blueprints["api_accounting"] is web.api
    assert {"accounting.accounts", "accounting.taxes", "accounting.invoices", "accounting.payments",
            "accounting.reports", "api_accounting.api_entries", "api_accounting.api_statement"} <= set(app.view_functions)
    command = app.cli.get_command(None, "accounting")
    assert {"verify", "chart", "rates", "taxes", "vat", "revalue", "statement", "report"} <= set(command.commands)
