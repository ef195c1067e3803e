"""Account roles: the accounts postings need by what they are for, not by a code.

A module declares the roles it posts to with the ``accounting_account_roles`` hook (accounting's
own: receivable, payable, retained earnings, exchange gain and loss, rounding, VAT settlement …),
each with the account types it allows and the code of its account in the default chart. The
company maps a role to one of its accounts (one row of ``accounting_account_role``); a role with
no row is its default code's account while that exists. :func:`account_for` answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Conflict, InvalidInput, current_company_id, gettext as _, hooks, lazy_gettext as _l

from plugins.accounting.ledger.models import ACCOUNT_TYPES, Account, AccountRoleAccount


@dataclass(frozen=True)
class AccountRole:
    """An account a module posts to, named by what it is for.

    ``key`` is namespaced by the module (``accounting.receivable``, ``inventory.stock``);
    ``account_types`` are the account types it may be mapped to (:data:`ACCOUNT_TYPES`);
    ``default_code`` is its account in the default chart (used while no account is mapped).
    """

    key: str
    label: Any
    account_types: tuple[str, ...]
    default_code: str = ""

    def __post_init__(self):
        module, dot, name = self.key.partition(".")
        if not (module and dot and name):
            raise ValueError(f"account role key {self.key!r} is not namespaced as <module>.<name>")
        unknown = set(self.account_types) - set(ACCOUNT_TYPES)
        if not self.account_types or unknown:
            raise ValueError(f"account role {self.key!r} has no or unknown account types: {sorted(unknown)}")


RECEIVABLE = "accounting.receivable"
PAYABLE = "accounting.payable"
RETAINED_EARNINGS = "accounting.retained_earnings"
EXCHANGE_GAIN = "accounting.exchange_gain"
EXCHANGE_LOSS = "accounting.exchange_loss"
ROUNDING = "accounting.rounding"
VAT_SETTLEMENT = "accounting.vat_settlement"
VAT_COLLECTED = "accounting.vat_collected"
VAT_DEDUCTIBLE = "accounting.vat_deductible"
SALES = "accounting.sales"
PURCHASES = "accounting.purchases"

#: The roles accounting itself posts to (declared by the ledger's ``accounting_account_roles``).
ACCOUNTING_ROLES = (
    AccountRole(RECEIVABLE, _l("Accounts receivable (customer invoices, incoming payments)"), ("asset",), "1200"),
    AccountRole(PAYABLE, _l("Accounts payable (supplier bills, outgoing payments)"), ("liability",), "2100"),
    AccountRole(RETAINED_EARNINGS, _l("Retained earnings (the year-end close)"), ("equity",), "3100"),
    AccountRole(EXCHANGE_GAIN, _l("Exchange gains (payments, revaluation)"), ("income",), "8100"),
    AccountRole(EXCHANGE_LOSS, _l("Exchange losses (payments, revaluation)"), ("expense",), "8200"),
    AccountRole(ROUNDING, _l("Rounding differences (invoices)"), ("income", "expense"), "8300"),
    AccountRole(VAT_SETTLEMENT, _l("VAT settlement (the VAT report's settlement)"), ("liability", "asset"), "2210"),
    AccountRole(VAT_COLLECTED, _l("Output VAT (new taxes on sales)"), ("liability",), "2200"),
    AccountRole(VAT_DEDUCTIBLE, _l("Input VAT (new taxes on purchases)"), ("asset",), "1400"),
    AccountRole(SALES, _l("Sales (invoice lines without an account)"), ("income",), "4000"),
    AccountRole(PURCHASES, _l("Purchases (bill lines without an account)"), ("expense",), "5100"),
)


def declared_roles() -> list[AccountRole]:
    """Every role the enabled modules declare (the ``accounting_account_roles`` hook), by key.

    Two modules declaring the same key is a programming error (:class:`ValueError`).
    """
    found: dict[str, AccountRole] = {}
    for declared in hooks().accounting_account_roles():
        for role in declared or ():
            if role.key in found and found[role.key] != role:
                raise ValueError(f"the account role {role.key!r} is declared twice, differently")
            found[role.key] = role
    return sorted(found.values(), key=lambda role: role.key)


def get_role(key: str) -> AccountRole:
    """The declared role ``key``; :class:`core.InvalidInput` naming it when no module declares it.

    Accounting's own roles are known without asking the modules (so also while it is installed)."""
    for role in (*ACCOUNTING_ROLES, *(declared_roles() if not key.startswith("accounting.") else ())):
        if role.key == key:
            return role
    raise InvalidInput(_("There is no account role %(role)s.", role=key), field=key)


