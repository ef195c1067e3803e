"""Factories of accounting records for tests: accounting's own and those of modules that depend on it.

Each factory goes through accounting's services (never raw SQL), in the caller's session, and
leaves committing to the caller, so what a test builds is what a person would have built::

    from plugins.accounting.testing import customer, pay, posted_invoice

    def test_a_paid_invoice(db):
        alfa = customer(db)
        sale = posted_invoice(db, alfa, "1000.00")          # 1,250.00 with 25 % VAT
        pay(db, alfa, "1250.00", [(sale, "1250.00")])
        db.commit()
        assert sale.state == "paid"

The figures assume the default chart and taxes installed with accounting (the Danish ones:
receivable 1200, sales 4000, purchases 6100, bank journal ``BNK``, VAT ``DK-S25``), and a
company keeping its books in DKK.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable, Iterator
from xml.sax.saxutils import escape

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import Party, create_party, session

from plugins.accounting.banking import services as banking, statements
from plugins.accounting.banking.models import Payment, Statement
from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger import services as ledger, years
from plugins.accounting.ledger.models import Entry, FiscalYear
from plugins.accounting.tax import services as tax

#: The day :func:`pay` pays on unless told.
PAYMENT_DAY = date(2026, 3, 10)


# -- Parties --


def party(db: Session, name: str = "Alfa A/S", **fields: Any) -> Party:
    """A company party named ``name`` (``fields`` as :func:`core.create_party` takes them)."""
    return create_party(db, {"name": name, "kind": "company", **fields})


def customer(db: Session, name: str = "Fjord Logistik ApS", **fields: Any) -> Party:
    """A Danish customer with a VAT id and an address, as an invoice prints it."""
    return create_party(db, {"kind": "company", "name": name, "vat_id": "DK12345678", "street": "Havnegade 4",
                             "postal_code": "1050", "city": "København K", "country": "DK", **fields})


def supplier(db: Session, name: str = "Hanse Stahl GmbH", **fields: Any) -> Party:
    """A German supplier."""
    return create_party(db, {"kind": "company", "name": name, "country": "DE", **fields})


# -- The ledger --


def ensure_year(db: Session, day: date) -> FiscalYear:
    """The calendar fiscal year holding ``day``, created when there is none yet."""
    start = date(day.year, 1, 1)
    found = db.execute(select(FiscalYear).where(FiscalYear.start_date == start)).scalar_one_or_none()
    return found or years.create_fiscal_year(db, start)


def posted_entry(db: Session, journal: str, day: date, lines: list[dict[str, Any]], **fields: Any) -> Entry:
    """A posted entry of ``journal`` (its code) on ``day``; ``lines`` as the ledger takes them, e.g.
    ``{"account": "1100", "debit": "100.00", "credit": "0"}``; ``fields`` such as ``reference``.
    The fiscal year of ``day`` must exist (see :func:`ensure_year`)."""
    return ledger.create_and_post(db, journal=journal, date=day, lines=lines, **fields)


def balanced_lines(amount: str = "10.00", debit: str = "1100", credit: str = "4000") -> list[dict[str, Any]]:
    """Two lines as the ledger takes them: ``amount`` debited to account ``debit`` (the bank) and
    credited to ``credit`` (sales)."""
    return [{"account": debit, "debit": amount}, {"account": credit, "credit": amount}]


def current_year(db: Session) -> FiscalYear | None:
    """The fiscal year holding today (accounting's install creates it)."""
    today = date.today()
    return db.scalar(select(FiscalYear).where(FiscalYear.start_date <= today, FiscalYear.end_date >= today))


def last_year(db: Session) -> FiscalYear:
    """The fiscal year before the current one, created here (install makes the current and the next)."""
    current = current_year(db)
    start = years.company_year_start(db, current.start_date - timedelta(days=1))
    return years.create_fiscal_year(db, start)


# -- Invoices and bills --


def line(description: str = "Consulting", quantity: str = "1", unit_price: str = "100.00",
         discount_percent: str = "0", taxes: Iterable[Any] = ("DK-S25",), account: Any = None) -> dict[str, Any]:
    """An invoice line as the invoicing services take it (taxes by code or id, the account by code)."""
    return {"description": description, "quantity": quantity, "unit_price": unit_price,
            "discount_percent": discount_percent, "taxes": list(taxes), "account": account}


def draft_invoice(db: Session, party: Party | None = None, lines: list[dict[str, Any]] | None = None,
                  kind: str = "out_invoice", **header: Any) -> Invoice:
    """A draft of ``kind`` (out_invoice, out_refund, in_invoice, in_refund) dated today, for ``party``
    (a new :func:`customer` or :func:`supplier` when left out) with ``lines`` (one :func:`line`
    when left out); ``header`` sets other fields (``currency``, ``reference``, ``invoice_date`` …)."""
    party = party or (customer(db) if kind.startswith("out") else supplier(db))
    data = {"party_id": party.id, "invoice_date": date.today(), "lines": lines or [line()], **header}
    return invoicing.create_invoice(db, kind, data)


def posted_invoice(db: Session, party: Party, amount: str = "1000.00", *, kind: str = "out_invoice",
                   day: date = date(2026, 2, 1), currency: str = "DKK", vat: bool = True, account: str | None = None,
                   reference: str = "") -> Invoice:
    """A posted invoice (or bill, with ``kind="in_invoice"``) of one line of ``amount`` net, with
    25 % VAT unless ``vat`` is False, on ``day`` (its fiscal year is created when missing), due
    30 days later; booked to sales 4000 (purchases 6100 for a bill) unless ``account`` says."""
    ensure_year(db, day)
    scope = "sale" if kind.startswith("out") else "purchase"
    taxes = [t.id for t in tax.list_taxes(db, scope=scope) if t.rate == Decimal("25.0000") and not t.reverse_charge
             and not t.price_included][:1] if vat else []
    document = invoicing.create_invoice(db, kind, {
        "party_id": party.id, "invoice_date": day.isoformat(), "currency": currency, "payment_terms_days": 30,
        "reference": reference, "lines": [{"description": "Work", "quantity": "1", "unit_price": amount,
                                           "taxes": taxes, "account": account or ("4000" if scope == "sale" else "6100")}],
    })
    invoicing.post_invoice(db, document)
    return document


# -- Payments --


def pay(db: Session, who: Party, amount: str, allocations: Iterable[tuple[Any, Any]] = (), *, currency: str = "DKK",
        day: date = PAYMENT_DAY, journal: str = "BNK", **fields: Any) -> Payment:
    """A registered (posted) payment of ``amount`` by or to ``who``, settling ``allocations``
    (``(invoice or its id, amount)``); ``fields`` as :func:`~plugins.accounting.banking.services.register_payment`
    takes them (``kind`` without allocations, ``writeoff_account``, ``reference``)."""
    return banking.register_payment(db, party_id=who.id, amount=amount, currency=currency, date=day,
                                    journal=journal, allocations=allocations, **fields)


# -- Bank statements --


@dataclass(frozen=True)
class BankLine:
    """One entry of a bank statement: ``amount`` is signed (money in is positive)."""

    date: date
    amount: str
    description: str = ""
    reference: str = ""
    counterparty: str = ""
    counterparty_account: str = ""


def camt053(lines: Iterable[BankLine], *, name: str = "2026-03-0042", currency: str = "DKK",
            opening_balance: str = "10000.00", iban: str = "DK5000400440116243") -> bytes:
    """An ISO 20022 camt.053 statement file of ``lines``, with its opening and closing balances, as
    a bank sends it."""
    lines = list(lines)
    if not lines:
        raise ValueError("a statement has at least one line")
    closing = Decimal(opening_balance) + sum((Decimal(item.amount) for item in lines), Decimal(0))

    def balance(code: str, amount: Decimal, day: date) -> str:
        sign = "CRDT" if amount >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{abs(amount):.2f}</Amt>"
                f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")

    entries = []
    for position, item in enumerate(lines, start=1):
        amount = Decimal(item.amount)
        party_tag = "Dbtr" if amount > 0 else "Cdtr"
        entries.append(
            f"<Ntry><NtryRef>{position}</NtryRef><Amt Ccy=\"{currency}\">{abs(amount):.2f}</Amt>"
            f"<CdtDbtInd>{'CRDT' if amount > 0 else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{item.date.isoformat()}</Dt></BookgDt><AcctSvcrRef>LINE{position:06d}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(item.reference or 'NOTPROVIDED')}</EndToEndId></Refs>"
            f"<RltdPties><{party_tag}><Nm>{escape(item.counterparty)}</Nm></{party_tag}>"
            f"<{party_tag}Acct><Id><IBAN>{escape(item.counterparty_account)}</IBAN></Id></{party_tag}Acct></RltdPties>"
            f"<RmtInf><Ustrd>{escape(item.description)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    first, last = min(item.date for item in lines), max(item.date for item in lines)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(name)}</MsgId><CreDtTm>{last.isoformat()}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(name)}</Id><Acct><Id><IBAN>{escape(iban)}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f"{balance('OPBD', Decimal(opening_balance), first)}{balance('CLBD', closing, last)}"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def bank_statement(db: Session, lines: Iterable[BankLine], *, journal: str = "BNK", **camt: Any) -> Statement:
    """A bank statement of ``lines`` imported into ``journal`` from a :func:`camt053` file (``camt``
    passes its options); its lines wait to be matched."""
    return statements.import_statement(db, camt053(lines, **camt), file_format="camt053", journal=journal)


def march_bank_lines(invoice_number: str) -> list[BankLine]:
    """The March statement: Alfa pays the invoice ``invoice_number``, Gamma pays an order we have no
    invoice for, we pay Beta's bill, the bank takes its fees (10,000.00 to 10,602.55)."""
    return [BankLine(date(2026, 3, 12), "1250.00", f"Payment of invoice {invoice_number}", "", "ALFA A/S",
                     "DK8930000001234567"),
            BankLine(date(2026, 3, 14), "312.50", "Order 4711", "GAMMA-4711", "Gamma Oy", "FI2112345600000785"),
            BankLine(date(2026, 3, 20), "-500.00", "", "RE-2026-118", "Beta GmbH", "DE89370400440532013000"),
            BankLine(date(2026, 3, 31), "-459.95", "Bank fees March")]


# -- Reading back in tests that also make requests --


@contextmanager
def session_of(app: Flask) -> Iterator[Session]:
    """A session of its own in an app context of ``app``, rolled back at the end (requests made
    meanwhile run in their own app contexts, and would close a session the test shared with them)."""
    with app.app_context():
        yield session
        session.rollback()


def invoice_state(app: Flask, invoice_id: int) -> tuple[str, Decimal]:
    """The state and the open amount of invoice ``invoice_id``, read in a session of its own."""
    with session_of(app) as db:
        found = db.get(Invoice, invoice_id)
        return found.state, found.amount_residual


def count_rows(app: Flask, model: type) -> int:
    """How many rows of ``model`` there are, read in a session of its own."""
    with session_of(app) as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


# -- A small set of books --


def sample_books(db: Session) -> dict[str, Any]:
    """Two fiscal years of crafted books (DKK), the first closed, for reports over known figures;
    commits, and returns the parties ``alfa`` and ``beta`` and the 2025 ``invoice`` entry.

    1. 2025-03-10 the owners pay in 10,000.00 share capital (bank 1100 / share capital 3000);
    2. 2025-06-15 a sale to Alfa of 1,000.00 + 250.00 VAT, due 2025-07-15;
    3. 2025-08-01 a rent bill of 400.00 from Beta, due 2025-08-31;
    4. 2025 is closed: its result of 600.00 goes to retained earnings;
    5. 2026-01-20 a sale to Alfa of 100.00 EUR at 7.455 = 745.50 (4100), due 2026-02-19;
    6. 2026-02-05 123.45 other expenses (6900) paid in cash (1110);
    7. 2026-03-01 salaries of 2,000.00 from the bank, reversed on 2026-03-02;
    8. 2026-03-15 Alfa pays the 2025 sale: 1,250.00 into the bank.
    """
    y2025 = ensure_year(db, date(2025, 1, 1))
    ensure_year(db, date(2026, 1, 1))
    alfa, beta = party(db, "Alfa A/S"), party(db, "Beta GmbH")
    posted_entry(db, "GEN", date(2025, 3, 10), [{"account": "1100", "debit": "10000.00", "credit": "0"},
                                                {"account": "3000", "debit": "0", "credit": "10000.00"}])
    invoice = posted_entry(db, "SAL", date(2025, 6, 15), [
        {"account": "1200", "debit": "1250.00", "credit": "0", "party_id": alfa.id, "due_date": date(2025, 7, 15)},
        {"account": "4000", "debit": "0", "credit": "1000.00"},
        {"account": "2200", "debit": "0", "credit": "250.00"}])
    posted_entry(db, "PUR", date(2025, 8, 1), [
        {"account": "6100", "debit": "400.00", "credit": "0"},
        {"account": "2100", "debit": "0", "credit": "400.00", "party_id": beta.id, "due_date": date(2025, 8, 31)}])
    years.close_year(db, y2025)
    posted_entry(db, "SAL", date(2026, 1, 20), [
        {"account": "1200", "debit": "745.50", "credit": "0", "party_id": alfa.id, "due_date": date(2026, 2, 19),
         "currency": "EUR", "amount_currency": "100.00", "rate": "7.455"},
        {"account": "4100", "debit": "0", "credit": "745.50", "currency": "EUR", "amount_currency": "-100.00",
         "rate": "7.455"}])
    posted_entry(db, "CSH", date(2026, 2, 5), [
        {"account": "6900", "debit": "123.45", "credit": "0", "description": "Stamps"},
        {"account": "1110", "debit": "0", "credit": "123.45"}])
    salaries = posted_entry(db, "GEN", date(2026, 3, 1), [{"account": "6000", "debit": "2000.00", "credit": "0"},
                                                          {"account": "1100", "debit": "0", "credit": "2000.00"}])
    ledger.reverse_entry(db, salaries, date=date(2026, 3, 2))
    posted_entry(db, "BNK", date(2026, 3, 15), [{"account": "1100", "debit": "1250.00", "credit": "0"},
                                                {"account": "1200", "debit": "0", "credit": "1250.00",
                                                 "party_id": alfa.id}])
    db.commit()
    return {"alfa": alfa, "beta": beta, "invoice": invoice}
