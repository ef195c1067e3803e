"""What is particular to accounting's shape (the generic module shape is the plugin contract's,
``tests/contract.py``): the areas its manifest names, each registered as a part of the module,
the endpoints of its one page and API blueprint, and the commands of its one ``kontor accounting``
group."""
from __future__ import annotations

from plugins.accounting import plugin, web

AREAS = ("ledger", "currencies", "tax", "invoicing", "banking", "reports")


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


def test_currencies_are_an_area_of_their_own_and_tax_holds_only_taxes():
    """Currencies, rates, conversion and the revaluation live in currencies/, before tax/ (whose
    default data and documents use them); tax/ keeps the taxes, a line's amounts and the VAT report."""
    from plugins.accounting.currencies import models as currency_models, services as currencies
    from plugins.accounting.tax import models as tax_models, services as tax

    assert AREAS.index("currencies") < AREAS.index("tax")
    assert currency_models.Currency.__tablename__ == "accounting_currency"
    assert currency_models.ExchangeRate.__tablename__ == "accounting_exchange_rate"
    for name in ("company_currency", "currency_digits", "rate_on", "to_company", "set_rate", "import_rates",
                 "load_default_currencies", "round_money", "quantum", "to_decimal"):
        assert getattr(currencies, name).__module__ == "plugins.accounting.currencies.services", name
    for name in ("company_currency", "currency_digits", "rate_on", "to_company", "set_rate", "import_rates",
                 "load_default_currencies"):
        assert not hasattr(tax, name), name
    assert not hasattr(tax_models, "Currency") and not hasattr(tax_models, "ExchangeRate")
    assert callable(tax.compute_line) and hasattr(tax_models, "Tax")
