"""Demo payments and bank statements, added after the demo invoices and bills.

Most invoices and bills due before today are paid around their due date (a few partly, a few
over-paid, a few left open and overdue); two bank statements of the last weeks, one read from a
CSV export and one from a camt.053 file, hold further receipts and payments, some matched and
some waiting for the bookkeeper to confirm the suggested match. Deterministic (seeded).
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from sqlalchemy import func, literal, select, type_coerce
from sqlalchemy.orm import Session

from core import KontorError, Money

from plugins.accounting.banking import services, statements
from plugins.accounting.companies import in_each_company
from plugins.accounting.banking.models import Payment, Statement
from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing.models import OPEN_STATES, Invoice
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger.models import Line

CENT = Decimal("0.01")


def load_demo_data(db: Session, progress, today: date | None = None) -> None:
    """Register the demo payments and import the two demo statements in every company of the group."""
    in_each_company(db, lambda: _load(db, progress, today))


def _load(db: Session, progress, today: date | None = None) -> None:
    """Register the current company's demo payments and import its two demo statements (once)."""
    if db.execute(select(Payment.id).limit(1)).first() is not None:
        return
    if db.execute(select(Statement.id).limit(1)).first() is not None:
        return
    today = today or date.today()
    rng = random.Random(7)
    lock = ledger.lock_date(db)
    open_docs = list(db.execute(select(Invoice).where(Invoice.state.in_(OPEN_STATES),
                                                      Invoice.kind.in_(("out_invoice", "in_invoice")))
                                .order_by(Invoice.invoice_date, Invoice.id)).scalars())
    recent_cut = today - timedelta(days=35)
    for invoice in open_docs:
        if invoice.due_date >= recent_cut:
            continue
        roll = rng.random()
        if roll < 0.06:
            continue  # left open: overdue
        day = min(today, max(invoice.invoice_date, invoice.due_date + timedelta(days=rng.randint(-6, 9))))
        if lock is not None and day <= lock:
            continue
        amount = invoice.amount_residual
        if roll < 0.14:
            amount = (amount / 2).quantize(CENT)  # paid in part
        paid = amount + Decimal(100) if roll > 0.97 and invoice.kind == "out_invoice" else amount
        if _pay(db, invoice, paid, amount, day, "CSH" if amount < 500 else "BNK"):
            progress(1)
    db.flush()
    _csv_statement(db, rng, today)
    progress(1)
    _camt_statement(db, rng, today)
    progress(1)


def _pay(db: Session, invoice: Invoice, paid: Decimal, allocated: Decimal, day: date, journal: str) -> bool:
    """Register a payment of ``paid`` allocating ``allocated`` to ``invoice``; False when not possible
    (no exchange rate on that day, say)."""
    try:
        with db.begin_nested():
            services.register_payment(db, party_id=invoice.party_id, amount=paid, currency=invoice.currency, date=day,
                                      journal=journal, allocations=[(invoice, allocated)],
                                      reference=invoice.number or "")
    except KontorError:
        return False
    return True


def _recent_open(db: Session, kind: str, currency: str, limit: int) -> list[Invoice]:
    return list(db.execute(select(Invoice).where(Invoice.state.in_(OPEN_STATES), Invoice.kind == kind,
                                                 Invoice.currency == currency)
                           .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(limit)).scalars())


def _party_name(db: Session, invoice: Invoice) -> str:
    from core import Party

    party = db.get(Party, invoice.party_id)
    return party.name if party else ""


def _bank_balance(db: Session, on: date) -> Decimal:
    bank = ledger.account_by_code(db, "1100")
    signed = type_coerce(func.coalesce(func.sum(Line.debit - Line.credit), literal(0)), Money())
    total = db.execute(select(signed).where(Line.account_id == bank.id, Line.state == "posted", Line.date < on)).scalar()
    return Decimal(total or 0).quantize(CENT)


def _money_dk(amount: Decimal) -> str:
    """``amount`` written as a Danish bank's CSV writes it: 1.234,56."""
    text = f"{abs(amount):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-{text}" if amount < 0 else text


def _csv_statement(db: Session, rng: random.Random, today: date) -> None:
    """A CSV export of the bank account for the four weeks before the last week."""
    base = fx.company_currency(db)
    start = today - timedelta(days=34)
    customers = _recent_open(db, "out_invoice", base, 6)[3:6]
    rows: list[tuple[date, str, str, Decimal]] = []
    for n, invoice in enumerate(customers):
        day = min(today - timedelta(days=8), max(start, invoice.invoice_date) + timedelta(days=2 + n * 3))
        # the first pays with the invoice number; the others only by amount
        text = f"Faktura {invoice.number}" if n == 0 else f"Overførsel {rng.randint(100000, 999999)}"
        rows.append((day, text, _party_name(db, invoice), invoice.amount_residual))
    rows.append((start + timedelta(days=1), "Husleje", "Ejendomsselskabet Havnen A/S", Decimal("-18000.00")))
    rows.append((start + timedelta(days=20), "Gebyr", "Bank", Decimal("-65.00")))
    rows.sort(key=lambda row: row[0])
    balance = _bank_balance(db, start)
    lines = ["Dato;Tekst;Modtager/afsender;Beløb;Saldo"]
    for day, text, name, amount in rows:
        balance += amount
        lines.append(f"{day.strftime('%d.%m.%Y')};{text};{name};{_money_dk(amount)};{_money_dk(balance)}")
    mapping = {"date": "Dato", "description": "Tekst", "counterparty": "Modtager/afsender", "amount": "Beløb",
               "balance": "Saldo"}
    statement = statements.import_statement(db, "\n".join(lines).encode("utf-8"), file_format="csv", journal="BNK",
                                            mapping=mapping, number_format="1.234,56", date_format="%d.%m.%Y",
                                            name=f"Bank {start.strftime('%Y-%m')}", filename="bank-export.csv")
    for line in statement.lines:
        found = statements.suggestions(db, line, limit=1)
        if line.description.startswith("Faktura") and found:
            statements.confirm_line(db, line, invoices=[found[0].invoice])
        elif line.description == "Gebyr":
            statements.confirm_line(db, line, account="6900")


def _camt_statement(db: Session, rng: random.Random, today: date) -> None:
    """A camt.053 statement of the last week: receipts naming their invoices, a supplier paid."""
    base = fx.company_currency(db)
    start = today - timedelta(days=6)
    entries = []
    for n, invoice in enumerate(_recent_open(db, "out_invoice", base, 3)):
        entries.append((start + timedelta(days=n), invoice.amount_residual, _party_name(db, invoice),
                        f"Invoice {invoice.number}", f"E2E-{rng.randint(10000, 99999)}"))
    for invoice in _recent_open(db, "in_invoice", base, 1):
        entries.append((start + timedelta(days=4), -invoice.amount_residual, _party_name(db, invoice),
                        f"Your invoice {invoice.reference or invoice.number}", invoice.reference or "NOTPROVIDED"))
    entries.append((start + timedelta(days=5), Decimal("-129.00"), "", "Card fees", "NOTPROVIDED"))
    opening = _bank_balance(db, start)
    closing = opening + sum((entry[1] for entry in entries), Decimal(0))
    xml = _camt_xml(f"{today.strftime('%Y%m%d')}-01", base, opening, closing, start, today, entries)
    statement = statements.import_statement(db, xml, file_format="camt053", journal="BNK", filename="camt053.xml")
    first = statement.lines[0]
    found = statements.suggestions(db, first, limit=1)
    if found:
        statements.confirm_line(db, first, invoices=[found[0].invoice])


def _camt_xml(ident: str, currency: str, opening: Decimal, closing: Decimal, start: date, end: date,
              entries: list[tuple[date, Decimal, str, str, str]]) -> bytes:
    """A camt.053.001.02 document holding ``entries`` (date, signed amount, party, text, reference)."""
    def balance(code: str, amount: Decimal, day: date) -> str:
        sign = "CRDT" if amount >= 0 else "DBIT"
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{currency}\">{abs(amount):.2f}</Amt>"
                f"<CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")

    body = []
    for n, (day, amount, name, text, reference) in enumerate(entries, start=1):
        incoming = amount > 0
        party = (f"<RltdPties><{'Dbtr' if incoming else 'Cdtr'}><Nm>{escape(name)}</Nm></{'Dbtr' if incoming else 'Cdtr'}>"
                 f"</RltdPties>" if name else "")
        body.append(
            f"<Ntry><NtryRef>{n}</NtryRef><Amt Ccy=\"{currency}\">{abs(amount):.2f}</Amt>"
            f"<CdtDbtInd>{'CRDT' if incoming else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt><ValDt><Dt>{day.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{ident}-{n:04d}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>{escape(reference)}"
            f"</EndToEndId></Refs>{party}<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{ident}</MsgId><CreDtTm>{end.isoformat()}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{ident}</Id><CreDtTm>{end.isoformat()}T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>DK5000400440116243</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f"{balance('OPBD', opening, start)}{balance('CLBD', closing, end)}{''.join(body)}"
        "</Stmt></BkToCstmrStmt></Document>"
    ).encode("utf-8")

