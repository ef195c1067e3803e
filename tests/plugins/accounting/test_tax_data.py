"""Default data on install: currencies, the company country's taxes, and taxes of other countries."""
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core import KontorError

from plugins.accounting.ledger.models import Account
from plugins.accounting.tax import services
from plugins.accounting.tax.models import Currency, Tax


def test_currencies_are_loaded_with_their_minor_units(db):
    digits = dict(db.execute(select(Currency.code, Currency.digits)).all())
    assert {code: digits[code] for code in ("EUR", "DKK", "SEK", "NOK", "PLN", "USD", "GBP", "CHF", "JPY", "ISK")} == {
        "EUR": 2, "DKK": 2, "SEK": 2, "NOK": 2, "PLN": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "ISK": 0}
    assert services.currency_digits(db, "jpy") == 0
    with pytest.raises(KontorError) as refused:
        services.currency_digits(db, "XXX")
    assert refused.value.field == "currency"


def test_the_danish_company_gets_the_danish_taxes_on_its_vat_accounts(db):
    taxes = {t.code: t for t in services.taxes_for_country(db, "DK")}
    assert {"DK-S25", "DK-P25", "DK-PRC25", "DK-S0EU"} <= set(taxes)
    output_vat = db.execute(select(Account.id).where(Account.code == "2200")).scalar_one()
    input_vat = db.execute(select(Account.id).where(Account.code == "1400")).scalar_one()
    sale, purchase, reverse = taxes["DK-S25"], taxes["DK-P25"], taxes["DK-PRC25"]
    assert (sale.rate, sale.scope, sale.collected_account_id, sale.paid_account_id) == (Decimal("25.0000"), "sale",
                                                                                        output_vat, None)
    assert (purchase.scope, purchase.paid_account_id) == ("purchase", input_vat)
    assert reverse.reverse_charge and (reverse.collected_account_id, reverse.paid_account_id) == (output_vat, input_vat)
    assert taxes["DK-S0EU"].rate == 0 and taxes["DK-S0EU"].report_code
    assert services.taxes_for_country(db, "DE") == []  # only the company's country is loaded on install


@pytest.mark.parametrize("country, standard, reduced", [
    ("DE", "19", ["7"]), ("PL", "23", ["8", "5"]), ("FI", "25.5", ["13.5", "10"]), ("SE", "25", ["12", "6"]),
    ("DK", "25", []),
])
def test_every_default_table_has_its_2026_rates(db, country, standard, reduced):
    services.load_country_taxes(db, country)
    taxes = services.taxes_for_country(db, country)
    sale_rates = {t.rate for t in taxes if t.scope == "sale" and not t.price_included}
    purchase_rates = {t.rate for t in taxes if t.scope == "purchase" and not t.reverse_charge}
    expected = {Decimal(r) for r in [standard, *reduced]}
    assert expected | {Decimal(0)} == sale_rates
    assert expected == purchase_rates
    assert any(t.reverse_charge and t.scope == "purchase" and t.rate == Decimal(standard) for t in taxes)
    assert all(t.report_code for t in taxes)
    assert all(t.collected_account_id for t in taxes if t.scope == "sale")
    assert all(t.paid_account_id for t in taxes if t.scope == "purchase")


def test_loading_twice_adds_nothing_and_unknown_countries_are_refused(db):
    assert services.load_country_taxes(db, "DK") == []
    with pytest.raises(KontorError) as refused:
        services.load_country_taxes(db, "XX")
    assert refused.value.field == "country"


def test_a_country_without_a_table_gets_no_taxes(db):
    db.execute(text("DELETE FROM accounting_tax"))
    db.execute(text("UPDATE core_company SET country = 'US' WHERE id = 1"))
    services.load_default_data(db)
    assert db.execute(select(Tax)).first() is None
    assert services.company_currency(db) == "DKK"


def test_taxes_load_command(kontor, app, db):
    result = kontor("accounting", "taxes", "load", "se")
    assert result.exit_code == 0 and "taxes added" in result.output
    unknown = kontor("accounting", "taxes", "load", "ZZ")
    assert unknown.exit_code == 1 and "no default taxes" in unknown.output
    assert {t.code for t in services.taxes_for_country(db, "SE")} >= {"SE-S25", "SE-S12", "SE-S6", "SE-PRC25"}
