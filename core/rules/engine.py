"""Compiling a rule of a kind once (type-checked, cached) and evaluating it with exact decimals."""
from __future__ import annotations

import decimal
import operator
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import rule_engine
from rule_engine import ast, errors
from rule_engine.types import DataType

from core.contrib import RuleKind
from core.errors import InvalidInput
from core.i18n import gettext as _
from core.rules.language import DECIMAL_CONTEXT, TYPES, Library, RuleError, parse, type_name
from core.rules.library import FUNCTIONS, FunctionFailed
from core.rules.registry import rule_kinds
from core.rules.services import lookup_value

#: How many compiled rules are kept (least recently used go first).
CACHE_SIZE = 1024


class RuleEvaluationError(InvalidInput):
    """A rule could not be evaluated with the values given (a value missing or of the wrong type,
    a division by zero, no lookup row for the key); ``field`` names the value, else ``values``."""


@dataclass(frozen=True)
class Explanation:
    """A rule's result and the value of each of its sub-terms, innermost first: ``[(text, value)]``."""

    result: Any
    steps: list[tuple[str, Any]] = field(default_factory=list)


def _item(thing: Mapping[str, Any], name: str) -> Any:
    return thing[name]


# rule-engine checks the type of every variable's value and every call's arguments again at each
# evaluation. Here both are checked once: the calls when the rule is compiled (core.rules.language),
# the values when they enter (coerce). The hot path then reads a variable and calls a function
# directly; the nodes keep their class's layout, only their evaluate is this one.


class _Variable(ast.SymbolExpression):
    __slots__ = ()

    def evaluate(self, thing: Mapping[str, Any]) -> Any:
        return thing[self.name]


class _Call(ast.FunctionCallExpression):
    __slots__ = ()

    def evaluate(self, thing: Mapping[str, Any]) -> Any:
        return self.function.evaluate(thing)(*[argument.evaluate(thing) for argument in self.arguments])


def _arithmetic(self, thing: Mapping[str, Any]) -> Any:
    return self.operation(self.left.evaluate(thing), self.right.evaluate(thing))


_OPERATIONS = {"ADD": operator.add, "SUB": operator.sub, "MUL": operator.mul, "TDIV": operator.truediv,
               "FDIV": operator.floordiv, "MOD": operator.mod, "POW": operator.pow}
_STREAMLINED = {
    ast.SymbolExpression: _Variable,
    ast.FunctionCallExpression: _Call,
    **{cls: type(f"_{cls.__name__}", (cls,), {"evaluate": _arithmetic})
       for cls in (ast.AddExpression, ast.SubtractExpression, ast.ArithmeticExpression)},
}


def _streamline(nodes: list[Any]) -> None:
    for node in nodes:
        streamlined = _STREAMLINED.get(type(node))
        if streamlined is _Variable or streamlined is _Call:
            node.__class__ = streamlined
        elif streamlined is not None and node.result_type == DataType.FLOAT:  # not "a" + "b"
            node.operation = _OPERATIONS[node.type.upper()]
            node.__class__ = streamlined


class CompiledRule:
    """A rule of a kind, parsed and type-checked; evaluate it as often as needed.

    ``names`` are the variables the rule reads; ``result_type`` is the type of what it gives
    (``number``, ``text``, ``boolean`` or ``date``, as the kind's ``result``).
    """

    def __init__(self, kind: RuleKind, text: str):
        self.kind = kind
        self.text = text
        declared = {v.name: v.type for v in kind.variables}
        allowed = {name: FUNCTIONS[name] for name in kind.functions if name in FUNCTIONS}
        types = {name: TYPES[kind_type] for name, kind_type in declared.items()}
        types.update({name: function.signature for name, function in allowed.items()})
        context = rule_engine.Context(type_resolver=types, resolver=_item, default_timezone="utc",
                                      decimal_context=DECIMAL_CONTEXT)
        library = Library({name: f.signature for name, f in allowed.items()}, frozenset(FUNCTIONS))
        self._parsed = parse(text, context, types, library)
        self._expression = self._parsed.statement.expression
        _streamline(self._parsed.nodes)
        symbols = {node.name for node in self._parsed.nodes if isinstance(node, ast.SymbolExpression)}
        self.names = frozenset(symbols & declared.keys())
        self._reads = tuple((name, declared[name]) for name in sorted(self.names))
        self._functions = {name: allowed[name].implementation for name in symbols & allowed.keys()
                           if allowed[name].implementation is not None}
        self._looks_up = "lookup" in symbols
        self.result_type = self._check_result(kind)

    def _check_result(self, kind: RuleKind) -> str:
        wanted = TYPES[kind.result]
        got = self._expression.result_type
        if got != wanted:
            raise RuleError(_("The rule gives %(type)s, but this kind of rule must give %(expected)s.",
                              type=type_name(got), expected=type_name(wanted)))
        return kind.result

    def __repr__(self) -> str:
        return f"<CompiledRule {self.kind.name}: {self.text!r}>"

    # evaluation

    def evaluate(self, values: Mapping[str, Any], *, db=None, on: date | None = None) -> Any:
        """The rule's result for ``values`` (by variable name); ``db`` is needed if it calls lookup().

        Numbers come back as Decimal, dates as date. Raises :class:`RuleEvaluationError`.
        """
        scope = self._scope(values, db, on)
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                result = self._expression.evaluate(scope)
        except (errors.EngineError, decimal.DecimalException, ArithmeticError, FunctionFailed) as exc:
            raise RuleEvaluationError(_failure(exc), field="values") from None
        return _python(result)

    def explain(self, values: Mapping[str, Any], *, db=None, on: date | None = None) -> Explanation:
        """The result and the value of each sub-term that produced it (variables and literals left out)."""
        result = self.evaluate(values, db=db, on=on)
        scope = self._scope(values, db, on)
        steps: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for node in _post_order(self._expression):
            if isinstance(node, (ast.LiteralExpressionBase, ast.SymbolExpression)):
                continue
            start, end = self._parsed.spans.get(id(node), (0, 0))
            text = _unwrap(self.text[start:end].strip())
            if not text or text in seen:
                continue
            try:
                with decimal.localcontext(DECIMAL_CONTEXT):
                    value = _python(node.evaluate(scope))
            except (errors.EngineError, decimal.DecimalException, ArithmeticError, FunctionFailed):
                continue  # a branch the result did not take (a condition's other case)
            seen.add(text)
            steps.append((text, value))
        return Explanation(result, steps)

    def _scope(self, values: Mapping[str, Any], db, on: date | None) -> dict[str, Any]:
        scope = dict(self._functions)
        for name, kind_type in self._reads:
            if name not in values or values[name] is None:
                raise RuleEvaluationError(_("The rule needs a value for '%(name)s'.", name=name), field=name)
            scope[name] = coerce(values[name], kind_type, name)
        if self._looks_up:
            if db is None:
                raise RuleEvaluationError(_("This rule reads a lookup table; it needs the database."), field="values")
            day = on or date.today()

            def lookup(table: str, key: Any) -> Decimal:
                return lookup_value(db, table, key, day)

            scope["lookup"] = lookup
        return scope


