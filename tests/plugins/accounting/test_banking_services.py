"""Payments against invoices and bills, as a bookkeeper registers them.

The company keeps its books in DKK. Customer Alfa gets invoices of 1,000.00 + 25 % VAT = 1,250.00;
supplier Beta sends a bill of 400.00 + 25 % VAT = 500.00. EUR is worth 7.40 DKK from 2026-01-01
and 7.50 DKK from 2026-03-01.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core import KontorError
from plugins.accounting.banking import demo, services as banking, statements
from plugins.accounting.banking.models import Payment, ReconciliationLine, Statement, StatementLine
from plugins.accounting.currencies import demo as currencies_demo, services as currencies
from plugins.accounting.invoicing import demo as invoicing_demo, services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger.models import Account, Config, Line
from plugins.accounting.testing import BankLine, bank_statement, party, pay, posted_invoice

D = Decimal
DAY = date(2026, 3, 10)


def lines_of(entry):
    return sorted((line.account.code, line.debit, line.credit) for line in entry.lines)


@pytest.fixture
def alfa(db):
    return party(db, "Alfa A/S")


@pytest.fixture
def beta(db):
    return party(db, "Beta GmbH")


@pytest.fixture
def eur(db):
    currencies.set_rate(db, "EUR", date(2026, 1, 1), "7.40")
    currencies.set_rate(db, "EUR", date(2026, 3, 1), "7.50")
    return "EUR"


def test_full_payment_posts_the_entry_and_marks_the_invoice_paid(db, alfa):
    sale = posted_invoice(db, alfa)
    assert sale.amount_total == D("1250.00")

    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")], reference="Thanks")
    db.commit()

    assert payment.number.startswith("BNK/2026/")
    assert payment.kind == "inbound" and payment.state == "posted"
    assert lines_of(payment.entry) == [("1100", D("1250.00"), D("0.00")), ("1200", D("0.00"), D("1250.00"))]
    assert sale.state == "paid" and sale.amount_residual == D("0.00")
    assert banking.open_items(db, alfa.id) == []
    assert banking.party_balance(db, alfa.id).receivable == D("0.00")


def test_partial_payments_leave_the_rest_open_until_the_last(db, alfa):
    sale = posted_invoice(db, alfa)
    pay(db, alfa, "500.00", [(sale, "500.00")])
    assert (sale.state, sale.amount_residual) == ("partial", D("750.00"))
    [item] = banking.open_items(db, alfa.id)
    assert item["open"] == D("750.00") and item["invoice_id"] == sale.id and item["due_date"] == date(2026, 3, 3)

    pay(db, alfa, "750.00", [(sale, "750.00")], day=date(2026, 3, 20))
    db.commit()
    assert (sale.state, sale.amount_residual) == ("paid", D("0.00"))
    taken = db.execute(select(ReconciliationLine).where(ReconciliationLine.line_id == sale.receivable_line_id)).scalars()
    assert sorted(r.amount for r in taken) == [D("500.00"), D("750.00")]


def test_one_payment_settles_several_invoices(db, alfa):
    first, second = posted_invoice(db, alfa, "1000.00"), posted_invoice(db, alfa, "200.00")
    payment = pay(db, alfa, "1500.00", [(first, "1250.00"), (second, "250.00")])
    db.commit()
    assert [a.invoice.number for a in payment.allocations] == [first.number, second.number]
    assert first.state == second.state == "paid"
    assert lines_of(payment.entry) == [("1100", D("1500.00"), D("0.00")), ("1200", D("0.00"), D("250.00")),
                                       ("1200", D("0.00"), D("1250.00"))]


def test_over_payment_stays_an_open_credit_usable_against_the_next_invoice(db, alfa):
    sale = posted_invoice(db, alfa)
    payment = pay(db, alfa, "1300.00", [(sale, "1250.00")])
    assert sale.state == "paid" and payment.unallocated == D("50.00")
    [credit] = banking.open_items(db, alfa.id)
    assert credit["open"] == D("-50.00") and credit["invoice_id"] is None
    assert banking.party_balance(db, alfa.id).receivable == D("-50.00")

    later = posted_invoice(db, alfa, "100.00", day=date(2026, 3, 15))
    banking.reconcile_lines(db, [credit["line_id"], later.receivable_line_id], day=date(2026, 3, 16))
    db.commit()
    assert (later.state, later.amount_residual) == ("partial", D("75.00"))
    assert [item["open"] for item in banking.open_items(db, alfa.id)] == [D("75.00")]


def test_under_payment_is_left_open_or_written_off_on_request(db, alfa):
    kept, forgiven = posted_invoice(db, alfa), posted_invoice(db, alfa)
    pay(db, alfa, "1240.00", [(kept, "1240.00")])
    assert (kept.state, kept.amount_residual) == ("partial", D("10.00"))

    payment = pay(db, alfa, "1240.00", [(forgiven, "1240.00")], writeoff_account="6900")
    db.commit()
    assert (forgiven.state, forgiven.amount_residual) == ("paid", D("0.00"))
    assert payment.writeoff_amount == D("10.00") and payment.allocations[0].writeoff == D("10.00")
    assert lines_of(payment.entry) == [("1100", D("1240.00"), D("0.00")), ("1200", D("0.00"), D("1250.00")),
                                       ("6900", D("10.00"), D("0.00"))]


def test_paying_a_supplier_bill_debits_the_payable(db, beta):
    bill = posted_invoice(db, beta, "400.00", kind="in_invoice")
    payment = pay(db, beta, "500.00", [(bill, "500.00")])
    db.commit()
    assert payment.kind == "outbound"
    assert lines_of(payment.entry) == [("1100", D("0.00"), D("500.00")), ("2100", D("500.00"), D("0.00"))]
    assert bill.state == "paid"
    assert banking.open_items(db, beta.id, "payable") == []


def test_realised_exchange_gain_and_loss_are_booked_in_the_payment_entry(db, alfa, beta, eur):
    # 1,000.00 EUR + VAT = 1,250.00 EUR booked at 7.40 = 9,250.00 DKK; paid at 7.50 = 9,375.00 DKK
    sale = posted_invoice(db, alfa, currency="EUR")
    assert sale.receivable_line.debit == D("9250.00")
    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")], currency="EUR")
    assert payment.rate == D("7.50000000") and payment.amount_company == D("9375.00")
    assert lines_of(payment.entry) == [("1100", D("9375.00"), D("0.00")), ("1200", D("0.00"), D("9250.00")),
                                       ("8100", D("0.00"), D("125.00"))]
    assert sale.state == "paid" and sale.amount_residual == D("0.00")

    # a bill of 400.00 EUR + VAT = 500.00 EUR booked at 7.40 = 3,700.00 DKK, half paid at 7.50
    bill = posted_invoice(db, beta, "400.00", kind="in_invoice", currency="EUR")
    half = pay(db, beta, "250.00", [(bill, "250.00")], currency="EUR")
    db.commit()
    assert lines_of(half.entry) == [("1100", D("0.00"), D("1875.00")), ("2100", D("1850.00"), D("0.00")),
                                    ("8200", D("25.00"), D("0.00"))]
    assert (bill.state, bill.amount_residual) == ("partial", D("250.00"))
    [item] = banking.open_items(db, beta.id, "payable")
    assert (item["open"], item["open_currency"], item["currency"]) == (D("-1850.00"), D("-250.000"), "EUR")


def test_reconciliation_never_exceeds_a_line(db, alfa, backend):
    sale = posted_invoice(db, alfa)
    pay(db, alfa, "1250.00", [(sale, "1250.00")])
    db.commit()
    other = posted_invoice(db, alfa, "100.00")
    with pytest.raises(Exception, match="not open|open"):
        pay(db, alfa, "10.00", [(sale, "10.00")])
    db.rollback()
    # the database refuses it too, whatever a service might do
    line_id = sale.receivable_line_id
    rec_id = db.execute(text("SELECT reconciliation_id FROM accounting_reconciliation_line WHERE line_id = :id"),
                        {"id": line_id}).scalar()
    one_cent = 1 if backend == "sqlite" else D("0.01")
    with pytest.raises(Exception, match="beyond its amount"):
        db.execute(text("INSERT INTO accounting_reconciliation_line (reconciliation_id, line_id, amount) "
                        "VALUES (:r, :l, :a)"), {"r": rec_id, "l": line_id, "a": one_cent})
    db.rollback()
    assert other.state == "posted"


def test_allocations_are_checked(db, alfa, beta):
    sale = posted_invoice(db, alfa)
    bill = posted_invoice(db, beta, kind="in_invoice")
    db.commit()
    cases = [
        (dict(who=alfa, amount="100.00", allocations=[(sale, "200.00")]), "allocations"),
        (dict(who=alfa, amount="2000.00", allocations=[(sale, "1300.00")]), "allocations.0.amount"),
        (dict(who=alfa, amount="0", allocations=[(sale, "1.00")]), "amount"),
        (dict(who=alfa, amount="10.001", allocations=[]), "amount"),
        (dict(who=alfa, amount="10.00", allocations=[(bill, "10.00")]), "allocations.0"),
        (dict(who=alfa, amount="10.00", allocations=[], journal="SAL"), "journal"),
        (dict(who=alfa, amount="10.00", allocations=[]), "kind"),
        (dict(who=alfa, amount="10.00", allocations=[(sale, "5.00")], currency="EUR"), "allocations.0"),
    ]
    for kwargs, field in cases:
        who = kwargs.pop("who")
        with pytest.raises(Exception) as caught:
            pay(db, who, kwargs.pop("amount"), kwargs.pop("allocations"), **kwargs)
        assert getattr(caught.value, "field", None) == field, (field, caught.value)
        db.rollback()


def test_lock_date_refuses_payments_and_reconciliations_on_or_before_it(db, alfa):
    sale = posted_invoice(db, alfa)
    credit_payment = pay(db, alfa, "100.00", [], kind="inbound")
    db.commit()
    db.get(Config, 1).lock_date = date(2026, 3, 31)
    db.flush()
    with pytest.raises(Exception) as caught:
        pay(db, alfa, "1250.00", [(sale, "1250.00")], day=date(2026, 3, 31))
    assert caught.value.field == "date"
    credit_line = next(line for line in credit_payment.entry.lines if line.account.code == "1200")
    with pytest.raises(Exception) as caught:
        banking.reconcile_lines(db, [credit_line.id, sale.receivable_line_id], day=date(2026, 3, 1))
    assert caught.value.field == "day"
    db.rollback()
    assert sale.state == "posted"


def test_exchange_difference_when_currency_items_are_matched_by_hand(db, alfa, eur):
    # a 100.00 EUR prepayment at 7.50 (750.00) later settles a 100.00 EUR invoice booked at 7.40 (740.00)
    prepaid = pay(db, alfa, "100.00", [], currency="EUR", kind="inbound")
    sale = posted_invoice(db, alfa, "80.00", currency="EUR", day=date(2026, 2, 1))
    assert sale.amount_total == D("100.00") and sale.receivable_line.debit == D("740.00")
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    banking.reconcile_lines(db, [credit.id, sale.receivable_line_id], day=date(2026, 3, 20))
    db.commit()
    assert (sale.state, sale.amount_residual) == ("paid", D("0.00"))
    assert banking.open_items(db, alfa.id) == []
    gain = db.execute(select(Line).join(Account).where(Account.code == "8100")).scalars().all()
    assert [(g.credit, g.debit) for g in gain] == [(D("10.00"), D("0.00"))]


def test_cancelling_a_payment_reverses_it_and_reopens_the_invoices(db, alfa):
    sale, other = posted_invoice(db, alfa), posted_invoice(db, alfa, "100.00")
    payment = pay(db, alfa, "1400.00", [(sale, "1250.00")])
    credit = next(i for i in banking.open_items(db, alfa.id) if i["invoice_id"] is None)
    banking.reconcile_lines(db, [credit["line_id"], other.receivable_line_id], day=date(2026, 3, 12))
    assert (sale.state, other.state, other.amount_residual) == ("paid", "paid", D("0.00"))

    banking.cancel_payment(db, payment, date=date(2026, 3, 20))
    db.commit()
    assert payment.state == "cancelled"
    assert (sale.state, sale.amount_residual) == ("posted", D("1250.00"))
    assert (other.state, other.amount_residual) == ("posted", D("125.00"))
    assert sorted(i["open"] for i in banking.open_items(db, alfa.id)) == [D("125.00"), D("1250.00")]
    assert banking.party_balance(db, alfa.id).receivable == D("1375.00")
    with pytest.raises(Exception) as caught:
        banking.cancel_payment(db, payment)
    assert caught.value.status == 409


def test_a_payment_reconciled_before_the_lock_date_cannot_be_cancelled(db, alfa):
    sale = posted_invoice(db, alfa)
    payment = pay(db, alfa, "1250.00", [(sale, "1250.00")])
    db.get(Config, 1).lock_date = date(2026, 3, 31)
    db.commit()
    with pytest.raises(Exception) as caught:
        banking.cancel_payment(db, payment, date=date(2026, 4, 2))
    assert caught.value.field == "date"
    db.rollback()
    assert payment.state == "posted" and sale.state == "paid"


def test_a_matching_by_hand_can_be_undone(db, alfa, eur):
    prepaid = pay(db, alfa, "100.00", [], currency="EUR", kind="inbound")
    sale = posted_invoice(db, alfa, "80.00", currency="EUR")
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    matched = banking.reconcile_lines(db, [credit.id, sale.receivable_line_id], day=date(2026, 3, 20))
    assert sale.state == "paid"
    other = posted_invoice(db, alfa, "10.00")
    pay(db, alfa, "12.50", [(other, "12.50")])
    [by_payment] = [r for r in banking.party_reconciliations(db, alfa.id) if r.payment_id]
    with pytest.raises(Exception) as caught:
        banking.undo_reconciliation(db, by_payment)
    assert caught.value.status == 409  # the payment's own matching: cancel the payment instead

    banking.undo_reconciliation(db, matched)
    db.commit()
    assert (sale.state, sale.amount_residual) == ("posted", D("100.00"))
    assert sorted(item["open"] for item in banking.open_items(db, alfa.id)) == [D("-750.00"), D("740.00")]
    assert other.state == "paid"
    gains = db.execute(select(Line).join(Account).where(Account.code == "8100")).scalars().all()
    assert sorted((g.debit, g.credit) for g in gains) == [(D("0.00"), D("10.00")), (D("10.00"), D("0.00"))]


def test_the_matching_of_a_cancelled_invoice_with_its_credit_note_stays(db, alfa):
    sale = posted_invoice(db, alfa)
    invoicing.cancel_invoice(db, sale, date=date(2026, 2, 10))
    [matching] = banking.party_reconciliations(db, alfa.id)
    assert not banking.can_undo(db, matching)
    with pytest.raises(Exception) as caught:
        banking.undo_reconciliation(db, matching)
    assert caught.value.status == 409 and sale.state == "cancelled"


def test_a_merged_party_brings_its_open_items_along(db, alfa, app):
    from core.parties.services import merge_parties

    duplicate = party(db, "Alfa AS")
    old = posted_invoice(db, duplicate, "100.00")
    prepaid = pay(db, alfa, "125.00", [], kind="inbound")
    hook = app.extensions["kontor"].pm.hook.party_merging
    merge_parties(db, duplicate, alfa, on_merging=hook)
    assert old.party_id == duplicate.id  # issued: it keeps its party, and is listed under the survivor
    assert sorted(item["open"] for item in banking.open_items(db, alfa.id)) == [D("-125.00"), D("125.00")]
    credit = next(line for line in prepaid.entry.lines if line.account.code == "1200")
    banking.reconcile_lines(db, [credit.id, old.receivable_line_id], day=date(2026, 3, 20))
    db.commit()
    assert old.state == "paid" and banking.party_balance(db, alfa.id).receivable == D("0.00")


# -- Bank statements: import (camt.053, CSV with a mapping), safe XML, suggestions, confirmation --

DATA = Path(__file__).parent / "data"


@pytest.fixture
def books(db):
    alfa, beta, gamma = party(db, "Alfa A/S"), party(db, "Beta GmbH"), party(db, "Gamma Oy")
    sale = posted_invoice(db, alfa, day=date(2026, 2, 20))
    bill = posted_invoice(db, beta, "400.00", kind="in_invoice", day=date(2026, 2, 25), reference="RE-2026-118")
    db.commit()
    return {"alfa": alfa, "beta": beta, "gamma": gamma, "sale": sale, "bill": bill}


def camt(books) -> bytes:
    return (DATA / "camt053_dk.xml").read_text().replace("{INVOICE_1}", books["sale"].number).encode()


def count_statements(db) -> int:
    return db.execute(select(func.count()).select_from(Statement)).scalar_one()


def test_camt053_is_imported_with_balances_and_parties(db, books):
    statement = statements.import_statement(db, camt(books), file_format="camt053", journal="BNK",
                                            filename="march.xml")
    db.commit()
    assert (statement.name, statement.currency, statement.account_number) == ("2026-03-0042", "DKK",
                                                                             "DK5000400440116243")
    assert (statement.opening_balance, statement.closing_balance, statement.balance_difference) == (
        D("10000.00"), D("10602.55"), D("0.00"))
    assert [(line.date, line.amount) for line in statement.lines] == [
        (date(2026, 3, 12), D("1250.00")), (date(2026, 3, 14), D("312.50")), (date(2026, 3, 20), D("-500.00")),
        (date(2026, 3, 31), D("-459.95"))]
    first, second, third, fees = statement.lines
    assert (first.counterparty, first.counterparty_account) == ("ALFA A/S", "DK8930000001234567")
    assert first.description == f"Payment of invoice {books['sale'].number}"
    assert first.reference == "DABA20260312000123"  # the end-to-end id was NOTPROVIDED
    assert (second.reference, third.reference, third.counterparty) == ("GAMMA-4711", "RE-2026-118", "Beta GmbH")
    assert fees.description == "Bank fees March"
    assert statement.unmatched_count == 4


def test_suggestions_by_reference_amount_and_party(db, books):
    statement = statements.import_statement(db, camt(books), file_format="camt053")
    first, second, third, fees = statement.lines
    [best] = statements.suggestions(db, first)
    assert best.invoice.id == books["sale"].id and best.reasons == ["reference", "amount", "party"]
    [bill] = statements.suggestions(db, third)
    assert bill.invoice.id == books["bill"].id and bill.reasons == ["reference", "amount", "party"]
    assert statements.suggestions(db, second) == [] and statements.suggestions(db, fees) == []

    # by amount alone: a second invoice of Alfa's with the same open amount also fits, ranked after
    other = posted_invoice(db, books["alfa"], day=date(2026, 3, 1))
    ranked = statements.suggestions(db, first)
    assert [s.invoice.id for s in ranked] == [books["sale"].id, other.id]
    assert ranked[1].reasons == ["amount", "party"]


def test_confirming_lines_posts_payments_and_entries(db, books):
    statement = statements.import_statement(db, camt(books), file_format="camt053")
    first, second, third, fees = statement.lines
    statements.confirm_line(db, first, invoices=[books["sale"].id])
    statements.confirm_line(db, third, invoices=[books["bill"].number])
    statements.confirm_line(db, second, party_id=books["gamma"].id)
    statements.confirm_line(db, fees, account="6900")
    db.commit()
    assert books["sale"].state == "paid" and books["bill"].state == "paid"
    assert first.payment.kind == "inbound" and first.payment.date == date(2026, 3, 12)
    assert third.payment.kind == "outbound" and third.payment.amount == D("500.00")
    assert second.payment.unallocated == D("312.50")
    assert fees.entry_id is not None and fees.payment_id is None
    assert statement.unmatched_count == 0
    with pytest.raises(KontorError) as caught:
        statements.confirm_line(db, first, invoices=[books["sale"].id])
    assert caught.value.status == 409


def test_csv_with_decimal_comma_and_a_balance_column(db, books):
    data = (DATA / "bank_dk.csv").read_text().replace("{INVOICE_1}", books["sale"].number).encode("cp1252")
    mapping = {"date": "Bogføringsdato", "amount": "Beløb", "description": "Tekst", "counterparty": "Modtager",
               "balance": "Saldo"}
    statement = statements.import_statement(db, data, file_format="csv", mapping=mapping, number_format="1.234,56",
                                            date_format="%d.%m.%Y", filename="bank.csv")
    assert [line.amount for line in statement.lines] == [D("1250.00"), D("-8000.00"), D("12.50")]
    assert (statement.opening_balance, statement.closing_balance) == (D("10000.00"), D("3262.50"))
    assert statement.lines[0].counterparty == "Alfa A/S" and statement.lines[1].date == date(2026, 3, 5)
    assert [s.invoice.id for s in statements.suggestions(db, statement.lines[0])] == [books["sale"].id]


def test_csv_debit_and_credit_columns_with_thousands_separators():
    data = b"Date,Text,Out,In\n2026-03-02,Rent,\"8,000.00\",\n2026-03-03,Customer,,\"1,250.50\"\n"
    parsed = statements.read_statement_csv(data, {"date": "Date", "description": "Text", "debit": "Out",
                                                  "credit": "In"})
    assert [line.amount for line in parsed.lines] == [D("-8000.00"), D("1250.50")]


def test_every_bad_csv_row_is_reported_and_nothing_is_imported(db, books):
    data = (DATA / "bad_rows.csv").read_bytes()
    with pytest.raises(statements.StatementFileError) as caught:
        statements.import_statement(db, data, file_format="csv", mapping={"date": "Date", "amount": "Amount",
                                                                          "description": "Text"},
                                    number_format="1.234,56")
    assert [line for line, _reason in caught.value.problems] == [3, 4, 5]
    assert "2026-13-01" in caught.value.problems[0][1] and "abc" in caught.value.problems[1][1]
    assert caught.value.field == "file"
    db.rollback()
    assert count_statements(db) == 0


def test_a_statement_whose_balances_do_not_add_up_is_refused(db, books):
    broken = camt(books).replace(b"10602.55", b"10602.56")
    with pytest.raises(KontorError) as caught:
        statements.import_statement(db, broken, file_format="camt053")
    assert caught.value.field == "closing_balance"


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_xml_with_entities_is_refused_and_nothing_imported(db, books, name):
    with pytest.raises(KontorError) as caught:
        statements.import_statement(db, (DATA / name).read_bytes(), file_format="camt053")
    assert caught.value.field == "file" and caught.value.status == 422
    assert "refused" in caught.value.message
    db.rollback()
    assert count_statements(db) == 0


def test_not_a_camt053_file(db, books):
    for data in (b"<html><body>hi</body></html>", b"not xml at all", b"<Document><Other/></Document>"):
        with pytest.raises(KontorError) as caught:
            statements.read_camt053(data)
        assert caught.value.field == "file"


def test_cli_import_with_progress(db, books, kontor, tmp_path):
    path = tmp_path / "march.xml"
    path.write_bytes(camt(books))
    result = kontor("accounting", "statement", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "4 lines, 2 with a suggested match" in result.output
    csv_path = tmp_path / "bad.csv"
    csv_path.write_bytes((DATA / "bad_rows.csv").read_bytes())
    bad = kontor("accounting", "statement", "import", str(csv_path), "--format", "csv",
                 "--map", "date=Date,amount=Amount", "--number-format", "1.234,56")
    assert bad.exit_code == 1 and "3 bad rows" in bad.output
    good = tmp_path / "bank.csv"
    good.write_text((DATA / "bank_dk.csv").read_text().replace("{INVOICE_1}", books["sale"].number))
    done = kontor("accounting", "statement", "import", str(good), "--map",
                  "date=Bogføringsdato,amount=Beløb,description=Tekst,counterparty=Modtager,balance=Saldo",
                  "--number-format", "1.234,56", "--date-format", "%d.%m.%Y", "--name", "March CSV")
    assert done.exit_code == 0, done.output
    assert "3 lines, 1 with a suggested match" in done.output


def test_the_same_statement_is_not_imported_twice(db, books):
    statements.import_statement(db, camt(books), file_format="camt053")
    with pytest.raises(KontorError) as caught:
        statements.import_statement(db, camt(books), file_format="camt053")
    assert (caught.value.field, caught.value.status) == ("name", 409)
    assert count_statements(db) == 1


def test_the_formats_of_a_csv_are_guessed_from_its_values(books):
    from core import read_csv

    danish = read_csv((DATA / "bank_dk.csv").read_bytes())
    assert statements.guess_formats(danish, {"date": "Bogføringsdato", "amount": "Beløb", "balance": "Saldo"}) == (
        "1.234,56", "%d.%m.%Y")
    english = read_csv(b"Date,Amount\n2026-03-02,\"1,250.50\"\n2026-03-31,-12.00\n")
    assert statements.guess_formats(english, {"date": "Date", "amount": "Amount"}) == ("1,234.56", "%Y-%m-%d")


def test_one_bank_line_pays_several_invoices_and_the_rest_stays_a_credit(db, books):
    second = posted_invoice(db, books["alfa"], "100.00", day=date(2026, 3, 1))
    pay(db, books["alfa"], "1000.00", [(books["sale"], "1000.00")], day=date(2026, 3, 5))
    statement = statements.import_statement(db, camt(books), file_format="camt053")
    first = statement.lines[0]  # 1,250.00 from Alfa
    statements.confirm_line(db, first, invoices=[second.id, books["sale"].id])
    db.commit()
    assert books["sale"].state == second.state == "paid"
    assert [(a.invoice_id, a.amount) for a in first.payment.allocations] == [(books["sale"].id, D("250.00")),
                                                                            (second.id, D("125.00"))]
    assert first.payment.unallocated == D("875.00")


def test_a_csv_with_the_newest_line_first_is_read_oldest_first():
    data = (b"Date;Text;Amount;Balance\n2026-03-09;Interest;12,50;3.262,50\n2026-03-05;Rent;-8.000,00;3.250,00\n"
            b"2026-03-02;Alfa;1.250,00;11.250,00\n")
    parsed = statements.read_statement_csv(data, {"date": "Date", "amount": "Amount", "balance": "Balance"},
                                           number_format="1.234,56")
    assert [line.amount for line in parsed.lines] == [D("1250.00"), D("-8000.00"), D("12.50")]
    assert parsed.lines[0].balance - parsed.lines[0].amount == D("10000.00")


# -- The demo payments and bank statements, on top of the demo invoices and bills --

def test_the_demo_payments_and_statements(db):
    added = []
    currencies_demo.load(db, added.append)
    invoicing_demo.load(db, added.append)
    before = len(added)
    demo.load_demo_data(db, added.append)
    db.commit()
    payments = db.execute(select(func.count()).select_from(Payment)).scalar_one()
    assert payments > 150 and len(added) - before > 150
    states = Counter(db.execute(select(Invoice.state).where(Invoice.kind.in_(("out_invoice", "in_invoice"))))
                     .scalars())
    assert states["paid"] > 150 and states["partial"] > 5 and states["posted"] > 10
    assert db.execute(select(func.count()).select_from(Payment).where(Payment.currency == "EUR")).scalar_one() > 5
    formats = sorted(db.execute(select(Statement.format)).scalars())
    assert formats == ["camt053", "csv"]
    lines = Counter(db.execute(select(StatementLine.state)).scalars())
    assert lines["matched"] >= 3 and lines["unmatched"] >= 3
    for statement in db.execute(select(Statement)).scalars():
        assert statement.balance_difference == 0
    waiting = db.execute(select(StatementLine).where(StatementLine.state == "unmatched")).scalars().all()
    from plugins.accounting.banking import statements
    assert sum(1 for line in waiting if statements.suggestions(db, line)) >= 2
    unbalanced = db.execute(select(Line.entry_id).group_by(Line.entry_id)
                            .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
    assert unbalanced == []
    # residuals agree with the open items the reports read
    for invoice in db.execute(select(Invoice).where(Invoice.state == "partial")).scalars():
        item = next(i for i in banking.open_items(db, invoice.party_id,
                                                   "receivable" if invoice.kind == "out_invoice" else "payable")
                    if i["invoice_id"] == invoice.id)
        assert abs(item["open_currency"]) == invoice.amount_residual
    demo.load_demo_data(db, added.append)  # a second run adds nothing
    assert db.execute(select(func.count()).select_from(Payment)).scalar_one() == payments


def test_the_statement_factory_writes_a_camt053_file_the_importer_reads(db):
    alfa = party(db, "Alfa A/S")
    sale = posted_invoice(db, alfa, day=date(2026, 2, 20))
    statement = bank_statement(db, [
        BankLine(date(2026, 3, 12), "1250.00", f"Invoice {sale.number}", "E2E-1", "Alfa A/S", "DK8930000001234567"),
        BankLine(date(2026, 3, 31), "-9.95", "Fees & charges <March>")], opening_balance="100.00", name="S-1")
    assert (statement.name, statement.opening_balance, statement.closing_balance, statement.balance_difference) == (
        "S-1", D("100.00"), D("1340.05"), D("0.00"))
    first, fees = statement.lines
    assert (first.reference, first.counterparty, first.counterparty_account) == ("E2E-1", "Alfa A/S",
                                                                                 "DK8930000001234567")
    assert (fees.amount, fees.description) == (D("-9.95"), "Fees & charges <March>")
    assert [suggestion.invoice for suggestion in statements.suggestions(db, first)] == [sale]


def test_a_bank_line_reads_in_one_direction_statement_payment_entry(db):
    """The statement hands a line to the payment service, which posts one entry through the ledger."""
    alfa = party(db, "Alfa A/S")
    first = posted_invoice(db, alfa, "1000.00", day=date(2026, 2, 1))   # 1,250.00, due 2026-03-03
    later = posted_invoice(db, alfa, "200.00", day=date(2026, 2, 10))   # 250.00, due 2026-03-12
    payment = banking.pay_from_bank(db, journal="BNK", day=date(2026, 3, 12), amount=D("1300.00"), currency="DKK",
                                    reference="E2E-9", invoices=[later.number, first.id])
    assert [(a.invoice.id, a.amount) for a in payment.allocations] == [(first.id, D("1250.00")), (later.id, D("50.00"))]
    assert (first.state, later.state, later.amount_residual) == ("paid", "partial", D("200.00"))
    fees = banking.book_to_account(db, journal=banking.payment_journal(db, "BNK"), day=date(2026, 3, 31),
                                   amount=D("-9.95"), currency="DKK", account="6900", reference="FEES-3",
                                   description="Fees", narration="Bank fees March", source="statement-line:test")
    assert (fees.state, fees.reference, fees.source) == ("posted", "FEES-3", "statement-line:test")
    assert lines_of(fees) == [("1100", D("0.00"), D("9.95")), ("6900", D("9.95"), D("0.00"))]
    with pytest.raises(KontorError) as caught:
        banking.pay_from_bank(db, journal="BNK", day=date(2026, 3, 12), amount=D("-5.00"), currency="DKK",
                              reference="x", party_id="not a party")
    assert caught.value.field == "party_id"
    assert not hasattr(statements, "ledger")  # a statement reaches the books only through a payment service
