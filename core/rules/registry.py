"""The rule kinds of the running app (``register_rule_kinds``)."""
from __future__ import annotations

from flask import current_app

from core.contrib import RuleKind
from core.rules.language import TYPES
from core.rules.library import FUNCTIONS


def rule_kinds() -> dict[str, RuleKind]:
    """Every registered rule kind by name, collected once per app build; a kind declared wrongly (an
    unknown type or function) is logged and left out."""
    cached = current_app.extensions.get("kontor_rule_kinds")
    if cached is None:
        from core.web.shell import contributions

        cached = {}
        for kind in contributions("register_rule_kinds"):
            problem = declaration_problem(kind)
            if problem:
                current_app.logger.warning("rule kind %r left out: %s", getattr(kind, "name", kind), problem)
                continue
            cached[kind.name] = kind
        current_app.extensions["kontor_rule_kinds"] = cached
    return cached


def declaration_problem(kind: object) -> str | None:
    """What is wrong with a declared rule kind, or None."""
    if not isinstance(kind, RuleKind):
        return "not a RuleKind"
    if kind.result not in TYPES:
        return f"result {kind.result!r} is not one of {sorted(TYPES)}"
    for variable in kind.variables:
        if variable.type not in TYPES:
            return f"variable {variable.name!r} has type {variable.type!r}, not one of {sorted(TYPES)}"
        if not variable.name.isidentifier() or variable.name.startswith("_") or variable.name in FUNCTIONS:
            return f"variable name {variable.name!r} is not a plain name or is a function's"
    unknown = set(kind.functions) - FUNCTIONS.keys()
    if unknown:
        return f"unknown functions {sorted(unknown)}"
    return None
