"""Currencies and exchange rates, and the unrealised revaluation at period end."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import KontorError
from core.parties.services import create_party

from plugins.accounting.banking.services import open_items, reconcile_lines
from plugins.accounting.currencies import services
from plugins.accounting.currencies.models import Currency, ExchangeRate
from plugins.accounting.currencies.revaluation import revalue
from plugins.accounting.ledger import services as ledger, years
from plugins.accounting.ledger.models import Account, Entry


# -- currencies and rates --


D = Decimal


def count_rates(db):
    return db.execute(select(func.count()).select_from(ExchangeRate)).scalar_one()


def test_currencies_are_loaded_with_their_minor_units(db):
    digits = dict(db.execute(select(Currency.code, Currency.digits)).all())
    assert {code: digits[code] for code in ("EUR", "DKK", "SEK", "NOK", "PLN", "USD", "GBP", "CHF", "JPY", "ISK")} == {
        "EUR": 2, "DKK": 2, "SEK": 2, "NOK": 2, "PLN": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "ISK": 0}
    assert services.currency_digits(db, "jpy") == 0
    with pytest.raises(KontorError) as refused:
        services.currency_digits(db, "XXX")
    assert refused.value.field == "currency"


def test_rate_on_takes_the_latest_rate_on_or_before_the_day(db):
    services.set_rate(db, "EUR", "2026-01-01", "7.45")
    services.set_rate(db, "EUR", "2026-01-15", "7.4612")
    assert services.rate_on(db, "EUR", date(2026, 1, 14)) == D("7.45")
    assert services.rate_on(db, "eur", date(2026, 1, 15)) == D("7.4612")
    assert services.rate_on(db, "EUR", date(2027, 1, 1)) == D("7.4612")
    assert services.rate_on(db, "DKK", date(2000, 1, 1)) == 1
    with pytest.raises(KontorError) as refused:
        services.rate_on(db, "EUR", date(2025, 12, 31))
    assert refused.value.field == "currency"


def test_to_company_rounds_half_up_to_the_company_minor_unit(db):
    services.set_rate(db, "EUR", "2026-01-01", "7.45")
    services.set_rate(db, "JPY", "2026-01-01", "0.04515")
    assert services.to_company(db, D("100.01"), "EUR", date(2026, 2, 1)) == (D("745.07"), D("7.45"))  # 745.0745
    assert services.to_company(db, D("10.10"), "EUR", date(2026, 2, 1))[0] == D("75.25")  # 75.245, half up
    assert services.to_company(db, D("1000"), "JPY", date(2026, 2, 1)) == (D("45.15"), D("0.04515"))
    assert services.to_company(db, D("0.10"), "JPY", date(2026, 2, 1))[0] == D("0.00")
    assert services.to_company(db, D("-10.10"), "EUR", date(2026, 2, 1))[0] == D("-75.25")


def test_other_modules_convert_through_the_public_api(db):
    import plugins.accounting as accounting

    services.set_rate(db, "EUR", "2026-01-01", "7.45")
    assert "to_company" in accounting.__all__
    assert accounting.to_company(db, "100.01", "EUR", date(2026, 2, 1)) == (D("745.07"), D("7.45"))
    assert accounting.to_company(db, D("12.30"), "dkk", date(2000, 1, 1)) == (D("12.30"), D(1))
    with pytest.raises(KontorError) as refused:
        accounting.to_company(db, "1.00", "USD", date(2026, 2, 1))  # no USD rate
    assert refused.value.field == "currency"
    with pytest.raises(KontorError) as refused:
        accounting.to_company(db, "ten", "EUR", date(2026, 2, 1))
    assert refused.value.field == "amount"


def test_setting_a_rate_twice_on_a_day_replaces_it(db):
    services.set_rate(db, "EUR", "2026-01-01", "7.45")
    services.set_rate(db, "EUR", "2026-01-01", "7,46")
    assert count_rates(db) == 1
    assert services.rate_on(db, "EUR", date(2026, 1, 1)) == D("7.46")


@pytest.mark.parametrize("currency, day, rate, field", [
    ("XXX", "2026-01-01", "1", "currency"), ("DKK", "2026-01-01", "1", "currency"),
    ("EUR", "2026-13-01", "1", "date"), ("EUR", "2026-01-01", "0", "rate"), ("EUR", "2026-01-01", "-1", "rate"),
    ("EUR", "2026-01-01", "abc", "rate"), ("EUR", "2026-01-01", "1.123456789", "rate"), ("EUR", "2026-01-01", "", "rate"),
])
def test_bad_rates_are_refused_naming_the_field(db, currency, day, rate, field):
    with pytest.raises(KontorError) as refused:
        services.set_rate(db, currency, day, rate)
    assert refused.value.field == field


GOOD = b"date;currency;rate\n2026-01-01;EUR;7,4510\n02.01.2026;USD;6.8\n2026-01-02;EUR;7.4520\n"


def test_import_of_a_good_file(db):
    imported = services.import_rates(db, GOOD)
    assert len(imported) == 3
    assert services.rate_on(db, "USD", date(2026, 1, 2)) == D("6.8")
    assert services.rate_on(db, "EUR", date(2026, 1, 2)) == D("7.452")


def test_import_with_a_column_mapping(db):
    data = "Valuta,Kurs,Dato\nSEK,0.68,2026-03-01\n".encode("cp1252")
    imported = services.import_rates(db, data, {"date": "Dato", "currency": "Valuta", "rate": "Kurs"})
    assert [(r.currency, r.date, r.rate) for r in imported] == [("SEK", date(2026, 3, 1), D("0.68"))]
    with pytest.raises(KontorError) as refused:
        services.import_rates(db, data, {"date": "Day", "currency": "Valuta", "rate": "Kurs"})
    assert refused.value.field == "map_date"


def test_a_file_with_bad_rows_imports_nothing_and_reports_every_row(db):
    data = (b"date,currency,rate\n2026-01-01,EUR,7.45\n2026-02-30,EUR,7.46\n2026-01-03,XYZ,1\n"
            b"2026-01-04,EUR,-2\n2026-01-01,EUR,7.47\n2026-01-05,DKK,1\n")
    with pytest.raises(services.RatesRefused) as refused:
        services.import_rates(db, data)
    problems = dict(refused.value.problems)
    assert sorted(problems) == [3, 4, 5, 6, 7]
    assert "date" in problems[3] and "XYZ" in problems[4] and "rate" in problems[5] and "line 2" in problems[6]
    db.rollback()
    assert count_rates(db) == 0


def test_rates_import_command(kontor, app, tmp_path, db):
    good = tmp_path / "rates.csv"
    good.write_bytes(GOOD)
    result = kontor("accounting", "rates", "import", str(good))
    assert result.exit_code == 0 and "3 rates imported" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Day,Code,Value\n2026-01-01,EUR,7.45\n2026-01-02,EUR,nope\n")
    refused = kontor("accounting", "rates", "import", str(bad))
    assert refused.exit_code == 1 and "line 3" in refused.output
    assert count_rates(db) == 3


def test_demo_rates_cover_the_past_year_for_every_active_currency(db):
    from plugins.accounting.currencies import demo

    added = []
    demo.load(db, lambda n=1: added.append(n), today=date(2026, 11, 24))
    active = db.execute(select(func.count()).select_from(Currency).where(Currency.active.is_(True))).scalar_one()
    assert count_rates(db) == len(added) == (active - 1) * 14  # 13 month starts and today, not for DKK
    assert D("7.2") < services.rate_on(db, "EUR", date(2026, 11, 24)) < D("7.7")
    demo.load(db, lambda n=1: added.append(n), today=date(2026, 11, 24))
    assert count_rates(db) == len(added)  # a second run adds nothing


def test_rates_set_command(kontor, app, db):
    result = kontor("accounting", "rates", "set", "usd", "2026-06-30", "6.91")
    assert result.exit_code == 0 and "USD 2026-06-30 6.91" in result.output
    refused = kontor("accounting", "rates", "set", "USD", "2026-06-31", "6.91")
    assert refused.exit_code == 1 and "YYYY-MM-DD" in refused.output
    assert services.rate_on(db, "USD", date(2026, 7, 1)) == D("6.91")


def test_a_currency_with_three_decimals_is_refused_for_documents_naming_the_field(db, api):
    from core.parties.services import create_party
    from plugins.accounting.banking import services as banking

    for code in ("KWD", "BHD"):
        assert db.get(Currency, code).digits == 3 and not db.get(Currency, code).active
        with pytest.raises(KontorError) as refused:
            services.update_currency(db, code, active=True)
        assert refused.value.field == "active" and code in refused.value.message
    with pytest.raises(KontorError) as refused:  # an active currency cannot take a third decimal
        services.update_currency(db, "EUR", digits=3)
    assert refused.value.field == "digits"
    with pytest.raises(KontorError) as refused:
        services.add_currency(db, "OMR", "Omani rial", digits=3)
    assert refused.value.field == "digits"
    db.rollback()
    assert db.get(Currency, "EUR").digits == 2 and not db.get(Currency, "KWD").active
    assert db.get(Currency, "OMR") is None
    services.update_currency(db, "KWD", name="Kuwaiti dinar (KD)")  # listed, renamed, still inactive: fine
    refused = api.patch("/api/v1/accounting/currencies/BHD", json={"active": True})
    assert refused.status_code == 422 and "active" in refused.get_json()["errors"]
    # a document in such a currency is refused, naming the field, rather than rounded to two decimals
    party = create_party(db, {"name": "Gulf Trading WLL", "kind": "company"})
    services.set_rate(db, "KWD", date.today().isoformat(), "22.5")
    with pytest.raises(KontorError) as refused:
        banking.register_payment(db, party_id=party.id, amount="10.125", currency="KWD", date=date.today(),
                                 journal="BNK")
    assert refused.value.field == "currency" and "3 decimals" in refused.value.message
    with pytest.raises(KontorError) as refused:
        services.currency_digits(db, "KWD")
    assert refused.value.field == "currency"
    assert services.currency_digits(db, "JPY") == 0


# -- revaluation --


def post(db, journal, day, lines):
    return ledger.create_and_post(db, journal=journal, date=day, lines=lines)


@pytest.fixture
def books(db):
    years.ensure_years(db, date(2026, 1, 1))
    assets = db.execute(select(Account).where(Account.code == "1")).scalar_one()
    db.add(Account(code="1120", name="Bank EUR", type="asset", kind="bank", parent_id=assets.id, postable=True,
                   reconcilable=True, active=True, currency="EUR"))
    for code, day, rate in (("EUR", "2026-01-01", "7.45"), ("EUR", "2026-01-31", "7.46"),
                            ("USD", "2026-01-01", "6.80"), ("USD", "2026-01-31", "6.90")):
        services.set_rate(db, code, day, rate)
    alfa = create_party(db, {"name": "Alfa GmbH", "kind": "company"})
    beta = create_party(db, {"name": "Beta Inc.", "kind": "company"})
    post(db, "GEN", date(2026, 1, 5), [
        {"account": "1120", "debit": "1488.00", "currency": "EUR", "amount_currency": "200.00", "rate": "7.44"},
        {"account": "3000", "credit": "1488.00"}])
    invoice = post(db, "SAL", date(2026, 1, 10), [
        {"account": "1200", "debit": "7450.00", "party_id": alfa.id, "currency": "EUR", "amount_currency": "1000.00",
         "rate": "7.45"},
        {"account": "4000", "credit": "7450.00"}])
    post(db, "PUR", date(2026, 1, 12), [
        {"account": "5100", "debit": "3400.00"},
        {"account": "2100", "credit": "3400.00", "party_id": beta.id, "currency": "USD", "amount_currency": "-500.00",
         "rate": "6.80"}])
    payment = post(db, "BNK", date(2026, 1, 20), [
        {"account": "1100", "debit": "2982.00"},
        {"account": "1200", "credit": "2982.00", "party_id": alfa.id, "currency": "EUR", "amount_currency": "-400.00",
         "rate": "7.455"}])
    receivable = [line for line in invoice.lines if line.account.code == "1200"][0]
    paid = [line for line in payment.lines if line.account.code == "1200"][0]
    reconcile_lines(db, [receivable, paid], day=date(2026, 1, 20))
    db.commit()
    return {"alfa": alfa, "beta": beta}


def lines_of(entry):
    return sorted((line.account.code, line.debit, line.credit, line.party_id) for line in entry.lines)


def test_revaluation_posts_the_differences_and_reverses_them(db, books):
    alfa, beta = books["alfa"].id, books["beta"].id
    entry, reversal = revalue(db, date(2026, 1, 31))
    db.commit()
    assert entry.state == "posted" and entry.journal.code == "GEN" and entry.date == date(2026, 1, 31)
    assert lines_of(entry) == sorted([
        ("1120", D("4.00"), D("0.00"), None),
        ("1200", D("6.00"), D("0.00"), alfa),
        ("2100", D("0.00"), D("50.00"), beta),
        ("8100", D("0.00"), D("10.00"), None),
        ("8200", D("50.00"), D("0.00"), None),
    ])
    assert reversal.date == date(2026, 2, 1) and reversal.reversal_of_id == entry.id
    assert lines_of(reversal) == sorted((code, credit, debit, party) for code, debit, credit, party in lines_of(entry))
    balances = ledger.account_balances(db, date_to=date(2026, 1, 31))
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    # 8100 also holds the 2.00 realised on the payment (2,982.00 paid for 2,980.00 of the invoice)
    assert balances[codes["8100"]] == D("-12.00") and balances[codes["8200"]] == D("50.00")


def test_the_revaluation_is_open_at_period_end_and_settled_by_its_reversal(db, books):
    alfa = books["alfa"].id
    revalue(db, date(2026, 1, 31))
    at_end = open_items(db, party_id=alfa, on=date(2026, 1, 31))
    assert sorted((item["open"], item["open_currency"]) for item in at_end) == [(D("6.00"), D("0.000")),
                                                                                 (D("4470.00"), D("600.000"))]
    after = open_items(db, party_id=alfa, on=date(2026, 2, 1))
    assert [(item["open"], item["open_currency"]) for item in after] == [(D("4470.00"), D("600.000"))]
    assert open_items(db, party_id=books["beta"].id, account_kind="payable")[0]["open"] == D("-3400.00")


def test_revaluing_the_same_day_again_posts_nothing(db, books):
    assert revalue(db, date(2026, 1, 31)) is not None
    assert revalue(db, date(2026, 1, 31)) is None


def test_the_next_period_starts_again_from_historical_amounts(db, books):
    revalue(db, date(2026, 1, 31))
    services.set_rate(db, "EUR", "2026-02-27", "7.47")
    entry, reversal = revalue(db, date(2026, 2, 28))
    # Alfa 600 × 7.47 = 4,482.00 against 4,470.00; bank 200 × 7.47 = 1,494.00 against 1,488.00
    amounts = {line.account.code: (line.debit, line.credit) for line in entry.lines}
    assert amounts["1200"] == (D("12.00"), D("0.00"))
    assert amounts["1120"] == (D("6.00"), D("0.00"))
    assert amounts["2100"] == (D("0.00"), D("50.00"))
    assert reversal.date == date(2026, 3, 1)


def test_nothing_open_in_a_foreign_currency_means_no_entry(db):
    years.ensure_years(db, date(2026, 1, 1))
    assert revalue(db, date(2026, 1, 31)) is None
    assert db.execute(select(Entry)).first() is None


def test_a_missing_rate_refuses_and_posts_nothing(db, books):
    post(db, "SAL", date(2026, 1, 15), [
        {"account": "1200", "debit": "94.00", "party_id": books["alfa"].id, "currency": "CHF",
         "amount_currency": "100.00", "rate": "0.94"},
        {"account": "4000", "credit": "94.00"}])
    db.commit()
    with pytest.raises(KontorError) as refused:
        revalue(db, date(2026, 1, 31))
    db.rollback()
    assert refused.value.field == "currency" and "CHF" in refused.value.message
    assert db.execute(select(Entry).where(Entry.source.like("revaluation:%"))).first() is None


def test_revalue_from_the_command_line(kontor, app, books):
    result = kontor("accounting", "revalue", "--date", "2026-01-31")
    assert result.exit_code == 0, result.output
    assert "reversed by GEN/2026/" in result.output
    again = kontor("accounting", "revalue", "--date", "2026-01-31")
    assert "nothing to revalue" in again.output