def coerce(value: Any, kind_type: str, name: str = "value") -> Any:
    """``value`` as a rule reads a variable of ``kind_type``: numbers as Decimal (from int, float or
    text), dates as midnight UTC; text "true"/"false" for booleans. Raises RuleEvaluationError."""
    try:
        if kind_type == "number" and not isinstance(value, bool):
            if isinstance(value, Decimal):
                if value.is_finite():
                    return value
            elif isinstance(value, (int, float, str)):
                number = Decimal(str(value).strip())
                if number.is_finite():
                    return number
        elif kind_type == "text" and isinstance(value, str):
            return value
        elif kind_type == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
        elif kind_type == "date":
            if isinstance(value, str):
                value = date.fromisoformat(value.strip())
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            if isinstance(value, date):
                return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    except (decimal.InvalidOperation, ValueError):
        pass
    raise RuleEvaluationError(_("'%(name)s' must be %(type)s.", name=name, type=type_name(TYPES[kind_type])),
                              field=name)


def _unwrap(text: str) -> str:
    """``text`` without parentheses around all of it: a group's span includes them."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for pos, char in enumerate(text):
            depth += (char == "(") - (char == ")")
            if depth == 0 and pos < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _python(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return value


def _failure(exc: Exception) -> str:
    inner = getattr(exc, "error", None)
    if isinstance(exc, FunctionFailed):
        return exc.message
    if isinstance(exc, decimal.DivisionByZero) or isinstance(inner, (ZeroDivisionError, decimal.DivisionByZero)) \
            or "division by zero" in str(exc).lower():
        return _("The rule divides by zero with these values.")
    if isinstance(exc, (errors.ArithmeticError, decimal.DecimalException, ArithmeticError)) \
            or isinstance(inner, (decimal.DecimalException, ArithmeticError)):
        return _("A number in the rule is out of range with these values.")
    return _("The rule cannot be evaluated with these values: %(reason)s.", reason=getattr(exc, "message", str(exc)))


def _post_order(node: Any):
    for child in _children(node):
        yield from _post_order(child)
    yield node


def _children(node: Any):
    """A node's sub-terms, left to right (rule-engine keeps them in slots or in the instance dict)."""
    values = [getattr(node, slot, None) for cls in reversed(type(node).__mro__)
              for slot in getattr(cls, "__slots__", ()) if slot != "context"]
    values += [value for name, value in getattr(node, "__dict__", {}).items() if name != "context"]
    for value in values:
        if isinstance(value, ast.ExpressionBase):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from (item for item in value if isinstance(item, ast.ExpressionBase))


# -- compiling, cached --

_cache: OrderedDict[tuple, CompiledRule] = OrderedDict()
_cache_lock = threading.Lock()


def _version(kind: RuleKind) -> tuple:
    """What of a kind a compiled rule depends on: a kind declared anew with other variables is another version."""
    return (kind.name, kind.result, kind.functions, tuple((v.name, v.type) for v in kind.variables))


def compile_rule(kind: RuleKind | str, text: str, *, field: str = "rule") -> CompiledRule:
    """``text`` compiled as a rule of ``kind`` (a RuleKind, or the name of a registered one), cached.

    Raises InvalidInput naming ``field``, with a message that says what is wrong and where (line and
    column): a syntax error, an unknown name, a type mismatch, attribute access, a function the kind
    does not allow, a text too long or nested too deeply, a result of the wrong type.
    """
    if isinstance(kind, str):
        found = rule_kinds().get(kind)
        if found is None:
            raise InvalidInput(_("There is no rule kind '%(kind)s'.", kind=kind), field="kind")
        kind = found
    if not isinstance(text, str):
        raise InvalidInput(_("A rule is a text."), field=field)
    key = (_version(kind), text)
    with _cache_lock:
        compiled = _cache.get(key)
        if compiled is not None:
            _cache.move_to_end(key)
            return compiled
    try:
        compiled = CompiledRule(kind, text)
    except RuleError as exc:
        raise InvalidInput(exc.message, field=field) from None
    with _cache_lock:
        _cache[key] = compiled
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled

