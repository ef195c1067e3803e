"""The chart of accounts: accounts with their rules, balances rolled up the tree, CSV import and export."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core import KontorError, NotFound, current_company_id, gettext as _, lazy_gettext as _l, map_rows, read_csv

from plugins.accounting.ledger.models import (
    ACCOUNT_KINDS, ACCOUNT_TYPES, POSTED, Account, AccountRoleAccount, Config, Journal, Line,
)

ZERO = Decimal("0.00")
DEFAULT_CHART = Path(__file__).resolve().parent.parent / "data" / "chart.csv"
CSV_FIELDS = ("code", "name", "type", "kind", "parent", "postable", "reconcilable", "currency", "active")

#: The account type each special kind must have.
KIND_TYPES = {"receivable": ("asset",), "payable": ("liability",), "bank": ("asset",), "cash": ("asset",),
              "tax": ("asset", "liability")}
#: Why an account of each kind refuses another type (whole sentences, for the translations).
KIND_TYPE_ERRORS = {
    "receivable": _l("A receivable account is an asset."),
    "payable": _l("A payable account is a liability."),
    "bank": _l("A bank account is an asset."),
    "cash": _l("A cash account is an asset."),
    "tax": _l("A tax account is an asset or a liability."),
}

_TRUE = {"1", "true", "yes", "y", "x", "on"}
_FALSE = {"0", "false", "no", "n", "", "off"}


def get_account(db: Session, account_id: int) -> Account:
    """The account with ``account_id``; :class:`NotFound` if none."""
    account = db.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no account %(id)s.", id=account_id), field="id")
    return account


def is_used(db: Session, account: Account) -> bool:
    """Whether any line (draft or posted), journal or account role refers to ``account``."""
    return (db.scalar(select(Line.id).where(Line.account_id == account.id).limit(1)) is not None
            or db.scalar(select(Journal.id).where(Journal.default_account_id == account.id).limit(1)) is not None
            or db.scalar(select(AccountRoleAccount.role).where(AccountRoleAccount.account_id == account.id)
                         .limit(1)) is not None)


def _as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise KontorError(_("Yes or no (1 or 0)."), field=field, status=422)


def _clean(db: Session, data: dict[str, Any], account: Account | None) -> dict[str, Any]:
    """Validate account fields; the parent may be given as ``parent_id`` or ``parent`` (a code)."""
    values: dict[str, Any] = {}
    current = (lambda name, default=None: getattr(account, name) if account is not None else default)
    code = str(data.get("code", current("code", "")) or "").strip()
    if not code:
        raise KontorError(_("A code is required."), field="code", status=422)
    if len(code) > 20 or any(ch.isspace() for ch in code):
        raise KontorError(_("A code has at most 20 characters and no spaces."), field="code", status=422)
    clash = db.scalar(select(Account).where(Account.code == code, Account.company_id == current_company_id(db)))
    if clash is not None and clash is not account:
        raise KontorError(_("The code %(code)s is already used.", code=code), field="code", status=422)
    values["code"] = code
    name = str(data.get("name", current("name", "")) or "").strip()
    if not name:
        raise KontorError(_("A name is required."), field="name", status=422)
    if len(name) > 200:
        raise KontorError(_("At most %(n)s characters.", n=200), field="name", status=422)
    values["name"] = name
    type_ = str(data.get("type", current("type", "")) or "").strip().lower()
    if type_ not in ACCOUNT_TYPES:
        raise KontorError(_("Choose a type: %(types)s.", types=", ".join(ACCOUNT_TYPES)), field="type", status=422)
    kind = str(data.get("kind", current("kind", "other")) or "other").strip().lower()
    if kind not in ACCOUNT_KINDS:
        raise KontorError(_("Choose a kind: %(kinds)s.", kinds=", ".join(ACCOUNT_KINDS)), field="kind", status=422)
    if kind in KIND_TYPES and type_ not in KIND_TYPES[kind]:
        raise KontorError(str(KIND_TYPE_ERRORS[kind]), field="kind", status=422)
    values["type"], values["kind"] = type_, kind
    values["postable"] = _as_bool(data.get("postable", current("postable", True)), "postable")
    default_reconcilable = kind in ("receivable", "payable", "bank")
    values["reconcilable"] = _as_bool(data.get("reconcilable", current("reconcilable", default_reconcilable)),
                                      "reconcilable")
    values["active"] = _as_bool(data.get("active", current("active", True)), "active")
    values["intercompany"] = _as_bool(data.get("intercompany", current("intercompany", False)), "intercompany")
    if values["reconcilable"] and not values["postable"]:
        raise KontorError(_("A group account takes no lines, so it cannot be reconcilable."), field="reconcilable",
                          status=422)
    currency = str(data.get("currency", current("currency", "")) or "").strip().upper() or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise KontorError(_("A currency is a three-letter code."), field="currency", status=422)
    values["currency"] = currency
    if "parent_id" in data or "parent" in data:
        parent = None
        raw = data.get("parent_id") if "parent_id" in data else data.get("parent")
        if raw not in (None, ""):
            if "parent_id" in data:
                try:
                    parent = db.get(Account, int(raw))
                except (TypeError, ValueError):
                    parent = None
            else:
                parent = db.scalar(select(Account).where(Account.code == str(raw).strip(),
                                                         Account.company_id == current_company_id(db)))
            if parent is None or parent.company_id != current_company_id(db):
                raise KontorError(_("There is no account %(code)s.", code=raw), field="parent_id", status=422)
        values["parent"] = parent
    else:
        values["parent"] = current("parent")
    parent = values["parent"]
    if parent is not None:
        if parent.postable:
            raise KontorError(_("The parent must be a group account (not postable)."), field="parent_id", status=422)
        walker = parent
        while walker is not None:
            if account is not None and walker.id == account.id:
                raise KontorError(_("An account cannot be its own ancestor."), field="parent_id", status=422)
            walker = walker.parent
    return values


def create_account(db: Session, data: dict[str, Any]) -> Account:
    """Create an account from ``data`` (code, name, type, kind, parent_id or parent code, postable,
    reconcilable, currency, active). Codes are unique; a receivable or bank account must be an
    asset, a payable a liability; the parent must be a group account."""
    values = _clean(db, data, None)
    account = Account(**values)
    db.add(account)
    db.flush()
    return account


def update_account(db: Session, account: Account, data: dict[str, Any]) -> Account:
    """Change an account. Once used by a line, its type, kind and postability are fixed (reports
    and reconciliation depend on them); deactivate it instead of deleting it."""
    values = _clean(db, data, account)
    if is_used(db, account):
        for name in ("type", "kind", "postable"):
            if values[name] != getattr(account, name):
                raise KontorError(_("The account has entries: its %(field)s can no longer change.", field=name),
                                  field=name, status=422)
    if not values["postable"] and account.postable:
        # it is becoming a group: nothing may still post to it
        if is_used(db, account):
            raise KontorError(_("The account has entries; it cannot become a group."), field="postable", status=422)
    if values["postable"] and not account.postable:
        child = db.scalar(select(Account.id).where(Account.parent_id == account.id).limit(1))
        if child is not None:
            raise KontorError(_("The account has sub-accounts; it must stay a group."), field="postable", status=422)
    for name, value in values.items():
        setattr(account, name, value)
    db.flush()
    return account


def delete_account(db: Session, account: Account) -> None:
    """Delete an unused account without sub-accounts; a used one is deactivated instead."""
    if is_used(db, account):
        raise KontorError(_("The account has entries: deactivate it instead."), field="active", status=409)
    if db.scalar(select(Account.id).where(Account.parent_id == account.id).limit(1)) is not None:
        raise KontorError(_("The account has sub-accounts."), field="id", status=409)
    config_refs = [c.key for c in Config.__table__.columns if c.key.endswith("account_id")]
    config = db.scalar(select(Config).where(Config.company_id == account.company_id))
    if config is not None and any(getattr(config, key) == account.id for key in config_refs):
        raise KontorError(_("The accounting settings use this account."), field="id", status=409)
    db.delete(account)
    db.flush()


# -- The tree with balances --


@dataclass
class TreeRow:
    """An account in the tree with its own and its rolled-up balance."""

    account: Account
    depth: int
    own: Decimal
    total: Decimal
    has_children: bool


def balances(db: Session, *, date_to: Date | None = None) -> dict[int, Decimal]:
    """Posted debit − credit per account, computed by one SQL aggregate."""
    stmt = select(Line.account_id, func.sum(Line.debit), func.sum(Line.credit)).where(Line.state == POSTED)
    if date_to is not None:
        stmt = stmt.where(Line.date <= date_to)
    return {a: (d or ZERO) - (c or ZERO) for a, d, c in db.execute(stmt.group_by(Line.account_id))}


def rolled_up_balances(db: Session, *, date_to: Date | None = None) -> dict[int, Decimal]:
    """Posted debit − credit per account including all its descendants: one recursive SQL query
    pairs every account with each of its ancestors, and the lines are summed per ancestor."""
    parent = aliased(Account)
    pairs = select(Account.id.label("id"), Account.id.label("ancestor")).cte("account_ancestors", recursive=True)
    pairs = pairs.union_all(select(pairs.c.id, parent.parent_id).join(parent, parent.id == pairs.c.ancestor)
                            .where(parent.parent_id.is_not(None)))
    stmt = (select(pairs.c.ancestor, func.sum(Line.debit), func.sum(Line.credit))
            .join(pairs, pairs.c.id == Line.account_id).where(Line.state == POSTED))
    if date_to is not None:
        stmt = stmt.where(Line.date <= date_to)
    return {a: (d or ZERO) - (c or ZERO) for a, d, c in db.execute(stmt.group_by(pairs.c.ancestor))}


def tree(db: Session, *, date_to: Date | None = None, search: str = "", type_: str = "", kind: str = "",
         show_inactive: bool = False) -> list[TreeRow]:
    """The chart as an indented list in code order, each balance rolled up to its ancestors.

    Filters keep the matching accounts and their ancestors (so the tree stays readable).
    """
    accounts = db.scalars(select(Account).order_by(Account.code)).all()
    own = balances(db, date_to=date_to)
    totals = rolled_up_balances(db, date_to=date_to)
    children: dict[int | None, list[Account]] = {}
    for account in accounts:
        children.setdefault(account.parent_id, []).append(account)

    def total(account: Account) -> Decimal:
        return totals.get(account.id, ZERO)

    needle = search.strip().casefold()

    def matches(account: Account) -> bool:
        if not show_inactive and not account.active:
            return False
        if needle and needle not in account.code.casefold() and needle not in account.name.casefold():
            return False
        if type_ and account.type != type_:
            return False
        if kind and account.kind != kind:
            return False
        return True

    keep: set[int] = set()
    by_id = {a.id: a for a in accounts}
    for account in accounts:
        if matches(account):
            walker = account
            while walker is not None and walker.id not in keep:
                keep.add(walker.id)
                walker = by_id.get(walker.parent_id)
    rows: list[TreeRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for account in children.get(parent_id, []):
            if account.id in keep:
                rows.append(TreeRow(account, depth, own.get(account.id, ZERO), total(account),
                                    bool(children.get(account.id))))
                walk(account.id, depth + 1)
    walk(None, 0)
    # accounts whose parent was filtered away entirely still show
    shown = {r.account.id for r in rows}
    for account in accounts:
        if account.id in keep and account.id not in shown:
            rows.append(TreeRow(account, 0, own.get(account.id, ZERO), total(account), bool(children.get(account.id))))
    return rows


# -- CSV --


def export_rows(db: Session) -> list[dict[str, Any]]:
    """The chart as rows for CSV export (columns :data:`CSV_FIELDS`), parents before children."""
    accounts = db.scalars(select(Account).order_by(Account.code)).all()
    by_id = {a.id: a for a in accounts}
    ordered: list[Account] = []
    seen: set[int] = set()

    def add(account: Account) -> None:
        if account.id in seen:
            return
        if account.parent_id is not None and account.parent_id in by_id:
            add(by_id[account.parent_id])
        seen.add(account.id)
        ordered.append(account)
    for account in accounts:
        add(account)
    return [{"code": a.code, "name": a.name, "type": a.type, "kind": a.kind,
             "parent": by_id[a.parent_id].code if a.parent_id else "", "postable": int(a.postable),
             "reconcilable": int(a.reconcilable), "currency": a.currency or "", "active": int(a.active)}
            for a in ordered]


def export_csv(db: Session) -> str:
    """The chart as CSV text (the format :func:`import_chart` reads)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(db))
    return out.getvalue()


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0


def import_chart(db: Session, data: bytes) -> ImportResult:
    """Create or update accounts from CSV ``data`` (header: code, name, type, kind, parent, postable,
    reconcilable, currency, active; only code, name and type are required).

    Rows are matched by code; parents may appear later in the file than their children. All or
    nothing: the first bad row raises a :class:`KontorError` naming the line and the field.
    """
    parsed = read_csv(data)
    mapping = parsed.guess_mapping({f: () for f in CSV_FIELDS})
    for required in ("code", "name", "type"):
        if required not in mapping:
            raise KontorError(_("The file has no column %(column)s.", column=required), field="file", status=422)
    rows = map_rows(parsed, mapping)
    result = ImportResult()
    existing = {a.code: a for a in db.scalars(select(Account)).all()}
    pending: list[tuple[int, dict[str, str], Account]] = []
    codes_in_file: set[str] = set()
    # first pass: every account without its parent, so parents can be found in any order
    for line, row in rows:
        code = (row.get("code") or "").strip()
        if code in codes_in_file:
            raise KontorError(_("Line %(line)s: the code %(code)s appears twice.", line=line, code=code),
                              field="code", status=422)
        codes_in_file.add(code)
        data_row = {k: v for k, v in row.items() if k != "parent"}
        if "postable" not in mapping:
            data_row.pop("postable", None)
        # a parent named in the file must be a group: set postable first for groups listed later
        try:
            account = existing.get(code)
            if account is None:
                values = _clean(db, {**data_row, "parent_id": None}, None)
                account = Account(**values)
                db.add(account)
                existing[code] = account
                result.created += 1
                created = True
            else:
                created = False
                result.updated += 1
        except KontorError as exc:
            raise KontorError(_("Line %(line)s: %(error)s", line=line, error=exc.message), field=exc.field,
                              status=422) from None
        pending.append((line, row, account if not created else None))
    db.flush()
    for line, row, old in pending:
        try:
            account = existing[(row.get("code") or "").strip()]
            data_row = dict(row)
            if "parent" in mapping:
                data_row["parent"] = row.get("parent", "")
            if old is not None:
                update_account(db, account, data_row)
            else:
                for name, value in _clean(db, data_row, account).items():
                    setattr(account, name, value)
                db.flush()
        except KontorError as exc:
            raise KontorError(_("Line %(line)s: %(error)s", line=line, error=exc.message), field=exc.field,
                              status=422) from None
    db.flush()
    return result


def load_default_chart(db: Session) -> ImportResult:
    """Load the generic small-business chart shipped with the module into an empty chart.

    The file is the module's own (parents listed before their children, checked by the tests
    through :func:`import_chart`), so it goes in with one flush instead of a lookup per row.
    """
    if db.scalar(select(Account.id).limit(1)) is not None:
        return import_chart(db, DEFAULT_CHART.read_bytes())
    by_code: dict[str, Account] = {}
    for row in csv.DictReader(io.StringIO(DEFAULT_CHART.read_text(encoding="utf-8"))):
        by_code[row["code"]] = Account(
            code=row["code"], name=row["name"], type=row["type"], kind=row["kind"] or "other",
            parent=by_code[row["parent"]] if row["parent"] else None, postable=row["postable"] == "1",
            reconcilable=row["reconcilable"] == "1", currency=row["currency"] or None, active=True)
    db.add_all(by_code.values())
    db.flush()
    return ImportResult(created=len(by_code))
