"""The ledger's services: entries from draft to posted, numbering, the hash chain and the lock date.

Other modules (invoicing, banking, payroll, stock) create and post entries through
:func:`create_entry`, :func:`post_entry`, :func:`create_and_post` and, for many entries at once,
:func:`post_batch`. Every writing service checks the lock date with :func:`check_lock_date`.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core import (
    KontorError, N_, NotFound, acting, current_company_id, gettext as _, hooks, in_company, lock_audit_chain, utcnow,
    write_records,
)

from plugins.accounting.ledger.models import (
    DRAFT, POSTED, Account, Config, Entry, FiscalYear, Journal, JournalSequence, Line, LineTaxBase, Period,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
GENESIS = ""
_PLACES = {2: Decimal("0.01"), 3: Decimal("0.001"), 8: Decimal("0.00000001")}


# -- Lookups --


def get_config(db: Session) -> Config:
    """The current company's accounting settings row (created when its default data is loaded)."""
    config = db.scalar(select(Config).where(Config.company_id == current_company_id(db)))
    if config is None:
        raise KontorError(_("Accounting is not set up: its settings row is missing."), field="config", status=409)
    return config


def locked_company_fields(db: Session) -> dict[str, str]:
    """``{"base_currency": reason}`` once the current company's books hold an entry: its amounts are
    in that currency, and relabelling them as another would change every figure of the books."""
    if db.execute(select(Entry.id).where(Entry.company_id == current_company_id(db)).limit(1)).first() is None:
        return {}
    return {"base_currency": _("The books hold entries in this currency, so it can no longer be changed.")}


def account_by_code(db: Session, code: str) -> Account:
    """The account with ``code``; :class:`NotFound` naming the field ``account`` if there is none."""
    account = db.scalar(select(Account).where(Account.code == str(code).strip(),
                                              Account.company_id == current_company_id(db)))
    if account is None:
        raise NotFound(_("There is no account %(code)s.", code=code), field="account")
    return account


def journal_by_code(db: Session, code: str) -> Journal:
    """The journal with ``code`` (e.g. ``"SAL"``); :class:`NotFound` naming ``journal`` if there is none."""
    journal = db.scalar(select(Journal).where(Journal.code == str(code).strip().upper(),
                                              Journal.company_id == current_company_id(db)))
    if journal is None:
        raise NotFound(_("There is no journal %(code)s.", code=code), field="journal")
    return journal


def lock_date(db: Session) -> Date | None:
    """The current company's lock date: nothing is created, posted, reversed or reconciled on or before it."""
    return db.execute(select(Config.lock_date).where(Config.company_id == current_company_id(db))).scalar()


def check_lock_date(db: Session, day: Date, field: str = "date") -> None:
    """Refuse ``day`` if it is on or before the lock date (a :class:`KontorError` naming ``field``)."""
    if day is None:
        raise KontorError(_("A date is required."), field=field, status=422)
    locked = lock_date(db)
    if locked is not None and day <= locked:
        raise KontorError(_("%(day)s is on or before the lock date %(lock)s.", day=day.isoformat(),
                            lock=locked.isoformat()), field=field, status=422)


def _resolve_journal(db: Session, journal: Journal | int | str) -> Journal:
    if isinstance(journal, Journal):
        return journal
    if isinstance(journal, int) and not isinstance(journal, bool):
        found = db.get(Journal, journal)
        if found is None or found.company_id != current_company_id(db):
            raise NotFound(_("There is no journal %(code)s.", code=journal), field="journal")
        return found
    if isinstance(journal, str) and journal.strip():
        return journal_by_code(db, journal)
    raise KontorError(_("Choose a journal."), field="journal", status=422)


class _Accounts:
    """Accounts by id and code, each read once per call: one by one for an entry, all at once for a batch."""

    def __init__(self, db: Session):
        self.db = db
        self._by_id: dict[int, Account] = {}
        self._by_code: dict[str, Account] = {}
        self._all = False

    def preload(self) -> None:
        """Read the whole chart (a chart has hundreds of rows, not millions)."""
        if not self._all:
            company = current_company_id(self.db)
            for account in self.db.scalars(select(Account).where(Account.company_id == company)).all():
                self._by_id[account.id] = account
                self._by_code[account.code] = account
            self._all = True

    def get(self, value: Any, field: str) -> Account:
        if isinstance(value, Account):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            found = self._by_id.get(value)
            if found is None and not self._all:
                found = self.db.get(Account, value)
        elif isinstance(value, str) and value.strip():
            found = self._by_code.get(value.strip())
            if found is None and not self._all:
                found = self.db.scalar(select(Account).where(Account.code == value.strip(),
                                                             Account.company_id == current_company_id(self.db)))
        else:
            raise KontorError(_("Choose an account."), field=field, status=422)
        if found is None or found.company_id not in (None, current_company_id(self.db)):  # never another company's
            raise KontorError(_("There is no account %(code)s.", code=value), field=field, status=422)
        self._by_id[found.id] = found
        self._by_code[found.code] = found
        return found


