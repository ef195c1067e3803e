"""Trying a rule: what the editor's "Try it" panel, the API and the CLI share."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core.contrib import RuleKind
from core.errors import Forbidden, InvalidInput
from core.i18n import gettext as _, number
from core.rules.engine import Explanation, coerce, compile_rule
from core.rules.language import type_name, TYPES
from core.rules.library import FUNCTIONS, describe
from core.rules.registry import rule_kinds
from core.security import has_permission
from core.web.format import format_value


@dataclass(frozen=True)
class EditorVariable:
    """A variable as the editor lists it."""

    name: str
    label: str
    type: str
    type_label: str
    example: str


@dataclass(frozen=True)
class Editor:
    """What the rule editor shows beside a rule of ``kind``: its variables and functions."""

    kind: RuleKind
    result_label: str
    variables: list[EditorVariable] = field(default_factory=list)
    functions: list[tuple[str, str]] = field(default_factory=list)  # (usage, what it does)


def editor_for(kind_name: str) -> Editor | None:
    """The editor's view of the registered kind ``kind_name`` (None if there is none)."""
    kind = rule_kinds().get(kind_name)
    if kind is None:
        return None
    variables = [EditorVariable(v.name, str(v.label or v.name), v.type, type_name(TYPES[v.type]), example_text(v.example))
                 for v in kind.variables]
    functions = [(FUNCTIONS[name].usage, describe(name)) for name in kind.functions if name in FUNCTIONS]
    return Editor(kind, type_name(TYPES[kind.result]), variables, functions)


def example_text(value: Any) -> str:
    """A variable's example as the "Try it" input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def kind_to_try(kind_name: str | None) -> RuleKind:
    """The registered kind ``kind_name``, if the actor may write its rules (else Forbidden; NotFound-like
    InvalidInput naming ``kind`` if there is no such kind). Someone who may write no kind at all is
    refused before their input is looked at."""
    may_write_rules()
    kind = rule_kinds().get(kind_name or "")
    if kind is None:
        raise InvalidInput(_("There is no rule kind '%(kind)s'.", kind=kind_name or ""), field="kind")
    if not has_permission(kind.permission):
        raise Forbidden(_("You may not write rules of this kind."))
    return kind


def may_write_rules() -> None:
    """Forbidden unless the actor may write the rules of some kind."""
    if not any(has_permission(kind.permission) for kind in rule_kinds().values()):
        raise Forbidden(_("You may not write rules."))


def try_rule(db: Session, kind: RuleKind, text: str, values: dict[str, Any], *, field: str = "rule",
             on: Any = None) -> Explanation:
    """Compile ``text`` as a rule of ``kind`` and explain it for ``values`` (texts are read as the
    variables' types). Refusals name ``field`` for the rule, the variable for a value."""
    rule = compile_rule(kind, text, field=field)
    declared = {v.name: v.type for v in kind.variables}
    read = {}
    for name in rule.names:
        value = values.get(name)
        if value is None or value == "":
            raise InvalidInput(_("Enter a value for '%(name)s'.", name=name), field=name)
        read[name] = coerce(value, declared[name], name)
    day = on
    if isinstance(on, str):
        try:
            day = date.fromisoformat(on) if on.strip() else None
        except ValueError:
            raise InvalidInput(_("Enter a date as YYYY-MM-DD."), field="on") from None
    return rule.explain(read, db=db, on=day)


def json_value(value: Any) -> Any:
    """A rule's value in JSON: numbers as exact strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def display_value(value: Any) -> str:
    """A rule's value for the reader: numbers in their locale with every decimal they have (the
    trace must not round), true/false, dates in their locale."""
    if isinstance(value, Decimal) and value.is_finite():
        return number(value, digits=max(0, -value.as_tuple().exponent))
    if isinstance(value, bool):
        return _("true") if value else _("false")
    return format_value(value)

