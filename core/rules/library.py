"""The functions a rule may call, each typed so that a call is checked when the rule is saved."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from rule_engine.types import DataType

from core.i18n import gettext as _

NUMBER = DataType.FLOAT
#: min() and max() take up to this many arguments.
MAX_ARGUMENTS = 10
CENT = Decimal("0.01")


class FunctionFailed(Exception):
    """A library function refused its arguments; ``message`` is translated and says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Function:
    """A function of the library: its typed signature, what it does and a line for the editor."""

    name: str
    arguments: tuple[Any, ...]
    minimum: int
    result: Any
    implementation: Callable[..., Any] | None  # None: bound per evaluation (lookup reads the database)
    usage: str

    @property
    def signature(self):
        return DataType.FUNCTION(self.name, return_type=self.result, argument_types=self.arguments,
                                 minimum_arguments=self.minimum)


def _round(x: Decimal, places: Decimal = Decimal(0)) -> Decimal:
    if places != places.to_integral_value() or not 0 <= places <= 10:
        raise FunctionFailed(_("round() takes 0 to 10 decimal places, not %(places)s.", places=places))
    return x.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def _round_money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(x: Decimal, p: Decimal) -> Decimal:
    return x * p / 100


def _min(*values: Decimal) -> Decimal:
    return min(values)


def _max(*values: Decimal) -> Decimal:
    return max(values)


def _floor(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_FLOOR)


def _ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=ROUND_CEILING)


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("min", (NUMBER,) * MAX_ARGUMENTS, 1, NUMBER, _min, "min(a, b, …)"),
    Function("max", (NUMBER,) * MAX_ARGUMENTS, 1, NUMBER, _max, "max(a, b, …)"),
    Function("abs", (NUMBER,), 1, NUMBER, abs, "abs(x)"),
    Function("round_money", (NUMBER,), 1, NUMBER, _round_money, "round_money(x)"),
    Function("round", (NUMBER, NUMBER), 1, NUMBER, _round, "round(x, places)"),
    Function("floor", (NUMBER,), 1, NUMBER, _floor, "floor(x)"),
    Function("ceil", (NUMBER,), 1, NUMBER, _ceil, "ceil(x)"),
    Function("percent", (NUMBER, NUMBER), 2, NUMBER, _percent, "percent(x, p)"),
    Function("lookup", (DataType.STRING, DataType.UNDEFINED), 2, NUMBER, None, "lookup('table', key)"),
)}


def describe(name: str) -> str:
    """What the function does, for the editor (translated)."""
    return {
        "min": _("the smallest of the numbers"),
        "max": _("the largest of the numbers"),
        "abs": _("the number without its sign"),
        "round_money": _("rounded to cents, halves up"),
        "round": _("rounded to the given decimal places, halves up"),
        "floor": _("rounded down to a whole number"),
        "ceil": _("rounded up to a whole number"),
        "percent": _("p percent of x"),
        "lookup": _("the value of a lookup table's row for the key, valid on the day"),
    }.get(name, "")
