"""Payments and reconciliation: registering money in and out against invoices and bills.

A payment is one posted entry of a bank or cash journal. Each invoice it settles is reconciled:
a reconciliation line takes an amount from the invoice's receivable (or payable) line and the
same amount from the payment's counterpart line. Ledger lines are never updated; a line's open
amount is its amount less what reconciliation lines took from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import date as date_type
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import and_, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from core import KontorError, Money, NotFound, Party, current_company_id, gettext as _, hooks

from plugins.accounting.banking.models import Payment, PaymentAllocation, Reconciliation, ReconciliationLine
from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing.models import OPEN_STATES, Invoice
from plugins.accounting.ledger import roles, services as ledger
from plugins.accounting.ledger.models import Account, CurrencyAmount, Entry, Journal, Line

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
#: Invoices whose receivable/payable line is a debit: money comes in to settle them.
INBOUND_KINDS = ("out_invoice", "in_refund")
#: The source of the entries that book what a currency-matched reconciliation leaves over.
EXCHANGE_SOURCE = "reconciliation"
OUTBOUND_KINDS = ("in_invoice", "out_refund")


# -- Open amounts --


def _reconciled(on: date | None = None):
    """What reconciliations took from each line (as of ``on`` when given): a subquery."""
    query = (select(ReconciliationLine.line_id.label("line_id"),
                    func.sum(ReconciliationLine.amount).label("amount"),
                    func.sum(ReconciliationLine.amount_currency).label("amount_currency"))
             .group_by(ReconciliationLine.line_id))
    if on is not None:
        query = query.join(Reconciliation, Reconciliation.id == ReconciliationLine.reconciliation_id).where(
            Reconciliation.date <= on)
    return query.subquery("reconciled")


def open_amount_columns(on: date | None = None):
    """For other areas' queries over lines (the aged reports): ``(reconciled, open_amount,
    open_currency)``, the subquery of what reconciliations dated on or before ``on`` took from each
    line (outer-join it on ``reconciled.c.line_id == Line.id``) and the line's signed open amount
    in the company currency and in its own currency as column expressions."""
    reconciled = _reconciled(on)
    return (reconciled, *_open_columns(reconciled))


def _open_columns(reconciled):
    """(signed open amount in the company currency, signed open amount in the line's currency)."""
    taken = type_coerce(func.coalesce(reconciled.c.amount, literal(0)), Money())
    taken_currency = type_coerce(func.coalesce(reconciled.c.amount_currency, literal(0)), CurrencyAmount)
    is_debit = Line.debit >= Line.credit
    open_amount = type_coerce(case((is_debit, Line.debit - Line.credit - taken), else_=Line.debit - Line.credit + taken),
                              Money())
    open_currency = type_coerce(case(
        (Line.amount_currency.is_(None), None),
        (Line.amount_currency >= 0, Line.amount_currency - taken_currency),
        else_=Line.amount_currency + taken_currency), CurrencyAmount)
    return open_amount, open_currency


def party_family(db: Session, party_id: int) -> list[int]:
    """``party_id`` and the parties merged into it: posted lines keep the party they were booked
    on, so a merged customer's old lines count as the surviving party's."""
    merged = db.execute(select(Party.id).where(Party.merged_into_id == party_id)).scalars().all()
    return [party_id, *merged]


def _family_query(party_id: int):
    """:func:`party_family` as a SELECT, for ``IN``."""
    return select(Party.id).where((Party.id == party_id) | (Party.merged_into_id == party_id))


def _surviving_party(db: Session, party_id: int | None) -> int | None:
    if party_id is None:
        return None
    party = db.get(Party, party_id)
    return party.merged_into_id or party_id if party is not None else party_id


def open_items(db: Session, party_id: int | None = None, account_kind: str = "receivable",
               on: date | None = None) -> list[dict[str, Any]]:
    """The open receivable (or payable) lines, oldest due first, as dicts.

    Each item has the line (``line_id``, ``entry_id``, ``number``, ``date``, ``due_date``,
    ``party_id``, ``party_name``, ``account_id``, ``account_code``), its signed ``amount`` and
    ``open`` amount in the company currency (positive for a debit), its ``currency`` and
    ``open_currency`` (the open amount in the line's currency, or ``open`` when it has none) and
    the ``invoice_id``/``invoice_number``/``invoice_kind`` it belongs to, if any. With ``on``,
    only lines and reconciliations dated on or before it count (for aged balances).
    """
    if account_kind not in ("receivable", "payable"):
        raise KontorError(_("Choose receivable or payable."), field="account_kind")
    reconciled = _reconciled(on)
    open_amount, open_currency = _open_columns(reconciled)
    query = (
        select(Line.id.label("line_id"), Line.entry_id, Entry.number, Line.date, Line.due_date, Line.party_id,
               Party.name.label("party_name"), Line.account_id, Account.code.label("account_code"),
               type_coerce(Line.debit - Line.credit, Money()).label("amount"), open_amount.label("open"),
               Line.currency, Line.amount_currency, open_currency.label("open_currency"), Line.description,
               Invoice.id.label("invoice_id"), Invoice.number.label("invoice_number"),
               Invoice.kind.label("invoice_kind"))
        .join(Account, Account.id == Line.account_id)
        .join(Entry, Entry.id == Line.entry_id)
        .outerjoin(Party, Party.id == Line.party_id)
        .outerjoin(reconciled, reconciled.c.line_id == Line.id)
        .outerjoin(Invoice, Invoice.receivable_line_id == Line.id)
        .where(Account.kind == account_kind, Line.state == "posted", open_amount != 0)
        .order_by(func.coalesce(Line.due_date, Line.date), Line.id)
    )
    if party_id is not None:
        query = query.where(Line.party_id.in_(party_family(db, party_id)))
    if on is not None:
        query = query.where(Line.date <= on)
    items = []
    for row in db.execute(query).mappings():
        item = dict(row)
        if item["open_currency"] is None or item["currency"] is None:
            item["open_currency"] = item["open"]
            item["currency"] = item["currency"] or fx.company_currency(db)
        items.append(item)
    return items


@dataclass(frozen=True)
class PartyBalance:
    """What a party owes (receivable) and is owed (payable), in the company currency.

    ``receivable`` is positive when the party owes us; ``payable`` positive when we owe it;
    ``balance`` is receivable − payable. ``overdue`` is the receivable past its due date.
    """

    receivable: Decimal
    payable: Decimal
    overdue: Decimal
    overdue_payable: Decimal

    @property
    def balance(self) -> Decimal:
        """Receivable less payable: positive when the party owes us on balance."""
        return self.receivable - self.payable


def party_balance(db: Session, party_id: int, on: date | None = None) -> PartyBalance:
    """The party's open receivable and payable balances (and their overdue parts) on ``on`` (today)."""
    on = on or date.today()
    signed = type_coerce(Line.debit - Line.credit, Money())
    overdue = and_(Line.due_date.is_not(None), Line.due_date < on)
    query = (select(Account.kind, func.sum(signed), func.sum(case((overdue, signed), else_=literal(0))))
             .join(Account, Account.id == Line.account_id)
             .where(Line.party_id.in_(party_family(db, party_id)), Line.state == "posted", Line.date <= on,
                    Account.kind.in_(("receivable", "payable")))
             .group_by(Account.kind))
    totals = {kind: (Decimal(total or 0), Decimal(late or 0)) for kind, total, late in db.execute(query)}
    receivable, receivable_late = totals.get("receivable", (ZERO, ZERO))
    payable, payable_late = totals.get("payable", (ZERO, ZERO))
    # overdue counts only what is still open: a paid overdue invoice is not overdue
    open_late = {"receivable": ZERO, "payable": ZERO}
    for kind in open_late:
        for item in open_items(db, party_id, kind, on):
            if item["due_date"] is not None and item["due_date"] < on:
                open_late[kind] += item["open"]
    return PartyBalance(receivable=_money(receivable), payable=_money(-payable),
                        overdue=_money(open_late["receivable"]), overdue_payable=_money(-open_late["payable"]))


def line_open(db: Session, line: Line) -> tuple[Decimal, Decimal]:
    """The unsigned open amount of ``line``: (company currency, the line's currency)."""
    return lines_open(db, [line])[line.id]


def lines_open(db: Session, lines: Iterable[Line]) -> dict[int, tuple[Decimal, Decimal]]:
    """:func:`line_open` of several lines in one query, by line id."""
    lines = list(lines)
    taken = {row[0]: (row[1], row[2]) for row in db.execute(
        select(ReconciliationLine.line_id, type_coerce(func.sum(ReconciliationLine.amount), Money()),
               type_coerce(func.sum(ReconciliationLine.amount_currency), CurrencyAmount))
        .where(ReconciliationLine.line_id.in_({line.id for line in lines}))
        .group_by(ReconciliationLine.line_id))}
    opens = {}
    for line in lines:
        amount, amount_currency = taken.get(line.id, (None, None))
        open_amount = _money(abs(line.debit - line.credit) - (amount or ZERO))
        if line.amount_currency is None:
            opens[line.id] = (open_amount, open_amount)
        else:
            opens[line.id] = (open_amount, abs(line.amount_currency) - (amount_currency or ZERO))
    return opens


# -- Payments --


def get_payment(db: Session, payment_id: int) -> Payment:
    """The payment ``payment_id``; NotFound if there is none."""
    payment = db.get(Payment, payment_id)
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


def payments_query(*, q: str = "", kind: str = "", party_id: int | None = None, journal: str = "",
                   date_from: date | None = None, date_to: date | None = None):
    """The payments matching the filters (a SELECT for keyset paging or export)."""
    query = select(Payment).join(Party, Party.id == Payment.party_id)
    if q:
        pattern = f"%{q.strip().casefold()}%"
        query = query.where(func.lower(Payment.number).like(pattern) | func.lower(Payment.reference).like(pattern)
                            | Party.name_key.like(pattern))
    if kind in ("inbound", "outbound"):
        query = query.where(Payment.kind == kind)
    if party_id:
        query = query.where(Payment.party_id.in_(_family_query(party_id)))
    if journal:
        query = query.join(Journal, Journal.id == Payment.journal_id).where(Journal.code == journal)
    if date_from:
        query = query.where(Payment.date >= date_from)
    if date_to:
        query = query.where(Payment.date <= date_to)
    return query


@dataclass
class _Allocation:
    invoice: Invoice
    amount: Decimal
    line: Line
    open_amount: Decimal = ZERO
    open_currency: Decimal = ZERO
    writeoff: Decimal = ZERO


def register_payment(db: Session, *, party_id: int, amount: Any, currency: str, date: Any, journal: Any,
                     allocations: Iterable[tuple[Any, Any]] = (), reference: str = "", user_id: int | None = None,
                     writeoff_account: Any = None, kind: str | None = None) -> Payment:
    """Register and post a payment of ``amount`` ``currency`` from (inbound) or to (outbound) a party.

    ``allocations`` are ``(invoice or its id, amount in the payment's currency)``: each invoice's
    receivable or payable line is reconciled with the payment and its ``amount_residual`` and
    state (partial, paid) follow. What the allocations leave of the amount stays an open credit on
    the party's account (an over-payment). With ``writeoff_account``, what each allocation leaves
    unpaid of its invoice is written off to that account and the invoice is paid in full; without
    it, an under-paid invoice stays partly open. A foreign-currency invoice paid at another rate
    than it was booked at gets the realised exchange difference (exchange gain or loss account)
    in the same entry. ``kind`` (inbound/outbound) is needed only without allocations.
    Raises KontorError naming the field at fault; the caller commits.
    """
    day = fx.parse_day(date)
    ledger.check_lock_date(db, day)
    party = db.get(Party, _id_of(party_id))
    if party is None:
        raise KontorError(_("Choose a party."), field="party_id")
    currency = fx.get_currency(db, currency).code
    digits = fx.currency_digits(db, currency)
    amount = _positive(amount, "amount", digits)
    bank_journal = payment_journal(db, journal)
    items = _allocations(db, allocations, party, currency, digits)
    kind = _kind(items, kind)
    allocated = sum((item.amount for item in items), ZERO)
    if allocated > amount:
        raise KontorError(_("The allocations add up to more than the payment."), field="allocations")
    writeoff_to = _writeoff_account(db, writeoff_account) if writeoff_account not in (None, "") else None
    opens = lines_open(db, [item.line for item in items])
    for item in items:
        item.open_amount, item.open_currency = opens[item.line.id]
        if writeoff_to is not None:
            item.writeoff = item.open_currency - item.amount

    company = fx.company_currency(db)
    amount_company, rate = _in_company_currency(db, amount, currency, company, day)
    payment = Payment(party_id=party.id, kind=kind, date=day, amount=amount, currency=currency, rate=rate,
                      amount_company=amount_company, journal_id=bank_journal.id, reference=(reference or "")[:140],
                      writeoff_account_id=writeoff_to.id if writeoff_to else None, created_by_id=user_id)
    db.add(payment)
    db.flush()
    lines, settled = _payment_lines(db, payment, bank_journal, items, writeoff_to, currency, company)
    entry = ledger.create_and_post(db, journal=bank_journal, date=day, lines=lines, reference=payment.reference,
                                   narration=_("Payment %(party)s", party=party.name), source=f"payment:{payment.id}",
                                   user_id=user_id)
    payment.entry_id, payment.number = entry.id, entry.number
    payment.writeoff_amount = _money(sum((item.writeoff for item in items), ZERO))
    entry_lines = list(entry.lines)
    for item, (index, settle_company, settle_currency) in zip(items, settled):
        db.add(PaymentAllocation(payment=payment, invoice_id=item.invoice.id, amount=item.amount,
                                 writeoff=_money(item.writeoff) if item.writeoff else ZERO))
        counterpart = entry_lines[index]
        _reconcile(db, [(item.line, settle_company, settle_currency), (counterpart, settle_company, settle_currency)],
                   day=day, party_id=party.id, payment_id=payment.id, user_id=user_id)
    db.flush()
    hooks().accounting_payment_registered(payment=payment, session=db)
    return payment


def _in_company_currency(db: Session, amount: Decimal, currency: str, company: str, day: date) -> tuple[Decimal, Decimal]:
    """``amount`` ``currency`` in the company currency on ``day``, and the rate used (1 in the company currency)."""
    if currency == company:
        return amount, Decimal(1)
    return fx.to_company(db, amount, currency, day)


# -- Money through the bank (a statement line) --


def pay_from_bank(db: Session, *, journal: Any, day: date, amount: Decimal, currency: str, reference: str,
                  invoices: Iterable[Any] = (), party_id: Any = None, user_id: int | None = None) -> Payment:
    """The payment of money that went through the bank: ``amount`` is signed (money in is positive).

    With ``invoices`` (Invoices, ids or numbers, of one party) it settles them oldest due first,
    each up to its open amount (what exceeds them stays an open credit); without, it is a
    payment on account of ``party_id``. Posts one entry (:func:`register_payment`).
    """
    invoice_list = [value if isinstance(value, Invoice) else find_invoice(db, value, "invoices")
                    for value in invoices or ()]
    left = abs(amount)
    if not invoice_list:
        party = _id_of(party_id)
        if not party:
            raise KontorError(_("Choose a party."), field="party_id")
        return register_payment(db, party_id=party, amount=left, currency=currency, date=day, journal=journal,
                                allocations=[], reference=reference, user_id=user_id,
                                kind="inbound" if amount > 0 else "outbound")
    party_ids = {invoice.party_id for invoice in invoice_list}
    if len(party_ids) != 1:
        raise KontorError(_("Choose invoices of one party."), field="invoices")
    allocations, total = [], left
    for invoice in sorted(invoice_list, key=lambda i: (i.due_date, i.id)):
        if left <= 0:
            break
        if invoice.state not in OPEN_STATES:
            raise KontorError(_("%(number)s is not open.", number=invoice.number), field="invoices")
        part = min(left, invoice.amount_residual)
        allocations.append((invoice, part))
        left -= part
    return register_payment(db, party_id=party_ids.pop(), amount=total, currency=currency, date=day, journal=journal,
                            allocations=allocations, reference=reference, user_id=user_id)


def book_to_account(db: Session, *, journal: Journal, day: date, amount: Decimal, currency: str, account: Any,
                    party_id: Any = None, reference: str = "", description: str = "", narration: str = "",
                    source: str = "", user_id: int | None = None) -> Entry:
    """Post money that went through the bank (``amount`` signed, money in positive) against
    ``account`` (an Account, its code or id) in one entry of ``journal``: bank fees, interest, a
    transfer. ``reference`` and ``narration`` are the entry's, ``description`` its lines'.
    Refused on or before the lock date, or for the bank account itself."""
    target = account if isinstance(account, Account) else None
    if target is None:
        text_value = str(account).strip()
        target = db.execute(select(Account).where(Account.code == text_value,
                                                  Account.company_id == current_company_id(db))).scalar_one_or_none()
        if target is None and text_value.isdigit() and int(text_value) < 2**31:
            target = db.get(Account, int(text_value))
    if target is None or not target.postable or not target.active:
        raise KontorError(_("Choose an active postable account."), field="account")
    if target.id == journal.default_account_id:
        raise KontorError(_("Choose another account than the bank account itself."), field="account")
    ledger.check_lock_date(db, day)
    company = fx.company_currency(db)
    money = abs(amount)
    company_amount, rate = _in_company_currency(db, money, currency, company, day)
    incoming = amount > 0
    extra = ({"currency": currency, "rate": rate} if currency != company else {})
    bank_line = {"account": journal.default_account_id, "debit": company_amount if incoming else ZERO,
                 "credit": ZERO if incoming else company_amount, "description": description[:200], **extra}
    other = {"account": target.id, "debit": ZERO if incoming else company_amount,
             "credit": company_amount if incoming else ZERO, "description": description[:200], **extra}
    if extra:
        bank_line["amount_currency"] = money if incoming else -money
        other["amount_currency"] = -money if incoming else money
    party = _id_of(party_id) if party_id not in (None, "") else 0
    if party:
        other["party_id"] = party
    return ledger.create_and_post(db, journal=journal, date=day, lines=[bank_line, other], reference=reference[:100],
                                  narration=narration[:500], source=source, user_id=user_id)


def cancel_payment(db: Session, payment: Payment, *, date: Any = None, user_id: int | None = None) -> Payment:
    """Cancel a registered payment: undo its reconciliations, post the reversal of its entry (on
    ``date``, today by default) and match the reversal with it; the invoices it paid are open again.

    Refused when a reconciliation to undo is dated on or before the lock date.
    """
    if payment.state != "posted":
        raise KontorError(_("This payment is cancelled already."), field="state", status=409)
    day = fx.parse_day(date) if date not in (None, "") else date_type.today()
    ledger.check_lock_date(db, day)
    entry = db.get(Entry, payment.entry_id)
    own_lines = [line.id for line in entry.lines]
    reconciliations = db.execute(select(Reconciliation).where(Reconciliation.id.in_(
        select(ReconciliationLine.reconciliation_id).where(ReconciliationLine.line_id.in_(own_lines))))).scalars().all()
    affected: set[int] = set()
    for reconciliation in reconciliations:
        ledger.check_lock_date(db, reconciliation.date)
        affected.update(part.line_id for part in reconciliation.lines)
        db.delete(reconciliation)
    db.flush()
    reversal = ledger.reverse_entry(db, entry, date=day, user_id=user_id, by_document=True)
    for original, mirror in zip(entry.lines, reversal.lines):
        if original.account.kind in ("receivable", "payable"):
            currency_amount = abs(original.amount_currency) if original.amount_currency is not None else None
            _reconcile(db, [(original, abs(original.debit - original.credit), currency_amount),
                            (mirror, abs(mirror.debit - mirror.credit), currency_amount)],
                       day=day, party_id=payment.party_id, user_id=user_id)
    _update_invoices(db, sorted(affected))
    payment.state = "cancelled"
    db.flush()
    return payment


def _payment_lines(db: Session, payment: Payment, journal: Journal, items: list[_Allocation],
                   writeoff_to: Account | None, currency: str, company: str) -> tuple[list[dict], list[tuple]]:
    """The lines of a payment's entry, as if inbound (flipped for outbound), and for each
    allocation (index of its counterpart line, company amount settled, currency amount settled)."""
    foreign = currency != company
    rate = payment.rate
    sign = 1 if payment.kind == "inbound" else -1
    lines: list[dict] = []

    def add(account, amount_company: Decimal, amount_currency: Decimal | None, description: str, **extra):
        # amount_company > 0 is a debit in the inbound orientation
        value = amount_company * sign
        line = {"account": account, "debit": max(value, ZERO), "credit": max(-value, ZERO),
                "description": description[:200], **extra}
        if amount_currency is not None:
            line.update(currency=currency, amount_currency=amount_currency * sign, rate=extra.get("rate", rate))
        lines.append(line)
        return len(lines) - 1

    add(journal.default_account_id, payment.amount_company, payment.amount if foreign else None,
        payment.reference or _("Payment"))
    debits = payment.amount_company
    credits = ZERO
    settled = []
    for item in items:
        settle_currency = item.amount + item.writeoff
        if settle_currency == item.open_currency:
            settle_company = item.open_amount
        else:
            settle_company = _money(item.open_amount * settle_currency / item.open_currency)
        writeoff_company = ZERO
        if item.writeoff:
            writeoff_company = _money(item.writeoff * rate) if foreign else item.writeoff
            add(writeoff_to.id, writeoff_company, item.writeoff if foreign else None,
                _("Write-off %(number)s", number=item.invoice.number), party_id=payment.party_id)
            debits += writeoff_company
        line_currency = item.line.currency if item.line.amount_currency is not None else None
        index = add(item.line.account_id, -settle_company, None, item.invoice.number or "", party_id=payment.party_id)
        if line_currency is not None:
            lines[index].update(currency=line_currency, amount_currency=-settle_currency * sign,
                                rate=item.line.rate or item.invoice.rate)
        credits += settle_company
        settled.append((index, settle_company, settle_currency if line_currency else None))
    excess = payment.amount - sum((item.amount for item in items), ZERO)
    if excess > 0:
        excess_company = _money(excess * rate) if foreign else excess
        if excess == payment.amount:
            excess_company = payment.amount_company
        role = roles.RECEIVABLE if payment.kind == "inbound" else roles.PAYABLE
        account_id = items[0].line.account_id if items else roles.account_for(db, role).id
        add(account_id, -excess_company, -excess if foreign else None, _("Unallocated payment"),
            party_id=payment.party_id)
        credits += excess_company
    difference = debits - credits
    if difference:
        gain = difference * sign > 0
        account_id = roles.account_for(db, roles.EXCHANGE_GAIN if gain else roles.EXCHANGE_LOSS).id
        add(account_id, -difference, None, _("Exchange difference"))
    return lines, settled


def _allocations(db: Session, allocations: Iterable[tuple[Any, Any]], party: Party, currency: str,
                 digits: int) -> list[_Allocation]:
    items: list[_Allocation] = []
    seen: set[int] = set()
    for position, pair in enumerate(allocations or ()):
        try:
            invoice_ref, value = pair
        except (TypeError, ValueError):
            raise KontorError(_("Each allocation is an invoice and an amount."), field="allocations") from None
        field = f"allocations.{position}"
        invoice = invoice_ref if isinstance(invoice_ref, Invoice) else find_invoice(db, invoice_ref, field)
        if invoice.id in seen:
            raise KontorError(_("%(number)s is allocated twice.", number=invoice.number), field=field)
        seen.add(invoice.id)
        if invoice.state not in OPEN_STATES or invoice.receivable_line_id is None:
            raise KontorError(_("%(number)s is not open for payment.", number=invoice.number or invoice.id),
                              field=field)
        if invoice.party_id not in party_family(db, party.id):
            raise KontorError(_("%(number)s belongs to another party.", number=invoice.number), field=field)
        if invoice.currency != currency:
            raise KontorError(_("%(number)s is in %(currency)s: pay it in that currency.", number=invoice.number,
                                currency=invoice.currency), field=field)
        amount = _positive(value, f"{field}.amount", digits)
        if amount > invoice.amount_residual:
            raise KontorError(_("%(number)s has only %(open)s open.", number=invoice.number,
                                open=invoice.amount_residual), field=f"{field}.amount")
        items.append(_Allocation(invoice=invoice, amount=amount, line=db.get(Line, invoice.receivable_line_id)))
    return items


def _kind(items: list[_Allocation], kind: str | None) -> str:
    kinds = {"inbound" if item.invoice.kind in INBOUND_KINDS else "outbound" for item in items}
    if len(kinds) > 1:
        raise KontorError(_("A payment settles either money due to us or money we owe, not both."),
                          field="allocations")
    if kinds:
        found = kinds.pop()
        if kind and kind != found:
            raise KontorError(_("These invoices are settled by money received.") if found == "inbound"
                              else _("These invoices are settled by a payment made."), field="kind")
        return found
    if kind not in ("inbound", "outbound"):
        raise KontorError(_("Say whether the money came in or went out."), field="kind")
    return kind


def find_invoice(db: Session, value: Any, field: str = "invoice") -> Invoice:
    """The invoice ``value`` names (its id, or its number); KontorError naming ``field`` if none."""
    invoice = None
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        invoice = db.get(Invoice, number) if 0 < number < 2**31 else None
    elif isinstance(value, str) and value.strip():
        invoice = db.execute(select(Invoice).where(Invoice.number == value.strip(),
                                                   Invoice.company_id == current_company_id(db))).scalar_one_or_none()
    if invoice is None:
        raise KontorError(_("No such invoice."), field=field)
    return invoice


def payment_journal(db: Session, value: Any) -> Journal:
    """The active bank or cash journal ``value`` names (a Journal, its id or its code); refused naming
    ``journal`` otherwise, or when it has no default account."""
    journal = value if isinstance(value, Journal) else None
    if journal is None and isinstance(value, int):
        journal = db.get(Journal, value)
    elif journal is None and isinstance(value, str) and value.strip():
        text_value = value.strip()
        journal = (db.get(Journal, int(text_value)) if text_value.isdigit()
                   else db.execute(select(Journal).where(Journal.code == text_value.upper(),
                                                         Journal.company_id == current_company_id(db))).scalar_one_or_none())
    if journal is None or journal.type not in ("bank", "cash") or not journal.active:
        raise KontorError(_("Choose a bank or cash journal."), field="journal")
    if journal.default_account_id is None:
        raise KontorError(_("Journal %(code)s has no default account.", code=journal.code), field="journal")
    return journal


def _writeoff_account(db: Session, value: Any) -> Account:
    account = value if isinstance(value, Account) else None
    if account is None and isinstance(value, int):
        account = db.get(Account, value)
    elif account is None and isinstance(value, str):
        account = db.execute(select(Account).where(Account.code == value.strip(),
                                                   Account.company_id == current_company_id(db))).scalar_one_or_none()
    if account is None or not account.postable or not account.active:
        raise KontorError(_("Choose an active account to write the difference off to."), field="writeoff_account")
    if account.kind in ("receivable", "payable", "bank", "cash"):
        raise KontorError(_("Write a difference off to an income or expense account."), field="writeoff_account")
    return account


def _positive(value: Any, field: str, digits: int) -> Decimal:
    if isinstance(value, float):
        raise KontorError(_("Enter the amount as a decimal string."), field=field)
    number = fx.to_decimal(value if value not in (None, "") else "0", field)
    if number <= 0:
        raise KontorError(_("Enter an amount greater than zero."), field=field)
    if number != number.quantize(fx.quantum(digits)):
        raise KontorError(_("Enter at most %(digits)s decimals.", digits=digits), field=field)
    if number >= Decimal("1e15"):
        raise KontorError(_("The amount is too large."), field=field)
    return number.quantize(fx.quantum(max(digits, 2)))


def _id_of(value: Any) -> int:
    """A record id given as a number or as text (a form's), or 0 when it names no record."""
    if isinstance(value, bool):
        return 0
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else 0


def _money(value: Decimal) -> Decimal:
    return fx.round_money(Decimal(value), 2)


# -- Reconciliation --


def _reconcile(db: Session, parts: list[tuple[Line, Decimal, Decimal | None]], *, day: date, party_id: int | None,
               payment_id: int | None = None, user_id: int | None = None) -> Reconciliation:
    """Record that ``parts`` (line, company amount, currency amount) settle each other."""
    debit = sum((amount for line, amount, _c in parts if line.debit >= line.credit), ZERO)
    credit = sum((amount for line, amount, _c in parts if line.debit < line.credit), ZERO)
    if debit != credit:
        raise KontorError(_("A reconciliation must balance."), field="lines")
    _lock_lines(db, [line.id for line, _a, _c in parts])
    opens = lines_open(db, [line for line, _a, _c in parts])
    for line, amount, amount_currency in parts:
        open_amount, open_currency = opens[line.id]
        if amount > open_amount or (amount_currency is not None and amount_currency > open_currency):
            raise KontorError(_("A line cannot be reconciled beyond its open amount."), field="lines")
    reconciliation = Reconciliation(date=day, party_id=party_id, payment_id=payment_id, created_by_id=user_id)
    for line, amount, amount_currency in parts:
        currency_value = amount_currency if line.amount_currency is not None else None
        reconciliation.lines.append(ReconciliationLine(line_id=line.id, amount=amount, amount_currency=currency_value))
    db.add(reconciliation)
    db.flush()
    _update_invoices(db, [line.id for line, _a, _c in parts])
    return reconciliation


def reconcile_parts(db: Session, parts: list[tuple[Line, Decimal, Decimal | None]], *, day: date,
                    party_id: int | None, user_id: int | None = None) -> Reconciliation:
    """Record that ``parts`` (line, company amount, currency amount) settle each other, for an
    area that settles lines it posted itself (a revaluation and its reversal); refused unless they
    balance and each stays within its open amount."""
    return _reconcile(db, parts, day=day, party_id=party_id, user_id=user_id)


def _lock_lines(db: Session, line_ids: list[int]) -> None:
    """Serialise reconciliations of the same lines (PostgreSQL row locks; SQLite writes one at a time)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(Line.id).where(Line.id.in_(line_ids)).order_by(Line.id).with_for_update())


def _update_invoices(db: Session, line_ids: list[int]) -> None:
    """Bring the residual and state of the invoices of ``line_ids`` up to date; announce the paid ones."""
    invoices = db.execute(select(Invoice).where(Invoice.receivable_line_id.in_(line_ids))).scalars().all()
    opens = lines_open(db, [db.get(Line, invoice.receivable_line_id) for invoice in invoices])
    for invoice in invoices:
        _open_amount, open_currency = opens[invoice.receivable_line_id]
        residual = fx.round_money(open_currency, fx.currency_digits(db, invoice.currency))
        was_paid = invoice.state == "paid"
        invoice.amount_residual = _money(residual)
        if residual == 0:
            invoice.state = "paid"
        elif residual < invoice.amount_total:
            invoice.state = "partial"
        else:
            invoice.state = "posted"
        db.flush()
        if invoice.state == "paid" and not was_paid and not _cancelled_by_credit_note(invoice, invoices):
            hooks().accounting_invoice_paid(invoice=invoice, session=db)


def _cancelled_by_credit_note(invoice: Invoice, together: list[Invoice]) -> bool:
    """Whether ``invoice`` is settled only against its own credit notes, or a credit note only against
    the invoice it corrects: an offset (a cancellation), not a payment."""
    others = [other for other in together if other.id != invoice.id]
    return bool(others) and all(other.refund_of_id == invoice.id or invoice.refund_of_id == other.id
                                for other in others)


def reconcile_lines(db: Session, line_ids: Iterable[int | Line], *, day: date | None = None,
                    user_id: int | None = None) -> Reconciliation:
    """Match open debit and credit lines (ids or lines) of one party and account (oldest first).

    This is how an open credit (an over-payment, a credit note) settles another invoice. Lines in
    one foreign currency are matched in that currency; what is then left of them in the company
    currency is the realised exchange difference, booked in the general journal and reconciled too.
    """
    day = day or date.today()
    ledger.check_lock_date(db, day, field="day")
    ids = sorted({value.id if isinstance(value, Line) else _id_of(value) for value in line_ids})
    if 0 in ids:
        raise KontorError(_("Choose lines to reconcile."), field="lines")
    lines = db.execute(select(Line).where(Line.id.in_(ids)).order_by(Line.date, Line.id)).scalars().all() if ids else []
    if len(lines) < 2 or len(lines) != len(ids):
        raise KontorError(_("Choose at least one debit and one credit line."), field="lines")
    accounts = {line.account_id for line in lines}
    parties = {_surviving_party(db, line.party_id) for line in lines}
    if len(accounts) != 1 or len(parties) != 1:
        raise KontorError(_("Reconcile lines of one account and one party."), field="lines")
    account = db.get(Account, accounts.pop())
    if not account.reconcilable or any(line.state != "posted" for line in lines):
        raise KontorError(_("Only posted lines of a reconcilable account can be reconciled."), field="lines")
    currencies = {line.currency if line.amount_currency is not None else None for line in lines}
    in_currency = len(currencies) == 1 and None not in currencies and currencies != {fx.company_currency(db)}
    opens = lines_open(db, lines)
    debits = [line for line in lines if line.debit >= line.credit and opens[line.id][0 if not in_currency else 1] > 0]
    credits = [line for line in lines if line.debit < line.credit and opens[line.id][0 if not in_currency else 1] > 0]
    if not debits or not credits:
        raise KontorError(_("Choose at least one open debit and one open credit line."), field="lines")
    left = {line.id: opens[line.id][1 if in_currency else 0] for line in lines}
    d = c = 0
    while d < len(debits) and c < len(credits):
        a, b = debits[d], credits[c]
        match = min(left[a.id], left[b.id])
        for line in (a, b):
            left[line.id] -= match
        d += left[a.id] == 0
        c += left[b.id] == 0
    parts = []
    for line in lines:
        open_amount, open_currency = opens[line.id]
        basis = open_currency if in_currency else open_amount
        used = basis - left[line.id]
        if used <= 0:
            continue
        if used == basis:
            company, currency_part = open_amount, open_currency
        elif in_currency:
            company, currency_part = _money(open_amount * used / open_currency), used
        else:
            company = used
            currency_part = (open_currency * used / open_amount).quantize(Decimal("0.001")) if open_amount else ZERO
        parts.append([line, company, currency_part if line.amount_currency is not None else None])
    debit_total = sum((p[1] for p in parts if p[0].debit >= p[0].credit), ZERO)
    credit_total = sum((p[1] for p in parts if p[0].debit < p[0].credit), ZERO)
    party_id = parties.pop()
    if debit_total != credit_total:
        parts.append(_exchange_difference_line(db, account, party_id, debit_total - credit_total, day, user_id,
                                               currencies.pop() if in_currency else None))
    return _reconcile(db, [tuple(p) for p in parts], day=day, party_id=party_id, user_id=user_id)


def _exchange_difference_line(db: Session, account: Account, party_id: int | None, difference: Decimal, day: date,
                              user_id: int | None, currency: str | None) -> list:
    """Post what a currency-matched reconciliation leaves in the company currency (debits exceed
    credits by ``difference``) as an exchange loss or gain; returns the part to reconcile."""
    config = ledger.get_config(db)
    amount = abs(difference)
    # debits left over: the receivable is worth less than booked, a loss (credit it); else a gain
    side = {"debit": ZERO, "credit": amount} if difference > 0 else {"debit": amount, "credit": ZERO}
    other = {"debit": side["credit"], "credit": side["debit"]}
    other_account = roles.account_for(db, roles.EXCHANGE_LOSS if difference > 0 else roles.EXCHANGE_GAIN).id
    line = {"account": account.id, "party_id": party_id, "description": _("Exchange difference"), **side}
    if currency:
        line.update(currency=currency, amount_currency=Decimal("0.000"))
    journal = db.get(Journal, config.general_journal_id)
    entry = ledger.create_and_post(db, journal=journal, date=day,
                                   lines=[line, {"account": other_account, "description": _("Exchange difference"),
                                                 **other}],
                                   narration=_("Realised exchange difference"), source=EXCHANGE_SOURCE,
                                   user_id=user_id)
    return [entry.lines[0], amount, Decimal("0.000") if currency else None]


def undo_reconciliation(db: Session, reconciliation: Reconciliation, *, user_id: int | None = None) -> None:
    """Undo a reconciliation made by hand: its lines are open again (and the invoices with them);
    an exchange difference it booked is reversed. A payment's own reconciliation is undone by
    cancelling the payment. Refused on or before the lock date."""
    if reconciliation.payment_id is not None:
        raise KontorError(_("This matching is part of a payment: cancel the payment instead."), field="reconciliation",
                          status=409)
    if not can_undo(db, reconciliation):
        raise KontorError(_("This matching cancels an invoice by its credit note; it stays."),
                          field="reconciliation", status=409)
    ledger.check_lock_date(db, reconciliation.date)
    parts = [(db.get(Line, part.line_id), part.amount, part.amount_currency) for part in reconciliation.lines]
    db.delete(reconciliation)
    db.flush()
    for line, amount, amount_currency in parts:
        entry = db.get(Entry, line.entry_id)
        if entry.source == EXCHANGE_SOURCE and ledger.reversal_of(db, entry) is None:
            reversal = ledger.reverse_entry(db, entry, date=max(reconciliation.date, date_type.today()),
                                            user_id=user_id)
            mirror = next(m for m in reversal.lines if m.account_id == line.account_id)
            _reconcile(db, [(line, amount, amount_currency), (mirror, amount, amount_currency)],
                       day=reversal.date, party_id=line.party_id, user_id=user_id)
    _update_invoices(db, [line.id for line, _a, _c in parts])


def can_undo(db: Session, reconciliation: Reconciliation) -> bool:
    """Whether a reconciliation was made by hand and cancels no invoice (see :func:`undo_reconciliation`)."""
    if reconciliation.payment_id is not None:
        return False
    line_ids = [part.line_id for part in reconciliation.lines]
    cancelled = db.execute(select(Invoice.id).where(Invoice.receivable_line_id.in_(line_ids),
                                                    Invoice.state == "cancelled")).first()
    return cancelled is None


def party_reconciliations(db: Session, party_id: int, limit: int = 20) -> list[Reconciliation]:
    """The party's latest reconciliations, newest first."""
    return list(db.execute(select(Reconciliation).where(Reconciliation.party_id == party_id)
                           .order_by(Reconciliation.date.desc(), Reconciliation.id.desc()).limit(limit)).scalars())


def reconciliations_of_line(db: Session, line_id: int) -> list[ReconciliationLine]:
    """The reconciliation lines that took from ``line_id``, oldest first."""
    return list(db.execute(select(ReconciliationLine).where(ReconciliationLine.line_id == line_id)
                           .order_by(ReconciliationLine.id)).scalars())


def payments_of_invoice(db: Session, invoice_id: int) -> list[tuple[Payment, Decimal]]:
    """The payments allocated to an invoice with the amount each settled, oldest first."""
    rows = db.execute(select(Payment, PaymentAllocation.amount).join(PaymentAllocation)
                      .where(PaymentAllocation.invoice_id == invoice_id).order_by(Payment.date, Payment.id))
    return [(payment, amount) for payment, amount in rows]


def party_merging(db: Session, source_id: int, target_id: int) -> None:
    """Point the reconciliations of party ``source_id`` to ``target_id``; an issued payment keeps the
    party it was made with (its lists follow the merged party, see :func:`party_family`)."""
    from sqlalchemy import update

    db.execute(update(Reconciliation).where(Reconciliation.party_id == source_id).values(party_id=target_id))



def recent_payments(db: Session, party_id: int, limit: int = 5) -> list[Payment]:
    """The party's latest payments, newest first."""
    return list(db.execute(select(Payment).where(Payment.party_id.in_(_family_query(party_id)))
                           .order_by(Payment.date.desc(), Payment.id.desc()).limit(limit)).scalars())
