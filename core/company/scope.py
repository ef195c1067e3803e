"""Which company's records a piece of work sees and writes: the company scope and the record rules.

Kontor keeps several companies (legal entities) in one database. A record of a per-company table
(:class:`CompanyScoped`) belongs to exactly one company. Every ORM query a session runs (lists,
search, detail, exports, reports, panels, the API, commands and jobs alike) is narrowed to the
companies in scope by one ``do_orm_execute`` listener, together with the other record rules that
modules register (``register_record_rules``): a record of a company outside the scope is never
shown, counted or summed.

The scope is:

- in a request, the signed-in user's current company (switched in the header, remembered on the
  user); an API call may name companies explicitly (``?company=2`` or ``?company=1,2`` for a call
  spanning several), each one the user works in;
- in a command, the company of ``kontor --company`` (else the default company);
- in a job or script, what :func:`in_company` says; the system otherwise acts in the default company.

:func:`all_companies` lifts the scope for the platform's own maintenance (migrations, integrity
checks over every company); no page or endpoint uses it.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from sqlalchemy import ForeignKey, column, event, false, select, table
from core.contrib import RecordRule
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

__all__ = [
    "CompanyScope", "CompanyScoped", "RecordRule", "all_companies", "current_company_id", "company_scope",
    "in_company", "install_scope_listeners", "reset_scope", "scope_companies", "set_scope",
]


@dataclass(frozen=True)
class CompanyScope:
    """The company new records belong to (``current``) and the companies whose records are read.

    ``companies`` is None for :func:`all_companies` (no filter); otherwise it always holds
    ``current``, and may hold more for a report over several companies.
    """

    current: int
    companies: tuple[int, ...] | None

    @property
    def unrestricted(self) -> bool:
        return self.companies is None


# light views of the core's tables (core.company.models builds on core.db, which builds on this module)
_companies = table("core_company", column("id"), column("is_default"))
_members = table("core_company_user", column("company_id"), column("user_id"))

_scope: ContextVar[CompanyScope | None] = ContextVar("kontor_company_scope", default=None)
#: The scope of the query whose record rules are being evaluated (see :func:`scope_companies`).
_rule_scope: ContextVar[CompanyScope | None] = ContextVar("kontor_rule_scope", default=None)
_SCOPE_CACHE = "kontor_company_scope"
_SKIP = "kontor_unscoped"
_APPLYING = "kontor_applying_rules"


class CompanyScoped:
    """Mixin of a per-company model: a ``company_id`` column, filled in from the scope.

    A new record belongs to the current company unless its ``company_id`` is set; it may be written
    only into a company in scope. Queries see only the companies in scope.
    """

    @declared_attr
    def company_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("core_company.id"), index=True)


# -- the scope --


def set_scope(scope: CompanyScope | None) -> Token:
    """Make ``scope`` the company scope of this context (a request); returns the token to reset it."""
    return _scope.set(scope)


def reset_scope(token: Token) -> None:
    """Restore the scope that was current before :func:`set_scope` returned ``token``."""
    try:
        _scope.reset(token)
    except ValueError:  # set in another context
        _scope.set(None)


@contextmanager
def in_company(company_id: int, companies: Iterable[int] | None = ()) -> Iterator[CompanyScope]:
    """Work in ``company_id`` inside the block: new records belong to it, queries read it (and
    ``companies``, for work spanning several, such as a consolidated report)."""
    extra = tuple(int(c) for c in companies or ())
    scope = CompanyScope(int(company_id), tuple(dict.fromkeys((int(company_id), *extra))))
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def all_companies(current: int | None = None) -> Iterator[None]:
    """Read every company's records inside the block: for the platform's own maintenance only
    (integrity checks, migrations of data), never for what a user sees."""
    base = _scope.get()
    token = _scope.set(CompanyScope(current or (base.current if base else 0), None))
    try:
        yield
    finally:
        _scope.reset(token)


def default_company_id(db: Session) -> int:
    """The id of the default company (the lowest id if none is marked)."""
    cached = db.info.get("kontor_default_company")
    if cached is None:
        row = db.execute(select(_companies.c.id).order_by(_companies.c.is_default.desc(), _companies.c.id).limit(1)
                         .execution_options(**{_SKIP: True})).first()
        cached = row[0] if row else 0
        db.info["kontor_default_company"] = cached
    return cached


def user_company_ids(db: Session, user_id: int) -> tuple[int, ...]:
    """The companies ``user_id`` works in, in id order."""
    return tuple(db.execute(select(_members.c.company_id).where(_members.c.user_id == user_id)
                            .order_by(_members.c.company_id).execution_options(**{_SKIP: True})).scalars())


def scope_for_user(db: Session, user, requested: Iterable[int] = ()) -> CompanyScope:
    """The scope of ``user``'s work: the companies ``requested`` (the first is current), else
    their current company. A company the user does not work in is never in it; a user with no
    company sees no per-company record (the scope's current company is 0)."""
    member = user_company_ids(db, user.id)
    requested = [int(c) for c in requested if int(c) in member]
    if requested:
        return CompanyScope(requested[0], tuple(dict.fromkeys(requested)))
    current = user.current_company_id if user.current_company_id in member else (member[0] if member else 0)
    return CompanyScope(current, (current,) if current else ())


def company_scope(db: Session) -> CompanyScope:
    """The scope in force: the one set for this context, else the acting user's (their current
    company), else the default company for the system."""
    explicit = _scope.get()
    if explicit is not None:
        return explicit
    from core.actor import acting

    actor = acting()
    key = (_SCOPE_CACHE, actor.user_id)
    cached = db.info.get(key)
    if cached is None:
        if actor.user is not None:
            cached = scope_for_user(db, actor.user)
        else:
            default = default_company_id(db)
            cached = CompanyScope(default, (default,))
        db.info[key] = cached
    return cached


def forget_cached_scope(db: Session) -> None:
    """Drop the scope a session worked out for its actor (after a switch of company)."""
    for key in [k for k in db.info if isinstance(k, tuple) and k and k[0] == _SCOPE_CACHE]:
        del db.info[key]
    db.info.pop("kontor_default_company", None)


def _scope_of(db: Session | None) -> CompanyScope:
    if db is not None:
        return company_scope(db)
    scope = _rule_scope.get() or _scope.get()
    if scope is None:
        raise TypeError("no company scope here: pass the session")
    return scope


def current_company_id(db: Session | None = None) -> int:
    """The id of the company new records belong to in this context (``db`` may be left out inside
    a record rule's condition, which is evaluated for the query's own session)."""
    return _scope_of(db).current


def scope_companies(db: Session | None = None) -> tuple[int, ...] | None:
    """The companies whose records are read in this context, None for every company (``db`` may be
    left out inside a record rule's condition, which is evaluated for the query's own session)."""
    return _scope_of(db).companies


# -- record rules --


def _running_rules() -> list[RecordRule]:
    """The record rules the running app's modules registered (none outside an app)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return []
    kontor = current_app.extensions.get("kontor")
    return getattr(kontor, "record_rules", None) or []


def _scope_condition(companies: tuple[int, ...]):
    if not companies:
        return lambda cls: false()
    if len(companies) == 1:
        only = companies[0]
        return lambda cls: cls.company_id == only
    return lambda cls: cls.company_id.in_(companies)


def _rule_option(rule: RecordRule, user):
    condition = rule.condition(user)
    if condition is None:
        return None
    if callable(condition):  # a function of the class (for a mixin): its closure's values are bound per query
        return with_loader_criteria(rule.model, condition, include_aliases=True, track_closure_variables=True)
    # a condition made for this query: given as it is (a lambda around it would be cached with its values)
    return with_loader_criteria(rule.model, condition, include_aliases=True)


def _apply_rules(state) -> None:
    if not state.is_orm_statement or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the query that loaded the object already carried the criteria
    if state.execution_options.get(_SKIP):
        return
    db = state.session
    if db.info.get(_APPLYING):
        return  # a query run while working out the rules (a permission lookup) is the platform's own
    db.info[_APPLYING] = True
    try:
        options = _options(db)
    finally:
        db.info.pop(_APPLYING, None)
    if options:
        state.statement = state.statement.options(*options)


def _options(db: Session) -> list:
    scope = company_scope(db)
    options = []
    if not scope.unrestricted:
        options.append(with_loader_criteria(CompanyScoped, _scope_condition(scope.companies),
                                            include_aliases=True, track_closure_variables=True))
    rules = _running_rules()
    if rules:
        from core.actor import current_actor

        user = current_actor()
        token = _rule_scope.set(scope)
        try:
            for rule in rules:
                option = _rule_option(rule, user)
                if option is not None:
                    options.append(option)
        finally:
            _rule_scope.reset(token)
    return options


def _allowed(scope: CompanyScope, company_id: int) -> bool:
    return scope.unrestricted or company_id in scope.companies


def _belong_on_add(db: Session, obj) -> None:
    """A per-company record belongs to the company current when it is added to the session (not
    when it happens to be flushed, which may be after the scope changed); the scope of that moment
    decides whether it may be written there."""
    if not isinstance(obj, CompanyScoped):
        return
    scope = company_scope(db)
    if obj.company_id is None and scope.current:
        obj.company_id = scope.current
    if obj.company_id is not None and _allowed(scope, obj.company_id):
        obj._kontor_company_at_add = obj.company_id


def _assign_company(db: Session, _flush_context, _instances) -> None:
    """Refuse a per-company record written into a company outside the scope (set so when it was
    added, or moved since), and one with no company to belong to."""
    from sqlalchemy import inspect

    from core.errors import Forbidden
    from core.i18n import gettext

    scope = None
    for obj in db.new:
        if not isinstance(obj, CompanyScoped):
            continue
        scope = scope or company_scope(db)
        if obj.company_id is None:
            if not scope.current:
                raise Forbidden(gettext("You work in no company, so this record has none to belong to."))
            obj.company_id = scope.current
        elif getattr(obj, "_kontor_company_at_add", None) != obj.company_id and not _allowed(scope, obj.company_id):
            raise Forbidden(gettext("This record belongs to a company you are not working in."))
    for obj in db.dirty:
        if isinstance(obj, CompanyScoped) and inspect(obj).attrs.company_id.history.has_changes():
            scope = scope or company_scope(db)
            if not _allowed(scope, obj.company_id):
                raise Forbidden(gettext("This record belongs to a company you are not working in."))


def _forget_on_end(db: Session, transaction) -> None:
    if transaction.parent is None:
        forget_cached_scope(db)


def install_scope_listeners(factory) -> None:
    """Narrow every ORM query of sessions made by ``factory`` to the scope and the record rules."""
    # A flag on the factory, not event.contains(): the event registry keys a sessionmaker by the id
    # of its Session class, which a new factory may reuse after an old one was collected.
    if not getattr(factory, "_kontor_scoped", False):
        factory._kontor_scoped = True
        event.listen(factory, "do_orm_execute", _apply_rules)
        event.listen(factory, "transient_to_pending", _belong_on_add)
        event.listen(factory, "before_flush", _assign_company)
        event.listen(factory, "after_transaction_end", _forget_on_end)


def unscoped(statement):
    """``statement`` run without the company scope or record rules (the platform's own lookups)."""
    return statement.execution_options(**{_SKIP: True})