def to_amount(value: Any, field: str, places: int = 2) -> Decimal:
    """``value`` (Decimal, int or decimal string) as an exact amount with at most ``places`` decimals."""
    if value is None or value == "":
        return Decimal(0).quantize(_PLACES[places])
    if isinstance(value, float) or isinstance(value, bool):
        raise KontorError(_("Give amounts as decimal strings, not floating point numbers."), field=field, status=422)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise KontorError(_("%(value)s is not a number.", value=value), field=field, status=422) from None
    if not amount.is_finite():
        raise KontorError(_("%(value)s is not a number.", value=value), field=field, status=422)
    exact = amount.quantize(_PLACES[places])
    if exact != amount:
        raise KontorError(_("At most %(places)s decimals.", places=places), field=field, status=422)
    return exact


def _to_date(value: Any, field: str) -> Date:
    if isinstance(value, Date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return Date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise KontorError(_("Give a date as YYYY-MM-DD."), field=field, status=422)


# -- Line data --

LINE_KEYS = ("account", "debit", "credit", "party_id", "description", "currency", "amount_currency", "rate",
             "tax_id", "tax_base_id", "tax_base_ids", "due_date")


def _line_values(spec: dict[str, Any], index: int, accounts: _Accounts, prefix: str = "") -> dict[str, Any]:
    """Clean one line given to :func:`create_entry` into column values (without entry, date, journal, state)."""
    where = f"{prefix}lines[{index}]"
    if not isinstance(spec, dict):
        raise KontorError(_("A line is an object with account, debit and credit."), field=where, status=422)
    unknown = set(spec) - set(LINE_KEYS) - {"account_id"}
    if unknown:
        raise KontorError(_("Unknown line field %(name)s.", name=sorted(unknown)[0]), field=f"{where}.{sorted(unknown)[0]}",
                          status=422)
    account = accounts.get(spec.get("account", spec.get("account_id")), f"{where}.account")
    debit = to_amount(spec.get("debit"), f"{where}.debit")
    credit = to_amount(spec.get("credit"), f"{where}.credit")
    for name, amount in (("debit", debit), ("credit", credit)):
        if amount < 0:
            raise KontorError(_("Amounts are never negative: put the amount on the other side."),
                              field=f"{where}.{name}", status=422)
    if debit > 0 and credit > 0:  # refused when drafted, not first when posted
        raise KontorError(_("A line has either a debit or a credit."), field=f"{where}.debit", status=422)
    currency = (spec.get("currency") or None)
    if currency is not None:
        currency = str(currency).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise KontorError(_("A currency is a three-letter code."), field=f"{where}.currency", status=422)
    amount_currency = spec.get("amount_currency")
    amount_currency = None if amount_currency in (None, "") else to_amount(amount_currency, f"{where}.amount_currency", 3)
    rate = spec.get("rate")
    rate = None if rate in (None, "") else to_amount(rate, f"{where}.rate", 8)
    if amount_currency is not None and currency is None:
        raise KontorError(_("An amount in currency needs its currency."), field=f"{where}.currency", status=422)
    due = spec.get("due_date")
    due = None if due in (None, "") else _to_date(due, f"{where}.due_date")
    description = str(spec.get("description") or "")
    if len(description) > 200:
        raise KontorError(_("At most %(n)s characters.", n=200), field=f"{where}.description", status=422)
    bases = _tax_base_ids(spec, where)
    return {
        "account": account, "account_id": account.id, "debit": debit, "credit": credit,
        "party_id": _optional_id(spec.get("party_id"), f"{where}.party_id"), "description": description,
        "currency": currency, "amount_currency": amount_currency, "rate": rate,
        "tax_id": _optional_id(spec.get("tax_id"), f"{where}.tax_id"),
        "tax_base_id": bases[0] if bases else None, "tax_base_ids": bases, "due_date": due,
    }


def _tax_base_ids(spec: dict[str, Any], where: str) -> list[int]:
    """The taxes a line is the base of: ``tax_base_ids`` (a list) and/or ``tax_base_id`` (first)."""
    first = _optional_id(spec.get("tax_base_id"), f"{where}.tax_base_id")
    given = spec.get("tax_base_ids")
    if given in (None, ""):
        given = []
    if not isinstance(given, (list, tuple)):
        raise KontorError(_("Give the taxes as a list of ids."), field=f"{where}.tax_base_ids", status=422)
    ids = [first] if first is not None else []
    for k, value in enumerate(given):
        number = _optional_id(value, f"{where}.tax_base_ids[{k}]")
        if number is not None and number not in ids:
            ids.append(number)
    return ids


def _new_line(values: dict[str, Any], **columns) -> Line:
    """A :class:`Line` of cleaned ``values`` (see :func:`_line_values`) with its tax bases."""
    fields = {k: v for k, v in values.items() if k != "tax_base_ids"}
    return Line(**fields, **columns, tax_bases=[LineTaxBase(tax_id=t) for t in values["tax_base_ids"]])


def _optional_id(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise KontorError(_("%(value)s is not an id.", value=value), field=field, status=422) from None
    if isinstance(value, (bool, float)) or number <= 0:
        raise KontorError(_("%(value)s is not an id.", value=value), field=field, status=422)
    return number


def _check_header(reference: str, narration: str, source: str) -> None:
    for name, value, size in (("reference", reference, 100), ("source", source, 60)):
        if len(value or "") > size:
            raise KontorError(_("At most %(n)s characters.", n=size), field=name, status=422)


# -- Drafts --


def create_entry(db: Session, *, journal, date, lines, reference: str = "", narration: str = "",
                 source: str = "") -> Entry:
    """Create a draft entry in ``journal`` (a Journal, id or code) dated ``date`` with ``lines``.

    Each line is a dict with ``account`` (Account, id or code), ``debit`` and ``credit`` (Decimal or
    decimal strings; missing means zero) and optionally ``party_id``, ``description``, ``currency``,
    ``amount_currency``, ``rate``, ``tax_id``, ``tax_base_ids`` (every tax the line is the base
    of; ``tax_base_id`` names the first alone), ``due_date``. A draft may be unbalanced; posting
    checks the rules. Refused on or before the lock date.
    """
    jour = _resolve_journal(db, journal)
    day = _to_date(date, "date")
    check_lock_date(db, day)
    _check_header(reference, narration, source)
    if not isinstance(lines, (list, tuple)):
        raise KontorError(_("Lines are a list."), field="lines", status=422)
    accounts = _Accounts(db)
    values = [_line_values(spec, i, accounts) for i, spec in enumerate(lines)]
    entry = Entry(journal=jour, journal_id=jour.id, date=day, reference=reference or "", narration=narration or "",
                  source=source or "", state=DRAFT, previous_hash="", hash="")
    entry.lines = [_new_line(v, date=day, journal_id=jour.id, state=DRAFT) for v in values]
    db.add(entry)
    db.flush()
    return entry


def update_entry(db: Session, entry: Entry, *, journal=None, date=None, lines=None, reference=None,
                 narration=None) -> Entry:
    """Change a draft: any of its header fields, and its lines (``lines`` replaces them all).

    Everything is checked before anything changes: a new date on or before the lock date is a
    :class:`KontorError` naming ``date`` (never the database trigger's refusal).
    """
    _require_draft(entry)
    check_lock_date(db, entry.date)
    jour = _resolve_journal(db, journal) if journal is not None else None
    day = None
    if date is not None:
        day = _to_date(date, "date")
        check_lock_date(db, day)
    if reference is not None or narration is not None:
        _check_header(reference or "", narration or "", "")
    values = None
    if lines is not None:
        if not isinstance(lines, (list, tuple)):
            raise KontorError(_("Lines are a list."), field="lines", status=422)
        accounts = _Accounts(db)
        values = [_line_values(spec, i, accounts) for i, spec in enumerate(lines)]
    if jour is not None:
        entry.journal, entry.journal_id = jour, jour.id
    if day is not None:
        entry.date = day
    if reference is not None:
        entry.reference = reference
    if narration is not None:
        entry.narration = narration
    if values is not None:
        entry.lines = [_new_line(v, date=entry.date, journal_id=entry.journal_id, state=DRAFT) for v in values]
    for line in entry.lines:
        line.date, line.journal_id = entry.date, entry.journal_id
    db.flush()
    return entry


def delete_entry(db: Session, entry: Entry) -> None:
    """Delete a draft (a posted entry is never deleted: reverse it)."""
    _require_draft(entry)
    db.delete(entry)
    db.flush()


def _require_draft(entry: Entry) -> None:
    if entry.state != DRAFT:
        raise KontorError(_("Entry %(number)s is posted: it cannot be changed or deleted, only reversed.",
                            number=entry.number), field="state", status=409)


# -- Posting rules --


@dataclass
class _Calendar:
    """Fiscal years and periods, read once, to place dates quickly."""

    starts: list[Date]
    periods: list[Period]
    years: dict[int, FiscalYear]

    @classmethod
    def load(cls, db: Session) -> _Calendar:
        periods = db.scalars(select(Period).order_by(Period.start_date)).all()
        years = {fy.id: fy for fy in db.scalars(select(FiscalYear)).all()}
        return cls([p.start_date for p in periods], list(periods), years)

    def place(self, day: Date, field: str = "date", *, allow_closed_period: bool = False) -> tuple[FiscalYear, Period]:
        i = bisect_right(self.starts, day) - 1
        period = self.periods[i] if i >= 0 else None
        if period is None or day > period.end_date:
            raise KontorError(_("No fiscal year covers %(day)s; create it first.", day=day.isoformat()),
                              field=field, status=422)
        year = self.years[period.fiscal_year_id]
        if year.state != "open":
            raise KontorError(_("The fiscal year %(name)s is closed.", name=year.name), field=field, status=422)
        if period.state != "open" and not allow_closed_period:
            raise KontorError(_("The period %(name)s is closed.", name=period.name), field=field, status=422)
        return year, period


def place_date(db: Session, day: Date, field: str = "date", *, allow_closed_period: bool = False) -> FiscalYear:
    """The open fiscal year whose open period holds ``day``; a :class:`KontorError` naming ``field`` if none."""
    period = db.scalar(select(Period).where(Period.start_date <= day, Period.end_date >= day))
    if period is None:
        raise KontorError(_("No fiscal year covers %(day)s; create it first.", day=day.isoformat()),
                          field=field, status=422)
    year = db.get(FiscalYear, period.fiscal_year_id)
    if year.state != "open":
        raise KontorError(_("The fiscal year %(name)s is closed.", name=year.name), field=field, status=422)
    if period.state != "open" and not allow_closed_period:
        raise KontorError(_("The period %(name)s is closed.", name=period.name), field=field, status=422)
    return year


def _check_postable(lines: list[dict[str, Any]], prefix: str = "") -> None:
    """The rules a posted entry obeys, on plain line values; each refusal names the field at fault."""
    if len(lines) < 2:
        raise KontorError(_("An entry needs at least two lines."), field=f"{prefix}lines", status=422)
    total_debit = total_credit = ZERO
    for i, line in enumerate(lines):
        where = f"{prefix}lines[{i}]"
        debit, credit = line["debit"], line["credit"]
        if debit < 0 or credit < 0:
            raise KontorError(_("Amounts are never negative: put the amount on the other side."),
                              field=f"{where}.{'debit' if debit < 0 else 'credit'}", status=422)
        if (debit > 0) == (credit > 0):
            raise KontorError(_("A line has either a debit or a credit."), field=f"{where}.debit", status=422)
        account = line["account"]
        if not account.active:
            raise KontorError(_("The account %(code)s is inactive.", code=account.code), field=f"{where}.account",
                              status=422)
        if not account.postable:
            raise KontorError(_("The account %(code)s is a group: post on one of its accounts.", code=account.code),
                              field=f"{where}.account", status=422)
        total_debit += debit
        total_credit += credit
    if total_debit != total_credit:
        raise KontorError(_("The entry does not balance: debit %(debit)s, credit %(credit)s.", debit=total_debit,
                            credit=total_credit), field=f"{prefix}lines", status=422)


def _fmt(value: Decimal | None, places: int) -> str:
    return "" if value is None else str(Decimal(value).quantize(_PLACES[places]))


def entry_hash(previous_hash: str, journal_code: str, number: str, day: Date,
               lines: Iterable[tuple[str, int | None, Decimal, Decimal, str | None, Decimal | None]]) -> str:
    """SHA-256 of the chain's previous hash and the entry's canonical text.

    The text holds the journal, number and date, then per line (in line order) the account code,
    party, debit, credit, currency and amount in currency.
    """
    parts = [previous_hash, journal_code, number, day.isoformat()]
    for code, party_id, debit, credit, currency, amount_currency in lines:
        parts.append("|".join((code, "" if party_id is None else str(party_id), _fmt(debit, 2), _fmt(credit, 2),
                               currency or "", _fmt(amount_currency, 3))))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _number(journal: Journal, year: FiscalYear, sequence: int) -> str:
    return f"{journal.code}/{year.name}/{sequence:05d}"


def _lock_journals(db: Session, journal_ids: Iterable[int]) -> dict[int, str]:
    """Lock the journals' rows (PostgreSQL ``FOR UPDATE``; SQLite holds the write lock already).

    Serialises numbering and the hash chain per journal; returns each chain head as stored.
    Locks are taken in id order so two batches never deadlock.
    """
    ids = sorted(set(journal_ids))
    # Every audited write locks the audit chain's head, often before the posting starts (the
    # draft's INSERT). Taking it here first too keeps one lock order (audit head, then journals)
    # for every transaction, so concurrent postings queue instead of deadlocking.
    lock_audit_chain(db)
    # NO KEY UPDATE: the drafts' foreign keys hold KEY SHARE locks on the journal row, which an
    # ordinary FOR UPDATE would wait for.
    rows = db.execute(select(Journal.id, Journal.last_hash).where(Journal.id.in_(ids)).order_by(Journal.id)
                      .with_for_update(key_share=True)).all()
    return {row.id: row.last_hash for row in rows}


def _take_numbers(db: Session, journal_id: int, year_id: int, count: int) -> int:
    """Reserve ``count`` consecutive numbers of a journal in a fiscal year; returns the first.

    Called with the journal row locked, so the read-then-write of the counter cannot race.
    """
    seq = db.execute(select(JournalSequence.next_number).where(
        JournalSequence.journal_id == journal_id, JournalSequence.fiscal_year_id == year_id)).scalar()
    if seq is None:
        db.execute(insert(JournalSequence).values(journal_id=journal_id, fiscal_year_id=year_id, next_number=1 + count))
        return 1
    db.execute(update(JournalSequence).where(JournalSequence.journal_id == journal_id,
                                             JournalSequence.fiscal_year_id == year_id)
               .values(next_number=seq + count))
    return seq


def post_entry(db: Session, entry: Entry, *, user_id: int | None = None, _closing: bool = False) -> Entry:
    """Post a draft: check the rules, take the next gapless number, hash it into the journal's chain.

    Rules (each refusal a :class:`KontorError` naming the field): at least two lines, each a debit
    or a credit and never negative, on active postable accounts; Σdebit = Σcredit; the date after
    the lock date, in an open period of an open fiscal year; the journal active. The number is
    taken inside the caller's transaction with the journal row locked, so a rollback leaves no
    gap. ``user_id`` is who posts it (default: the acting user, :func:`core.acting`). Calls the
    ``accounting_entry_posted`` hook.
    """
    if user_id is None:
        user_id = acting().user_id
    if entry.state == POSTED:
        raise KontorError(_("Entry %(number)s is already posted.", number=entry.number), field="state", status=409)
    values = [{"account": line.account, "debit": line.debit or ZERO, "credit": line.credit or ZERO}
              for line in entry.lines]
    _check_postable(values)
    check_lock_date(db, entry.date)
    journal = entry.journal
    if not journal.active:
        raise KontorError(_("The journal %(code)s is inactive.", code=journal.code), field="journal", status=422)
    year = place_date(db, entry.date, allow_closed_period=_closing)
    heads = _lock_journals(db, [journal.id])
    sequence = _take_numbers(db, journal.id, year.id, 1)
    number = _number(journal, year, sequence)
    previous = heads[journal.id]
    digest = entry_hash(previous, journal.code, number, entry.date,
                        [(line.account.code, line.party_id, line.debit, line.credit, line.currency,
                          line.amount_currency) for line in entry.lines])
    entry.fiscal_year_id, entry.sequence, entry.number = year.id, sequence, number
    entry.posted_at, entry.posted_by_id = utcnow(), user_id
    entry.previous_hash, entry.hash, entry.state = previous, digest, POSTED
    for line in entry.lines:
        line.state, line.date, line.journal_id = POSTED, entry.date, journal.id
    db.execute(update(Journal).where(Journal.id == journal.id).values(last_hash=digest))
    set_committed_value(journal, "last_hash", digest)
    db.flush()
    hooks().accounting_entry_posted(entry=entry, session=db)
    return entry


def create_and_post(db: Session, *, user_id: int | None = None, **kwargs) -> Entry:
    """:func:`create_entry` then :func:`post_entry`, in the caller's transaction."""
    entry = create_entry(db, **kwargs)
    return post_entry(db, entry, user_id=user_id)


# -- The batch path --


def _reserve_ids(db: Session, table: str, count: int) -> list[int]:
    """``count`` new ids of ``table`` taken before the INSERT, so it needs no RETURNING round trips."""
    if count == 0:
        return []
    if db.get_bind().dialect.name == "postgresql":
        stmt = text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)")
        return sorted(db.execute(stmt, {"n": count}).scalars())
    # SQLite: the write lock is held from here to the insert, so max(id) cannot move meanwhile
    start = db.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one() + 1
    return list(range(start, start + count))


_ENTRY_AUDIT = ("journal_id", "date", "reference", "narration", "state", "fiscal_year_id", "sequence", "number",
                "posted_at", "posted_by_id", "reversal_of_id", "source", "previous_hash", "hash", "created_at", "company_id")
_LINE_AUDIT = ("entry_id", "account_id", "party_id", "description", "debit", "credit", "currency", "amount_currency",
               "rate", "tax_id", "tax_base_id", "due_date", "date", "journal_id", "state", "company_id")


def post_batch(db: Session, specs: list[dict[str, Any]], user_id: int | None = None) -> list[Entry]:
    """Create and post many entries in the caller's transaction: the fast path for other modules.

    Each spec holds the keyword arguments of :func:`create_entry` (and optionally
    ``reversal_of_id``). Every entry is checked like :func:`post_entry` before anything is
    written (a refusal names the field as ``entries[i].…``). Then entries and lines go in with
    one executemany INSERT each, numbers are taken with one counter update per journal and year,
    hashes are chained in order, and one audit record per row is written in bulk. Returns the
    posted entries, in order, with their lines. ``user_id`` is who posts them (default: the acting
    user).
    """
    if not specs:
        return []
    if user_id is None:
        user_id = acting().user_id
    accounts = _Accounts(db)
    accounts.preload()
    calendar = _Calendar.load(db)
    journals: dict[Any, Journal] = {}
    locked = lock_date(db)
    prepared = []
    for i, spec in enumerate(specs):
        prefix = f"entries[{i}]."
        unknown = set(spec) - {"journal", "date", "lines", "reference", "narration", "source", "reversal_of_id"}
        if unknown:
            raise KontorError(_("Unknown field %(name)s.", name=sorted(unknown)[0]), field=prefix + sorted(unknown)[0],
                              status=422)
        key = spec.get("journal")
        key = key.id if isinstance(key, Journal) else key
        try:
            journal = journals.get(key) or _resolve_journal(db, spec.get("journal"))
        except KontorError as exc:
            raise KontorError(exc.message, field=prefix + (exc.field or "journal"), status=422) from None
        journals[key] = journal
        if not journal.active:
            raise KontorError(_("The journal %(code)s is inactive.", code=journal.code), field=prefix + "journal",
                              status=422)
        day = _to_date(spec.get("date"), prefix + "date")
        if locked is not None and day <= locked:
            raise KontorError(_("%(day)s is on or before the lock date %(lock)s.", day=day.isoformat(),
                                lock=locked.isoformat()), field=prefix + "date", status=422)
        year, _period = calendar.place(day, prefix + "date")
        reference, narration, source = spec.get("reference") or "", spec.get("narration") or "", spec.get("source") or ""
        try:
            _check_header(reference, narration, source)
        except KontorError as exc:
            raise KontorError(exc.message, field=prefix + exc.field, status=422) from None
        lines = spec.get("lines")
        if not isinstance(lines, (list, tuple)):
            raise KontorError(_("Lines are a list."), field=prefix + "lines", status=422)
        values = [_line_values(line, j, accounts, prefix) for j, line in enumerate(lines)]
        _check_postable(values, prefix)
        prepared.append((journal, year, day, reference, narration, source, spec.get("reversal_of_id"), values))

    heads = _lock_journals(db, [j.id for j in journals.values()])
    counts: dict[tuple[int, int], int] = {}
    for journal, year, *_rest in prepared:
        counts[(journal.id, year.id)] = counts.get((journal.id, year.id), 0) + 1
    next_numbers = {key: _take_numbers(db, key[0], key[1], n) for key, n in sorted(counts.items())}

    entry_ids = _reserve_ids(db, "accounting_entry", len(prepared))
    line_ids = iter(_reserve_ids(db, "accounting_line", sum(len(p[-1]) for p in prepared)))
    now = utcnow()
    entry_rows, line_rows, base_rows = [], [], []
    for entry_id, (journal, year, day, reference, narration, source, reversal_of_id, values) in zip(entry_ids, prepared):
        key = (journal.id, year.id)
        sequence = next_numbers[key]
        next_numbers[key] = sequence + 1
        number = _number(journal, year, sequence)
        previous = heads[journal.id]
        digest = entry_hash(previous, journal.code, number, day,
                            [(v["account"].code, v["party_id"], v["debit"], v["credit"], v["currency"],
                              v["amount_currency"]) for v in values])
        heads[journal.id] = digest
        entry_rows.append({
            "id": entry_id, "journal_id": journal.id, "date": day, "reference": reference, "narration": narration,
            "state": DRAFT, "fiscal_year_id": year.id, "sequence": sequence, "number": number, "posted_at": now,
            "posted_by_id": user_id, "reversal_of_id": reversal_of_id, "source": source, "previous_hash": previous,
            "hash": digest, "created_at": now, "company_id": journal.company_id,
        })
        for v in values:
            row = {k: v[k] for k in _LINE_AUDIT if k in v}
            row.update(id=next(line_ids), entry_id=entry_id, date=day, journal_id=journal.id, state=POSTED,
                       company_id=journal.company_id)
            line_rows.append(row)
            base_rows.extend({"line_id": row["id"], "tax_id": tax_id} for tax_id in v["tax_base_ids"])
    # Entries go in as drafts so that their lines may join them (a posted entry takes no new
    # line: a trigger refuses it), then one UPDATE posts them all.
    db.execute(insert(Entry.__table__), entry_rows)
    db.execute(insert(Line.__table__), line_rows)
    if base_rows:
        db.execute(insert(LineTaxBase.__table__), base_rows)
    db.execute(update(Entry.__table__).where(Entry.__table__.c.id.in_(entry_ids)).values(state=POSTED))
    for journal_id, digest in heads.items():
        db.execute(update(Journal).where(Journal.id == journal_id).values(last_hash=digest))
    for row in entry_rows:
        row["state"] = POSTED
    write_records(db, [
        {"action": "insert", "table_name": "accounting_entry", "record_id": row["id"],
         "changes": {k: [None, row[k]] for k in _ENTRY_AUDIT} | {"id": [None, row["id"]]}}
        for row in entry_rows
    ] + [
        {"action": "insert", "table_name": "accounting_line", "record_id": row["id"],
         "changes": {k: [None, row.get(k)] for k in _LINE_AUDIT} | {"id": [None, row["id"]]}}
        for row in line_rows
    ] + [
        {"action": "insert", "table_name": "accounting_line_tax_base", "record_id": f"{row['line_id']}/{row['tax_id']}",
         "changes": {k: [None, row[k]] for k in ("line_id", "tax_id")}}
        for row in base_rows
    ])
    for journal in journals.values():
        if journal.id in heads:
            set_committed_value(journal, "last_hash", heads[journal.id])
    entries = _attach(db, entry_rows, line_rows, {j.id: j for j in journals.values()}, accounts)
    relay = hooks()
    for entry in entries:
        relay.accounting_entry_posted(entry=entry, session=db)
    return entries


def _attach(db: Session, entry_rows: list[dict], line_rows: list[dict], journals: dict[int, Journal],
            accounts: _Accounts) -> list[Entry]:
    """ORM objects for rows just inserted, made persistent in ``db`` without reading them back."""
    # Built the way a query loads rows: straight into the instance's dict, then marked as
    # persistent, without the attribute events a constructor fires for every column.
    line_manager, entry_manager = Line._sa_class_manager, Entry._sa_class_manager
    by_entry: dict[int, list[Line]] = {}
    for row in line_rows:
        line = line_manager.new_instance()
        line.__dict__.update(row)
        make_transient_to_detached(line)
        by_entry.setdefault(row["entry_id"], []).append(line)
    entries = []
    for row in entry_rows:
        entry = entry_manager.new_instance()
        entry.__dict__.update(row)
        make_transient_to_detached(entry)
        lines = by_entry.get(row["id"], [])
        set_committed_value(entry, "lines", lines)
        set_committed_value(entry, "journal", journals[row["journal_id"]])
        for line in lines:
            set_committed_value(line, "entry", entry)
            set_committed_value(line, "account", accounts.get(line.account_id, "account"))
        db.add(entry)
        entries.append(entry)
    return entries


# -- Reversal --


def reversal_of(db: Session, entry: Entry) -> Entry | None:
    """The entry that reverses ``entry``, if any."""
    return db.scalar(select(Entry).where(Entry.reversal_of_id == entry.id))


#: Entries booked by a document: corrected through that document (a credit note, cancelling the
#: payment), whose own records (residuals, matchings) a bare reversal would leave behind.
DOCUMENT_SOURCES = {"invoice": N_("an invoice"), "payment": N_("a payment")}


def made_by_document(entry: Entry) -> str | None:
    """The kind of document that booked ``entry`` ("invoice", "payment"), or None."""
    kind = (entry.source or "").partition(":")[0]
    return kind if kind in DOCUMENT_SOURCES else None


def reverse_entry(db: Session, entry: Entry, *, date=None, user_id: int | None = None,
                  by_document: bool = False, _reopening: bool = False) -> Entry:
    """Post the reversal of a posted entry: the same lines with debit and credit swapped, linked to it.

    ``date`` defaults to the entry's own date when that is still open, else today. An entry is
    reversed once. An entry booked by an invoice or a payment is reversed only by that document's
    own act (``by_document``): a credit note, or cancelling the payment. A fiscal year's closing
    entry is reversed only by reopening that year (:func:`years.reopen_year
    <plugins.accounting.ledger.years.reopen_year>`, an accountant's act), which passes
    ``_reopening``.
    """
    if entry.state != POSTED:
        raise KontorError(_("Only a posted entry is reversed; a draft is edited or deleted."), field="state", status=409)
    document = made_by_document(entry)
    if document and not by_document:
        raise KontorError(_("Entry %(number)s was booked by %(document)s; correct it there (a credit note, or "
                            "cancelling the payment).", number=entry.number, document=_(DOCUMENT_SOURCES[document])),
                          field="state", status=409)
    existing = reversal_of(db, entry)
    if existing is not None:
        raise KontorError(_("Entry %(number)s is already reversed by %(by)s.", number=entry.number, by=existing.number),
                          field="state", status=409)
    closed_year = db.scalar(select(FiscalYear).where(FiscalYear.closing_entry_id == entry.id))
    if closed_year is not None and not _reopening:
        raise KontorError(_("Entry %(number)s closes the fiscal year %(name)s: reopen that year instead (on the "
                            "fiscal years page).", number=entry.number, name=closed_year.name),
                          field="state", status=409)
    if date in (None, ""):
        day = entry.date
        locked = lock_date(db)
        try:
            if closed_year is None:
                place_date(db, day)
            if locked is not None and day <= locked:
                raise KontorError("", field="date")
        except KontorError:
            day = Date.today()
    else:
        day = _to_date(date, "date")
    check_lock_date(db, day)
    if closed_year is not None:
        closed_year.state = "open"
        closed_year.closing_entry_id = None
        db.flush()
    lines = [{"account": line.account, "debit": line.credit, "credit": line.debit, "party_id": line.party_id,
              "description": line.description, "currency": line.currency,
              "amount_currency": None if line.amount_currency is None else -line.amount_currency,
              "rate": line.rate, "tax_id": line.tax_id, "tax_base_ids": line.tax_base_ids or
              ([line.tax_base_id] if line.tax_base_id else []), "due_date": line.due_date}
             for line in entry.lines]
    reversal = create_entry(db, journal=entry.journal, date=day, lines=lines,
                            reference=(_("Reversal of %(number)s", number=entry.number))[:100],
                            narration=entry.narration, source=entry.source)
    reversal.reversal_of_id = entry.id
    return post_entry(db, reversal, user_id=user_id, _closing=closed_year is not None)


# -- Verification of the chains --


@dataclass(frozen=True)
class ChainBreak:
    """The first entry of a journal whose stored hash does not match its recomputation."""

    journal: str
    number: str
    entry_id: int
    reason: str
    company_id: int = 0


def verify_chains(db: Session) -> tuple[int, list[ChainBreak]]:
    """Recompute the hash chain of every journal in scope (the current company's, for a user); returns
    the entries checked and the first break per journal. :func:`verify_every_company` checks them all."""
    checked, breaks = 0, []
    codes = dict(db.execute(select(Account.id, Account.code)).all())
    for journal in db.scalars(select(Journal).order_by(Journal.company_id, Journal.code)).all():
        previous = GENESIS
        broken = None
        entries = db.execute(
            select(Entry.id, Entry.number, Entry.date, Entry.previous_hash, Entry.hash)
            .where(Entry.journal_id == journal.id, Entry.state == POSTED)
            .order_by(Entry.posted_at, Entry.id)
        ).all()
        lines_of: dict[int, list] = {}
        for row in db.execute(select(Line.entry_id, Line.account_id, Line.party_id, Line.debit, Line.credit,
                                     Line.currency, Line.amount_currency, Line.state)
                              .join(Entry, Entry.id == Line.entry_id)
                              .where(Entry.journal_id == journal.id, Entry.state == POSTED)
                              .order_by(Line.entry_id, Line.id)):
            lines_of.setdefault(row.entry_id, []).append(row)
        for entry in entries:
            checked += 1
            lines = lines_of.get(entry.id, [])
            if entry.previous_hash != previous:
                broken = _("its previous hash does not match the hash of the entry before it")
            elif any(line.state != POSTED for line in lines):
                broken = _("one of its lines is not posted")
            else:
                digest = entry_hash(previous, journal.code, entry.number, entry.date,
                                    [(codes.get(line.account_id, "?"), line.party_id, line.debit, line.credit,
                                      line.currency, line.amount_currency) for line in lines])
                if digest != entry.hash:
                    broken = _("its content does not match its hash")
            if broken:
                breaks.append(ChainBreak(journal.code, entry.number or "", entry.id, broken, journal.company_id))
                break
            previous = entry.hash
        if not broken and journal.last_hash != previous:
            breaks.append(ChainBreak(journal.code, "", 0, _("the journal's chain head does not match its last entry"),
                                     journal.company_id))
    return checked, breaks


def verify_every_company(db: Session) -> dict[int, tuple[int, list[ChainBreak]]]:
    """The platform's check of the books of every company (whoever runs it): ``{company id: (posted
    entries checked, the first break of each of its journals)}``, for each company with a journal."""
    from core import all_companies

    with all_companies():
        companies = db.scalars(select(Journal.company_id).distinct().order_by(Journal.company_id)).all()
        results = {}
        for company_id in companies:
            with in_company(company_id):
                results[company_id] = verify_chains(db)
    return results


def get_entry(db: Session, entry_id: int) -> Entry:
    """The entry with ``entry_id``; :class:`NotFound` if there is none."""
    entry = db.get(Entry, entry_id)
    if entry is None:
        raise NotFound(_("There is no entry %(id)s.", id=entry_id), field="id")
    return entry


def entry_totals(entry: Entry) -> tuple[Decimal, Decimal]:
    """Σdebit and Σcredit of an entry's lines."""
    return (sum((line.debit or ZERO for line in entry.lines), ZERO),
            sum((line.credit or ZERO for line in entry.lines), ZERO))


def account_balances(db: Session, *, date_to: Date | None = None, date_from: Date | None = None) -> dict[int, Decimal]:
    """Posted balance (debit − credit) of each account with lines, by SQL aggregate."""
    stmt = select(Line.account_id, func.sum(Line.debit), func.sum(Line.credit)).where(Line.state == POSTED)
    if date_from is not None:
        stmt = stmt.where(Line.date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Line.date <= date_to)
    return {account_id: (debit or ZERO) - (credit or ZERO)
            for account_id, debit, credit in db.execute(stmt.group_by(Line.account_id))}


# -- Listing --


def list_entries(db: Session, *, journal_id: int | None = None, state: str = "", date_from: Date | None = None,
                 date_to: Date | None = None, account_id: int | None = None, q: str = "", sort: str = "-date",
                 cursor: str | None = None, size: int = 50):
    """A keyset page of entries, filtered by journal, state, date range, account (any of its lines)
    and a search over number and reference."""
    from core import keyset_page

    stmt = select(Entry)
    filters: dict[str, str] = {}
    if journal_id:
        stmt = stmt.where(Entry.journal_id == journal_id)
        filters["journal"] = str(journal_id)
    if state in (DRAFT, POSTED):
        stmt = stmt.where(Entry.state == state)
        filters["state"] = state
    if date_from:
        stmt = stmt.where(Entry.date >= date_from)
        filters["date_from"] = date_from.isoformat()
    if date_to:
        stmt = stmt.where(Entry.date <= date_to)
        filters["date_to"] = date_to.isoformat()
    if account_id:
        stmt = stmt.where(Entry.id.in_(select(Line.entry_id).where(Line.account_id == account_id)))
        filters["account"] = str(account_id)
    needle = (q or "").strip()
    if needle:
        pattern = f"%{needle.lower()}%"
        stmt = stmt.where(func.lower(func.coalesce(Entry.number, "")).like(pattern)
                          | func.lower(Entry.reference).like(pattern))
    return keyset_page(db, stmt, sort_keys={"date": Entry.date, "id": Entry.id},
                       id_column=Entry.id, sort=sort or "-date", cursor=cursor, size=size, query=needle,
                       filters=filters)