def _mapped(db: Session) -> dict[str, int]:
    """The current company's mapping of roles to accounts."""
    return dict(db.execute(select(AccountRoleAccount.role, AccountRoleAccount.account_id)
                           .where(AccountRoleAccount.company_id == current_company_id(db))).all())


def _default_account(db: Session, role: AccountRole) -> Account | None:
    if not role.default_code:
        return None
    return db.scalar(select(Account).where(Account.company_id == current_company_id(db),
                                           Account.code == role.default_code, Account.postable.is_(True),
                                           Account.active.is_(True), Account.type.in_(role.account_types)))


def account_for(db: Session, role: str | AccountRole) -> Account:
    """The account postings for ``role`` (a key such as ``"accounting.receivable"``) go to.

    The account the company mapped the role to, else the default chart's account of the role
    while that exists; :class:`core.Conflict` naming the role when there is neither.
    """
    role = get_role(role) if isinstance(role, str) else role
    account_id = _mapped(db).get(role.key)
    account = db.get(Account, account_id) if account_id is not None else _default_account(db, role)
    if account is None:
        raise Conflict(_("No account is set for the account role %(role)s (%(label)s): choose one in the "
                         "accounting settings.", role=role.key, label=role.label), field=role.key)
    return account


def find_account_for(db: Session, role: str | AccountRole) -> Account | None:
    """:func:`account_for`, or None when the role has no account (for a default a person may change)."""
    try:
        return account_for(db, role)
    except Conflict:
        return None


@dataclass(frozen=True)
class RoleAccount:
    """A declared role with its account: ``mapped`` when the company chose it, else the default."""

    role: AccountRole
    account: Account | None
    mapped: bool


def role_accounts(db: Session) -> list[RoleAccount]:
    """Every declared role with the account it posts to now (None when it has none)."""
    mapped = _mapped(db)
    accounts = {a.id: a for a in db.scalars(select(Account).where(Account.id.in_(mapped.values())))} if mapped else {}
    rows = []
    for role in declared_roles():
        if role.key in mapped:
            rows.append(RoleAccount(role, accounts.get(mapped[role.key]), True))
        else:
            rows.append(RoleAccount(role, _default_account(db, role), False))
    return rows


def _account(db: Session, role: AccountRole, value: Any) -> Account:
    """``value`` (an Account, an id or a code) as an account ``role`` may post to, or InvalidInput."""
    if isinstance(value, Account):
        account = value
    else:
        text = str(value).strip()
        account = db.scalar(select(Account).where(Account.code == text, Account.company_id == current_company_id(db)))
        if account is None and text.isdigit() and int(text) < 2**31:
            account = db.get(Account, int(text))
    if account is None or account.company_id != current_company_id(db):
        raise InvalidInput(_("There is no account %(account)s.", account=value), field=role.key)
    if not account.postable or not account.active:
        raise InvalidInput(_("Choose an active postable account."), field=role.key)
    if account.type not in role.account_types:
        raise InvalidInput(_("The account %(code)s is of type %(type)s; this role takes %(types)s.",
                             code=account.code, type=account.type, types=", ".join(role.account_types)),
                           field=role.key)
    return account


def set_role_accounts(db: Session, choices: Mapping[str, Any]) -> list[RoleAccount]:
    """Map roles to accounts: ``{role key: account (id, code or Account), or None/"" for the default}``.

    Every choice is checked before anything changes (:class:`core.InvalidInput` with every bad
    role as a field); the rows written or removed are audited. Roles not named keep their account.
    """
    roles = {role.key: role for role in declared_roles()}
    errors: dict[str, list[str]] = {}
    wanted: dict[str, int | None] = {}
    for key, value in choices.items():
        role = roles.get(key)
        if role is None:
            errors[key] = [_("There is no account role %(role)s.", role=key)]
            continue
        if value in (None, ""):
            wanted[key] = None
            continue
        try:
            wanted[key] = _account(db, role, value).id
        except InvalidInput as exc:
            errors.update(exc.as_errors())
    if errors:
        raise InvalidInput(errors)
    rows = {row.role: row for row in db.scalars(select(AccountRoleAccount).where(
        AccountRoleAccount.company_id == current_company_id(db), AccountRoleAccount.role.in_(list(wanted))))} \
        if wanted else {}
    for key, account_id in wanted.items():
        row = rows.get(key)
        if account_id is None:
            if row is not None:
                db.delete(row)
        elif row is None:
            db.add(AccountRoleAccount(role=key, account_id=account_id))
        elif row.account_id != account_id:
            row.account_id = account_id
    db.flush()
    return role_accounts(db)
