"""The conditions of approval rules: compiled as rules of the kind ``approval.<kind>``, evaluated on a
record's values, and the snapshot of the values they read."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.approvals.registry import rule_kind_name
from core.contrib import Approvable
from core.rules.engine import compile_rule


def compile_condition(kind: str, text: str, *, field: str = "condition"):
    """The compiled condition ``text`` of a rule for ``kind`` (None when empty: the rule always
    applies); :class:`~core.errors.InvalidInput` naming ``field`` when it does not compile."""
    text = (text or "").strip()
    return compile_rule(rule_kind_name(kind), text, field=field) if text else None


def holds(db: Session, kind: str, condition: str, values: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for a record of ``kind`` with ``values`` (an empty one always does)."""
    compiled = compile_condition(kind, condition)
    return True if compiled is None else bool(compiled.evaluate(values, db=db))


def read_fields(approvable: Approvable, conditions: Iterable[str]) -> set[str]:
    """The fields any of ``conditions`` reads, and the amount an approver's limit is compared with."""
    names: set[str] = {approvable.amount} if approvable.amount else set()
    for condition in conditions:
        compiled = compile_condition(approvable.kind, condition)
        if compiled is not None:
            names |= set(compiled.names)
    return names


def plain(value: Any) -> Any:
    """``value`` as JSON keeps it and compares it: a number as its shortest exact text, a date in ISO."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)):
        text = format(Decimal(value).normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def snapshot(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The values of ``fields`` as the request keeps them (see :func:`plain`)."""
    return {name: plain(values.get(name)) for name in sorted(fields)}


def changed_fields(before: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """The fields of the snapshot ``before`` whose value is now different."""
    return [name for name, old in before.items() if plain(values.get(name)) != old]
