"""Accounting: the double-entry ledger, invoices and bills, payments, tax and financial reports.

This package is accounting's public API for other modules (see docs/accounting.md, "Public API
for other modules"). A module that depends on ``accounting`` imports these names from
``plugins.accounting`` alone, never from its areas:

- :func:`post_entry` creates and posts one journal entry, :func:`post_batch` many at once (the
  fast path for a stock valuation or a payroll run), :func:`reverse_entry` reverses a posted one
  and :func:`get_entry` reads one back; each runs in the caller's transaction and raises a
  ``core.KontorError`` subclass naming the field at fault;
- :class:`AccountRole` and :func:`account_for`: a module declares the accounts it posts to by
  role (the hook ``accounting_account_roles``) and asks which account a role maps to;
- :func:`open_items` and :func:`party_balance` tell what a party owes and is owed;
- :func:`to_company` converts an amount in a currency to the company currency at the rate of a day;
- the hooks ``accounting_entry_posted``, ``accounting_invoice_posted``, ``accounting_invoice_paid``
  and ``accounting_payment_registered`` announce what happened (:mod:`plugins.accounting.hookspecs`).

The functions import the areas when called, so importing this package loads nothing else.
"""
from __future__ import annotations

from datetime import date as Date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from plugins.accounting.banking.services import PartyBalance
    from plugins.accounting.ledger.models import Account, Entry
    from plugins.accounting.ledger.roles import AccountRole

__all__ = ["AccountRole", "account_for", "get_entry", "open_items", "party_balance", "post_batch", "post_entry",
           "reverse_entry", "to_company"]


def __getattr__(name: str):
    if name == "AccountRole":  # the class, imported when first asked for
        from plugins.accounting.ledger.roles import AccountRole

        return AccountRole
    raise AttributeError(f"module 'plugins.accounting' has no attribute {name!r}")


def post_entry(session: Session, *, journal: Any, date: Any, lines: list[dict[str, Any]], reference: str = "",
               narration: str = "", source: str = "", user_id: int | None = None) -> Entry:
    """Create and post a journal entry in ``journal`` (a code such as ``"GEN"``, or an id) on ``date``.

    Each line is a dict with ``account`` (a code, an id or an Account: ask :func:`account_for` for
    a role's), ``debit`` or ``credit`` (``Decimal`` or a decimal string) and optionally
    ``party_id``, ``description``, ``currency``, ``amount_currency``, ``rate``, ``due_date``.
    ``source`` names what booked it (``"stock:move:42"``). Posted by ``user_id`` (default: the
    acting user). Refused (``InvalidInput``/``Conflict`` naming the field) when unbalanced, on or
    before the lock date, or in a closed period. Returns the posted entry (``number``, ``lines``).
    """
    from plugins.accounting.ledger import services

    return services.create_and_post(session, journal=journal, date=date, lines=lines, reference=reference,
                                    narration=narration, source=source, user_id=user_id)


def post_batch(session: Session, specs: list[dict[str, Any]], user_id: int | None = None) -> list[Entry]:
    """Create and post many entries at once: each spec holds :func:`post_entry`'s keyword arguments.

    Every entry is checked before anything is written (a refusal names ``entries[i].<field>``);
    numbers, hashes and audit records are written in bulk. Returns the posted entries in order.
    """
    from plugins.accounting.ledger import services

    return services.post_batch(session, specs, user_id=user_id)


def reverse_entry(session: Session, entry: Entry, *, date: Any = None, user_id: int | None = None) -> Entry:
    """Post the reversal of the posted ``entry`` (debits and credits swapped) and return it.

    ``date`` defaults to the entry's own date while that is open, else today. An entry is
    reversed once; one booked by an invoice or a payment only by that document (``Conflict``).
    """
    from plugins.accounting.ledger import services

    return services.reverse_entry(session, entry, date=date, user_id=user_id)


def get_entry(session: Session, entry_id: Any) -> Entry:
    """The entry ``entry_id`` with its lines; ``core.NotFound`` when there is none."""
    from plugins.accounting.ledger import services

    return services.get_entry(session, entry_id)


def account_for(session: Session, role: str | AccountRole) -> Account:
    """The account postings for ``role`` (``"accounting.receivable"``, ``"inventory.stock"``) go to.

    The account the company mapped the role to on Accounting → Settings → Account roles, else the
    role's ``default_code`` account while the chart has it; ``core.Conflict`` naming the role when
    neither (and ``core.InvalidInput`` when no enabled module declares the role).
    """
    from plugins.accounting.ledger import roles

    return roles.account_for(session, role)


def open_items(session: Session, party_id: int | None = None, kind: str = "receivable",
               on: Date | None = None) -> list[dict[str, Any]]:
    """The open receivable (``kind="receivable"``) or payable lines, oldest due first.

    Each is a dict: ``line_id``, ``entry_id``, ``number``, ``date``, ``due_date``, ``party_id``,
    ``party_name``, ``account_code``, the signed ``amount`` and ``open`` amount in the company
    currency (positive for a debit), ``currency`` and ``open_currency``, and ``invoice_id`` /
    ``invoice_number`` when an invoice booked it. A merged party's lines count as the survivor's.
    With ``on``, as they stood that day.
    """
    from plugins.accounting.banking import services

    return services.open_items(session, party_id, kind, on)


def party_balance(session: Session, party_id: int, on: Date | None = None) -> PartyBalance:
    """What party ``party_id`` owes and is owed on ``on`` (today): ``receivable``, ``payable``,
    ``balance`` (receivable − payable), ``overdue`` and ``overdue_payable``, all ``Decimal`` in the
    company currency."""
    from plugins.accounting.banking import services

    return services.party_balance(session, party_id, on)


def to_company(session: Session, amount: Any, currency: str, on: Date) -> tuple[Decimal, Decimal]:
    """``amount`` (a ``Decimal`` or decimal string) in ``currency`` converted to the company currency
    at the rate of ``on`` (the latest rate dated on or before it), rounded half up to the company
    currency's minor unit; returns ``(company amount, rate)``, the rate 1 for the company currency.

    ``core.KontorError`` naming ``currency`` when the currency is unknown or has no rate on or
    before ``on``, naming ``amount`` when it is not a number; a float is refused with ``TypeError``.
    """
    from plugins.accounting.currencies import services

    return services.to_company(session, amount, currency, on)
