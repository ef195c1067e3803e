"""Bank statements: import (camt.053, CSV with a mapping), safe XML, suggestions, confirmation.

The March statement of the bank account (opening 10,000.00, closing 10,602.55 DKK) holds four
entries: Alfa pays invoice 1 (1,250.00, the number in the remittance text); Gamma Oy pays
312.50 for an order we have no invoice for; we pay Beta's bill RE-2026-118 (500.00); the bank
takes 459.95 in fees.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import KontorError
from plugins.accounting.banking import statements
from plugins.accounting.banking.models import Statement
from tests.plugins.accounting.test_banking_payments import invoice, party, pay

D = Decimal
DATA = Path(__file__).parent / "data"


@pytest.fixture
def books(db):
    alfa, beta, gamma = party(db, "Alfa A/S"), party(db, "Beta GmbH"), party(db, "Gamma Oy")
    sale = invoice(db, alfa, day=date(2026, 2, 20))
    bill = invoice(db, beta, "400.00", kind="in_invoice", day=date(2026, 2, 25), reference="RE-2026-118")
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
    other = invoice(db, books["alfa"], day=date(2026, 3, 1))
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
    second = invoice(db, books["alfa"], "100.00", day=date(2026, 3, 1))
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
