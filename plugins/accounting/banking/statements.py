"""Bank statements: import (CSV with a column mapping, ISO 20022 camt.053), matching, confirmation.

A statement line is matched by confirming a suggestion (an open invoice found by its amount, by
its number in the remittance text, or by the counterparty's name), by picking another invoice,
or by booking it to an account; the first two register a payment, the last posts an entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, Party, gettext as _, map_rows, read_csv

from plugins.accounting.banking.models import Statement, StatementLine
from plugins.accounting.banking import services as payments
from plugins.accounting.banking.services import ZERO
from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing.models import OPEN_STATES, Invoice
from plugins.accounting.ledger.models import Account

#: The fields a CSV column can be mapped to, and the header names each usually goes by.
CSV_FIELDS = {
    "date": ("booking date", "bogføringsdato", "dato", "datum", "buchungstag", "data", "päivämäärä", "bokföringsdag"),
    "amount": ("beløb", "betrag", "kwota", "summa", "belopp", "value"),
    "debit": ("withdrawal", "out", "debet", "soll", "udbetaling"),
    "credit": ("deposit", "in", "kredit", "haben", "indbetaling"),
    "description": ("text", "tekst", "verwendungszweck", "opis", "selitys", "memo", "details"),
    "reference": ("ref", "reference", "referenz", "tytuł", "viite", "referens"),
    "counterparty": ("name", "payee", "payer", "modtager", "empfänger", "kontrahent", "nimi", "mottagare"),
    "balance": ("saldo", "kontostand", "balance after"),
}
#: How numbers are written: decimal mark and thousands separators.
NUMBER_FORMATS = {
    "1,234.56": (".", ","),
    "1.234,56": (",", "."),
    "1 234,56": (",", " "),
    "1'234.56": (".", "'"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d.%m.%y")
MAX_LINES = 20000
#: Lines stored per flush (and per commit, in a job).
LINE_CHUNK = 500


@dataclass
class ParsedLine:
    """A statement line read from a file, before it is stored."""

    date: date
    amount: Decimal
    description: str = ""
    reference: str = ""
    counterparty: str = ""
    counterparty_account: str = ""
    balance: Decimal | None = None


@dataclass
class ParsedStatement:
    """A statement read from a file."""

    lines: list[ParsedLine]
    name: str = ""
    currency: str | None = None
    account_number: str = ""
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    date: date | None = None


class StatementFileError(KontorError):
    """The file has bad rows: ``problems`` lists each as (line, reason). Nothing was imported."""

    def __init__(self, problems: list[tuple[int, str]]):
        summary = "; ".join(_("line %(line)s: %(reason)s", line=line, reason=reason) for line, reason in problems[:20])
        more = len(problems) - 20
        if more > 0:
            summary += " " + _("(and %(count)s more)", count=more)
        super().__init__(_("The file has %(count)s bad rows, nothing was imported: %(rows)s", count=len(problems),
                           rows=summary), field="file", status=422)
        self.problems = problems


# -- Reading CSV --


def parse_number(text: str, number_format: str) -> Decimal:
    """A decimal from ``text`` written in ``number_format`` (a key of NUMBER_FORMATS); ValueError if not.

    Thousands separators must group by three, so a number written in another format is refused
    rather than misread ("1.250,00" is not 1.25 in the "1,234.56" format).
    """
    decimal_mark, thousands = NUMBER_FORMATS[number_format]
    value = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    value = _CURRENCY_SIGNS.sub("", value).strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        value, negative = value[1:-1].strip(), True
    if value.endswith("-"):
        value, negative = value[:-1].strip(), True
    if value.startswith(("-", "+")):
        negative, value = negative or value[0] == "-", value[1:].strip()
    whole, _mark, fraction = value.partition(decimal_mark)
    if thousands != " ":
        whole = whole.replace(" ", "")
    if not whole or not fraction.isdigit() and fraction != "":
        if not whole and fraction.isdigit():
            whole = "0"
        else:
            raise ValueError(text)
    if thousands in whole:
        if not re.fullmatch(rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+", whole):
            raise ValueError(text)
        whole = whole.replace(thousands, "")
    if not whole.isdigit():
        raise ValueError(text)
    number = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return -number if negative else number


_CURRENCY_SIGNS = re.compile(r"(kr\.?|€|zł|\$|£|DKK|EUR|SEK|PLN|NOK|CHF|USD|GBP)", re.IGNORECASE)


def parse_date(text: str, date_format: str) -> date:
    """A date from ``text`` in ``date_format`` (one of DATE_FORMATS); ValueError if it is not one."""
    return datetime.strptime(text.strip(), date_format).date()


def guess_formats(csv_file, mapping: dict[str, str], sample: int = 50) -> tuple[str, str]:
    """The (number format, date format) that read every sampled value of the mapped columns; the
    first of each list when none or several fit."""
    def column(field: str) -> list[str]:
        header = mapping.get(field)
        if header not in csv_file.headers:
            return []
        index = csv_file.headers.index(header)
        return [row[index] for row in csv_file.rows[:sample] if index < len(row) and row[index].strip()]

    numbers = [value for field in ("amount", "debit", "credit", "balance") for value in column(field)]
    dates = column("date")
    number_format = next((fmt for fmt in NUMBER_FORMATS if _all_read(numbers, parse_number, fmt)),
                         next(iter(NUMBER_FORMATS)))
    date_format = next((fmt for fmt in DATE_FORMATS if _all_read(dates, parse_date, fmt)), DATE_FORMATS[0])
    return number_format, date_format


def _all_read(values: list[str], parse, fmt: str) -> bool:
    try:
        for value in values:
            parse(value, fmt)
    except ValueError:
        return False
    return bool(values)


def read_statement_csv(data: bytes, mapping: dict[str, str], *, number_format: str = "1,234.56",
                       date_format: str = "%Y-%m-%d") -> ParsedStatement:
    """The lines of a CSV statement read with ``mapping`` (field → column header).

    Every bad row is reported (line number and reason) in one :class:`StatementFileError`.
    """
    if number_format not in NUMBER_FORMATS:
        raise KontorError(_("Choose a number format."), field="number_format")
    if date_format not in DATE_FORMATS:
        raise KontorError(_("Choose a date format."), field="date_format")
    if not mapping.get("date"):
        raise KontorError(_("Choose the column of the date."), field="map_date")
    if not mapping.get("amount") and not (mapping.get("debit") or mapping.get("credit")):
        raise KontorError(_("Choose the column of the amount, or those of debits and credits."), field="map_amount")
    rows = map_rows(read_csv(data), {key: value for key, value in mapping.items() if key in CSV_FIELDS and value})
    if len(rows) > MAX_LINES:
        raise KontorError(_("A statement has at most %(count)s lines.", count=MAX_LINES), field="file")
    lines: list[ParsedLine] = []
    problems: list[tuple[int, str]] = []
    for number, row in rows:
        try:
            lines.append(_csv_line(row, number_format, date_format))
        except _RowError as exc:
            problems.append((number, str(exc)))
    if problems:
        raise StatementFileError(problems)
    if not lines:
        raise KontorError(_("The file has no statement lines."), field="file")
    if lines[0].date > lines[-1].date:
        lines.reverse()  # many banks export the newest line first
    return ParsedStatement(lines=lines)


class _RowError(ValueError):
    pass


def _csv_line(row: dict[str, str], number_format: str, date_format: str) -> ParsedLine:
    try:
        day = parse_date(row.get("date", ""), date_format)
    except ValueError:
        raise _RowError(_("%(value)s is not a date in the chosen format.", value=row.get("date", "") or "''")) from None
    amount = ZERO
    for key, sign in (("amount", 1), ("credit", 1), ("debit", -1)):
        text = row.get(key, "")
        if not text:
            continue
        try:
            value = parse_number(text, number_format)
        except ValueError:
            raise _RowError(_("%(value)s is not an amount in the chosen format.", value=text)) from None
        # a debit column may hold amounts with or without their minus sign
        amount += sign * (abs(value) if key == "debit" else value)
    if amount == 0:
        raise _RowError(_("The row has no amount."))
    if amount != amount.quantize(Decimal("0.01")) or abs(amount) >= Decimal("1e13"):
        raise _RowError(_("%(value)s is not an amount in the chosen format.", value=str(amount)))
    balance = None
    if row.get("balance"):
        try:
            balance = parse_number(row["balance"], number_format).quantize(Decimal("0.01"))
        except (ValueError, InvalidOperation):
            raise _RowError(_("%(value)s is not a balance in the chosen format.", value=row["balance"])) from None
    return ParsedLine(date=day, amount=amount.quantize(Decimal("0.01")), description=row.get("description", "")[:2000],
                      reference=row.get("reference", "")[:140], counterparty=row.get("counterparty", "")[:200],
                      balance=balance)


# -- Reading camt.053 --


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: Element | None, path: str) -> Element | None:
    """The first descendant along ``path`` (slash-separated local names), whatever the namespace."""
    for name in path.split("/"):
        if node is None:
            return None
        node = next((child for child in node if _local(child.tag) == name), None)
    return node


def _findall(node: Element | None, name: str) -> list[Element]:
    return [child for child in node if _local(child.tag) == name] if node is not None else []


def _text(node: Element | None, path: str) -> str:
    found = _find(node, path)
    return (found.text or "").strip() if found is not None else ""


def _signed(node: Element, path: str = "Amt") -> tuple[Decimal, str]:
    amount_node = _find(node, path)
    if amount_node is None:
        raise ValueError("amount")
    amount = Decimal((amount_node.text or "").strip())
    if _text(node, "CdtDbtInd") == "DBIT":
        amount = -amount
    return amount, amount_node.get("Ccy", "")


def read_camt053(data: bytes) -> ParsedStatement:
    """The first statement of an ISO 20022 camt.053 file (any 001.xx version).

    The XML is parsed with defusedxml: a document type declaration, entities or external
    references are refused, so nothing is fetched and nothing expands.
    """
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise KontorError(_("The file declares a document type or entities; such XML is refused."), field="file",
                          status=422) from None
    except (ParseError, ValueError, TypeError):
        raise KontorError(_("The file is not well-formed XML."), field="file", status=422) from None
    statement = _find(root, "BkToCstmrStmt/Stmt")
    if _local(root.tag) != "Document" or statement is None:
        raise KontorError(_("The file is not a camt.053 bank statement."), field="file", status=422)
    parsed = ParsedStatement(lines=[], name=_text(statement, "Id"),
                             account_number=_text(statement, "Acct/Id/IBAN") or _text(statement, "Acct/Id/Othr/Id"),
                             currency=_text(statement, "Acct/Ccy") or None)
    problems: list[tuple[int, str]] = []
    try:
        for balance in _findall(statement, "Bal"):
            code = _text(balance, "Tp/CdOrPrtry/Cd")
            amount, currency = _signed(balance)
            parsed.currency = parsed.currency or currency or None
            if code in ("OPBD", "PRCD"):
                parsed.opening_balance = amount
            elif code in ("CLBD",):
                parsed.closing_balance = amount
                day = _text(balance, "Dt/Dt") or _text(balance, "Dt/DtTm")[:10]
                parsed.date = date.fromisoformat(day) if day else None
    except (ValueError, InvalidOperation):
        raise KontorError(_("A balance of the statement cannot be read."), field="file", status=422) from None
    for position, entry in enumerate(_findall(statement, "Ntry"), start=1):
        try:
            parsed.lines.append(_camt_line(entry, parsed.currency))
        except (ValueError, InvalidOperation) as exc:
            problems.append((position, _("entry %(reason)s", reason=str(exc) or _("cannot be read"))))
    if problems:
        raise StatementFileError(problems)
    if not parsed.lines:
        raise KontorError(_("The statement has no entries."), field="file", status=422)
    if len(parsed.lines) > MAX_LINES:
        raise KontorError(_("A statement has at most %(count)s lines.", count=MAX_LINES), field="file")
    return parsed


def _camt_line(entry: Element, currency: str | None) -> ParsedLine:
    amount, entry_currency = _signed(entry)
    if currency and entry_currency and entry_currency != currency:
        raise ValueError(_("is in %(currency)s, not in the account's currency", currency=entry_currency))
    if amount == 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("has no valid amount"))
    day = _text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm")[:10] or _text(entry, "ValDt/Dt")
    details = _find(entry, "NtryDtls/TxDtls")
    incoming = amount > 0
    party = "Dbtr" if incoming else "Cdtr"
    counterparty = _text(details, f"RltdPties/{party}/Nm") or _text(details, f"RltdPties/{party}/Pty/Nm")
    account = (_text(details, f"RltdPties/{party}Acct/Id/IBAN")
               or _text(details, f"RltdPties/{party}Acct/Id/Othr/Id"))
    remittance = " ".join(filter(None, [
        *[(node.text or "").strip() for node in _findall(_find(details, "RmtInf"), "Ustrd")],
        _text(entry, "AddtlNtryInf"),
    ]))
    reference = (_text(details, "RmtInf/Strd/CdtrRefInf/Ref") or _text(details, "Refs/EndToEndId")
                 or _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef"))
    if reference == "NOTPROVIDED":
        reference = _text(entry, "AcctSvcrRef")
    return ParsedLine(date=date.fromisoformat(day), amount=amount, description=remittance[:2000],
                      reference=reference[:140], counterparty=counterparty[:200], counterparty_account=account[:60])


# -- Storing --


def read_statement_file(data: bytes, *, file_format: str, mapping: dict | None = None,
                        number_format: str = "1,234.56", date_format: str = "%Y-%m-%d") -> ParsedStatement:
    """The statement in ``data``: a ``csv`` file read with ``mapping``, or a ``camt053`` file."""
    if file_format not in ("csv", "camt053"):
        raise KontorError(_("Choose CSV or camt.053."), field="format")
    if file_format == "csv":
        return read_statement_csv(data, mapping or {}, number_format=number_format, date_format=date_format)
    return read_camt053(data)


def prepare_statement(db: Session, data: bytes, *, file_format: str, journal: Any = "BNK", mapping: dict | None = None,
                      number_format: str = "1,234.56", date_format: str = "%Y-%m-%d", name: str = "",
                      filename: str = "", opening_balance: Any = None, closing_balance: Any = None,
                      user_id: int | None = None) -> tuple[Statement, ParsedStatement]:
    """Read and check a statement file, and store the statement without its lines.

    Everything that can be wrong with the file is found here, before any line is stored: bad rows,
    the journal's currency, balances that do not add up, a statement imported already (by its name
    in the journal, or the same file under another name). Returns the statement and the lines to
    store with :func:`add_lines`. The caller commits.
    """
    parsed = read_statement_file(data, file_format=file_format, mapping=mapping, number_format=number_format,
                                 date_format=date_format)
    bank = payments.payment_journal(db, journal)
    currency = _journal_currency(db, bank)
    if parsed.currency and parsed.currency != currency:
        raise KontorError(_("The statement is in %(currency)s but journal %(code)s is kept in %(journal)s.",
                            currency=parsed.currency, code=bank.code, journal=currency), field="journal")
    opening = _balance(opening_balance, "opening_balance") if opening_balance not in (None, "") else parsed.opening_balance
    closing = _balance(closing_balance, "closing_balance") if closing_balance not in (None, "") else parsed.closing_balance
    with_balance = [line for line in parsed.lines if line.balance is not None]
    if opening is None and with_balance:
        first = parsed.lines[0]
        opening = first.balance - first.amount if first.balance is not None else None
    if closing is None and with_balance and parsed.lines[-1].balance is not None:
        closing = parsed.lines[-1].balance
    total = sum((line.amount for line in parsed.lines), ZERO)
    if opening is not None and closing is not None and opening + total != closing:
        raise KontorError(_("Opening balance %(opening)s plus the lines (%(total)s) is not the closing balance "
                            "%(closing)s: the file is incomplete.", opening=opening, total=total, closing=closing),
                          field="closing_balance")
    day = parsed.date or max(line.date for line in parsed.lines)
    name = (name or parsed.name or filename or _("Statement"))[:100]
    if db.execute(select(Statement.id).where(Statement.journal_id == bank.id, Statement.name == name)).first():
        raise KontorError(_("Statement %(name)s of journal %(code)s is imported already.", name=name, code=bank.code),
                          field="name", status=409)
    same = _same_statement(db, bank.id, day, opening, closing, parsed.lines[0])
    if same is not None:
        raise KontorError(_("This file is imported already, as statement %(name)s.", name=same.name),
                          field="file", status=409)
    statement = Statement(name=name, journal_id=bank.id,
                          currency=currency, date=day, account_number=parsed.account_number,
                          opening_balance=opening, closing_balance=closing, format=file_format,
                          filename=(filename or "")[:200], imported_by_id=user_id)
    db.add(statement)
    db.flush()
    return statement, parsed


def _same_statement(db: Session, journal_id: int, day: date, opening: Decimal | None, closing: Decimal | None,
                    first: ParsedLine) -> Statement | None:
    """A statement of the journal that is this file again: the same day and balances, and the same
    first line (date, amount, reference and text). Several exports of one account differ in one of them."""
    return db.execute(
        select(Statement).join(StatementLine)
        .where(Statement.journal_id == journal_id, Statement.date == day,
               Statement.opening_balance.is_(None) if opening is None else Statement.opening_balance == opening,
               Statement.closing_balance.is_(None) if closing is None else Statement.closing_balance == closing,
               StatementLine.sequence == 1, StatementLine.date == first.date, StatementLine.amount == first.amount,
               StatementLine.reference == first.reference, StatementLine.description == first.description)
        .limit(1)
    ).scalars().first()


def add_lines(db: Session, statement: Statement, lines: list[ParsedLine], *,
              progress: Callable[[int, int], None] | None = None, chunk: int = LINE_CHUNK) -> int:
    """Store ``lines`` on ``statement`` in chunks, numbered from 1 in their order; returns how many
    were added. A line whose number is stored already is skipped, so a re-run after an interruption
    completes the statement and never doubles a line. ``progress(done, total)`` is called after
    each chunk (a job commits there)."""
    stored = set(db.execute(select(StatementLine.sequence)
                            .where(StatementLine.statement_id == statement.id)).scalars())
    added = 0
    for start in range(0, len(lines), chunk):
        for sequence, line in enumerate(lines[start:start + chunk], start=start + 1):
            if sequence in stored:
                continue
            db.add(StatementLine(statement_id=statement.id, sequence=sequence, date=line.date, amount=line.amount,
                                 description=line.description, reference=line.reference,
                                 counterparty=line.counterparty, counterparty_account=line.counterparty_account,
                                 balance=line.balance))
            added += 1
        db.flush()
        if progress:
            progress(min(start + chunk, len(lines)), len(lines))
    db.expire(statement, ["lines"])
    return added


def import_statement(db: Session, data: bytes, *, file_format: str, journal: Any = "BNK", mapping: dict | None = None,
                     number_format: str = "1,234.56", date_format: str = "%Y-%m-%d", name: str = "",
                     filename: str = "", opening_balance: Any = None, closing_balance: Any = None,
                     user_id: int | None = None) -> Statement:
    """Read a statement file (``csv`` with ``mapping`` or ``camt053``) and store it with its lines,
    at once (:func:`prepare_statement`, then :func:`add_lines`).

    The balances come from the file (camt.053, or a CSV balance column) or the arguments; when
    both are known, opening + Σ lines must equal closing. The caller commits.
    """
    statement, parsed = prepare_statement(db, data, file_format=file_format, journal=journal, mapping=mapping,
                                          number_format=number_format, date_format=date_format, name=name,
                                          filename=filename, opening_balance=opening_balance,
                                          closing_balance=closing_balance, user_id=user_id)
    add_lines(db, statement, parsed.lines)
    return statement


def _journal_currency(db: Session, journal) -> str:
    account = db.get(Account, journal.default_account_id)
    return (account.currency if account and account.currency else fx.company_currency(db))


def _balance(value: Any, field_name: str) -> Decimal:
    number = fx.to_decimal(str(value).replace(",", ".") if isinstance(value, str) else value, field_name)
    if number != number.quantize(Decimal("0.01")):
        raise KontorError(_("Enter at most 2 decimals."), field=field_name)
    return number


def get_statement(db: Session, statement_id: int) -> Statement:
    """The statement ``statement_id``; NotFound if there is none."""
    statement = db.get(Statement, statement_id)
    if statement is None:
        raise NotFound(_("No such statement."))
    return statement


def get_line(db: Session, line_id: int) -> StatementLine:
    """The statement line ``line_id``; NotFound if there is none."""
    line = db.get(StatementLine, line_id)
    if line is None:
        raise NotFound(_("No such statement line."))
    return line


def statements_query(*, q: str = "", state: str = ""):
    """The statements matching the filters (a SELECT for keyset paging)."""
    query = select(Statement)
    if q:
        pattern = f"%{q.strip().casefold()}%"
        query = query.where(func.lower(Statement.name).like(pattern) | func.lower(Statement.filename).like(pattern))
    if state == "open":
        query = query.where(Statement.id.in_(select(StatementLine.statement_id).where(StatementLine.state == "unmatched")))
    elif state == "done":
        query = query.where(~Statement.id.in_(select(StatementLine.statement_id)
                                              .where(StatementLine.state == "unmatched")))
    return query


def waiting_lines(db: Session) -> dict[str, Any]:
    """How many statement lines wait to be matched, and the statements they are on (oldest first)."""
    # through the statement: a line belongs to its statement's company, which the scope narrows to
    count = db.execute(select(func.count()).select_from(StatementLine).join(Statement)
                       .where(StatementLine.state == "unmatched")).scalar_one()
    waiting = list(db.execute(select(Statement, func.count()).join(StatementLine)
                              .where(StatementLine.state == "unmatched").group_by(Statement.id)
                              .order_by(Statement.date, Statement.id).limit(5)).all())
    return {"count": count, "statements": waiting}


# -- Matching --


@dataclass
class Suggestion:
    """An open invoice that may be what a statement line pays, and why."""

    invoice: Invoice
    reasons: list[str] = field(default_factory=list)
    score: int = 0

    @property
    def reason_text(self) -> str:
        """The reasons, readable."""
        return ", ".join(self.reasons)


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-_.]{2,}[A-Za-z0-9]")


def _kinds_for(amount: Decimal) -> tuple[str, ...]:
    return ("out_invoice", "in_refund") if amount > 0 else ("in_invoice", "out_refund")


def suggestions(db: Session, line: StatementLine, *, limit: int = 5) -> list[Suggestion]:
    """Open invoices this line may settle, best first: by reference (the invoice number, or a
    bill's supplier reference, found in the line's text), by amount (the exact open amount, in
    the statement's currency) and by party (the counterparty's name)."""
    currency = line.statement.currency
    base = select(Invoice).where(Invoice.state.in_(OPEN_STATES), Invoice.kind.in_(_kinds_for(line.amount)),
                                 Invoice.currency == currency)
    found: dict[int, Suggestion] = {}

    def add(invoices: Iterable[Invoice], reason: str, score: int) -> None:
        for invoice in invoices:
            suggestion = found.setdefault(invoice.id, Suggestion(invoice))
            if reason not in suggestion.reasons:
                suggestion.reasons.append(reason)
                suggestion.score += score

    text = f"{line.reference} {line.description}"
    tokens = {token.upper() for token in _TOKEN.findall(text)} | {token for token in _TOKEN.findall(text)}
    if tokens:
        add(db.execute(base.where(or_(func.upper(Invoice.number).in_(tokens), Invoice.reference.in_(tokens)))
                       .limit(20)).scalars(), _("reference"), 4)
    add(db.execute(base.where(Invoice.amount_residual == abs(line.amount)).order_by(Invoice.due_date).limit(20))
        .scalars(), _("amount"), 2)
    party_ids = [party.id for party in parties_named(db, line.counterparty)]
    if party_ids:
        add(db.execute(base.where(Invoice.party_id.in_(party_ids)).order_by(Invoice.due_date).limit(20)).scalars(),
            _("party"), 1)
    ranked = sorted(found.values(), key=lambda s: (-s.score, s.invoice.due_date, s.invoice.id))
    return ranked[:limit]


def parties_named(db: Session, name: str, limit: int = 10) -> list[Party]:
    """The active parties whose name is (or starts with) ``name``, casefolded: a statement line's
    counterparty as the books know it."""
    key = " ".join((name or "").casefold().split())
    if len(key) < 3:
        return []
    return list(db.execute(select(Party).where(Party.active, or_(Party.name_key == key,
                                                                 Party.name_key.like(f"{key}%")))
                           .order_by(Party.name_key).limit(limit)).scalars())


def confirm_line(db: Session, line: StatementLine, *, invoices: Iterable[Any] = (), account: Any = None,
                 party_id: int | None = None, user_id: int | None = None) -> StatementLine:
    """Match ``line``, in one direction: statement line → payment → entry.

    With ``invoices`` the line pays them (:func:`~plugins.accounting.banking.services.pay_from_bank`;
    what exceeds their open amounts stays an open credit); else with ``account`` it is booked to
    that account (:func:`~plugins.accounting.banking.services.book_to_account`: fees, interest);
    else with ``party_id`` it is a payment on that party's account. The caller commits."""
    if db.get_bind().dialect.name == "postgresql":
        # two people confirming the same line at once: the second waits, then sees it matched
        db.execute(select(StatementLine.id).where(StatementLine.id == line.id).with_for_update())
        db.refresh(line, ["state"])
    if line.state == "matched":
        raise KontorError(_("This line is matched already."), field="line", status=409)
    statement = line.statement
    invoices = list(invoices or ())
    movement = {"day": line.date, "amount": line.amount, "currency": statement.currency, "user_id": user_id}
    if invoices or (account in (None, "") and party_id):
        line.payment_id = payments.pay_from_bank(db, journal=statement.journal_id, reference=_line_reference(line),
                                                 invoices=invoices, party_id=party_id, **movement).id
    elif account not in (None, ""):
        line.entry_id = payments.book_to_account(db, journal=statement.journal, account=account, party_id=party_id,
                                                 reference=line.reference or "", description=_line_reference(line),
                                                 narration=line.description, source=f"statement-line:{line.id}",
                                                 **movement).id
    else:
        raise KontorError(_("Choose an invoice, a party or an account."), field="invoices")
    line.state = "matched"
    db.flush()
    return line


def _line_reference(line: StatementLine) -> str:
    return (line.reference or line.description or line.counterparty)[:140]
