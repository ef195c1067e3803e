"""The rule language: rule-engine's grammar cut down to what business rules need, typed and with positions.

A rule's text is lexed and parsed by rule-engine; every term then is built here, so that a refusal
(a construct outside the allowlist, an unknown name, a type mismatch) names the term and where it
stands. Nothing outside the allowlist is ever built: no attribute access, no ``$`` built-ins, no
regular expressions, no comprehensions, no bit shifts. A rule has no loops, so the number of its
terms bounds the steps of an evaluation; the decimal context bounds each step.
"""
from __future__ import annotations

import collections
import contextvars
import decimal
import difflib
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from rule_engine import ast, errors
from rule_engine.parser import Parser, _DeferredAstNode
from rule_engine.types import DataType, _FunctionDataTypeDef

from core.i18n import gettext as _

MAX_LENGTH = 4000
MAX_NESTING = 40  # brackets inside brackets
MAX_DEPTH = 100  # terms inside terms (a + b + c … nests to the left)
MAX_TERMS = 500

#: Every number of a rule is computed in this context: 34 significant digits (IEEE decimal128), and
#: an exponent bounded so that ``2 ** 100000000`` is refused at once instead of burning the CPU.
DECIMAL_CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

#: The rule language's types, by the names modules declare (RuleVariable.type, RuleKind.result).
TYPES = {"number": DataType.FLOAT, "text": DataType.STRING, "boolean": DataType.BOOLEAN, "date": DataType.DATETIME}

# Characters that make a rule read differently from how it runs (Trojan Source, CVE-2021-42574).
_INVISIBLE = {"Cf", "Cc", "Co", "Cs", "Zl", "Zp"}


class RuleError(Exception):
    """A rule refused: ``message`` says what and where (already translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def type_name(datatype: Any) -> str:
    """What a value of ``datatype`` is called in a message: "a number", "a text", …"""
    names = ((DataType.FLOAT, _("a number")), (DataType.STRING, _("a text")),
             (DataType.BOOLEAN, _("true or false")), (DataType.DATETIME, _("a date")),
             (DataType.ARRAY, _("a list")), (DataType.FUNCTION, _("a function")), (DataType.NULL, _("null")))
    for known, name in names:
        if DataType.is_compatible(datatype, known) and datatype != DataType.UNDEFINED:
            return name
    return _("a value of unknown type")


def where(text: str, pos: int) -> str:
    """``line L, column C`` of the character at ``pos`` (both counted from 1)."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return _("line %(line)d, column %(column)d", line=line, column=column)


# -- phase 1: rule-engine's parser, recording where each term starts and ends --


class _Term(_DeferredAstNode):
    """A parsed, not yet built term and its span in the text (start, start of its last token)."""

    __slots__ = ("span",)

    def build(self) -> Any:
        return _building.get().build(self)


class _Built:
    """A child already built (and checked) here, handed to rule-engine's builder in its place."""

    __slots__ = ("node",)

    def __init__(self, node: Any):
        self.node = node

    def build(self) -> Any:
        return self.node


def _tracked(production):
    def tracked(self, p):
        production(self, p)
        term = p[0]
        if isinstance(term, _DeferredAstNode):
            if not isinstance(term, _Term):
                term = p[0] = _copy_term(term)
            term.span = p.lexspan(0)  # a group "(x)" widens its inner term's span to the parentheses

    tracked.__doc__ = production.__doc__
    return tracked


def _copy_term(node: _DeferredAstNode) -> _Term:
    term = _Term(node.cls, args=node.args, kwargs=node.kwargs, method=node.method)
    term.span = (0, 0)
    return term


_PositionedParser = type("_PositionedParser", (Parser,), {
    "start": "statement",
    **{name: _tracked(getattr(Parser, name)) for name in dir(Parser)
       if name.startswith("p_") and name != "p_error"},
})
_parser = _PositionedParser()
_parser_lock = threading.Lock()


def _tokens(text: str) -> dict[int, int]:
    """Where each token ends, by where it starts; refuses characters the language does not have."""
    lexer = _parser._lexer.clone()
    lexer.input(text)
    ends = {}
    while True:
        try:
            token = lexer.token()
        except errors.RuleSyntaxError as exc:
            pos = lexer.lexpos
            if exc.token is None:  # a reserved word (else, elif, while): the lexer is past it
                word = re.search(r"[A-Za-z_]\w*$", text[:pos]).group(0)
                raise RuleError(_("'%(word)s' is a reserved word, not part of the rule language (at %(where)s).",
                                  word=word, where=where(text, pos - len(word)))) from None
            char = text[pos]
            raise RuleError(_("Unexpected character '%(char)s' (%(code)s) at %(where)s.", char=char,
                              code=_codepoint(char), where=where(text, pos))) from None
        if token is None:
            return ends
        ends[token.lexpos] = lexer.lexpos


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '')}".strip()


def _check_text(text: str) -> None:
    if not text.strip():
        raise RuleError(_("Write a rule."))
    if len(text) > MAX_LENGTH:
        raise RuleError(_("A rule may be at most %(limit)d characters long; this one has %(length)d.",
                          limit=MAX_LENGTH, length=len(text)))
    for pos, char in enumerate(text):
        if char not in "\n\t" and unicodedata.category(char) in _INVISIBLE:
            raise RuleError(_("The rule contains an invisible or direction-changing character (%(code)s) at "
                              "%(where)s.", code=_codepoint(char), where=where(text, pos)))
    depth = 0
    for pos, char in enumerate(text):  # before parsing: the parser's build would recurse as deep
        depth += char in "([{"
        depth -= char in ")]}"
        if depth > MAX_NESTING:
            raise RuleError(_("The rule is nested too deeply (more than %(limit)d levels) at %(where)s.",
                              limit=MAX_NESTING, where=where(text, pos)))


def _parse(text: str, context: Any) -> _Term:
    with _parser_lock:
        _parser.context = context
        try:
            return _parser._parser.parse(text, lexer=_parser._lexer.clone(), tracking=True)
        except errors.RuleSyntaxError as exc:
            if exc.token is None:
                raise RuleError(_("The rule ends too early, at %(where)s.", where=where(text, len(text)))) from None
            raise RuleError(_("Syntax error at %(where)s: '%(token)s' was not expected there.",
                              where=where(text, exc.token.lexpos), token=exc.token.value)) from None
        except errors.EngineError as exc:  # a malformed literal
            raise RuleError(_("Syntax error: %(reason)s.", reason=exc.message)) from None
        finally:
            _parser.context = None


# -- phase 2: building each term, refusing what the language does not allow --

_REFUSED = {
    ast.GetAttributeExpression: "attribute",
    ast.ComprehensionExpression: "comprehension",
    ast.MappingExpression: "mapping",
    ast.SetExpression: "set",
    ast.GetItemExpression: "index",
    ast.GetSliceExpression: "slice",
    ast.FuzzyComparisonExpression: "regex",
    ast.BitwiseExpression: "bitwise",
    ast.BitwiseShiftExpression: "shift",
    ast.NullExpression: "null",
    ast.CoalesceExpression: "coalesce",
    ast.BytesExpression: "bytes",
    ast.TimedeltaExpression: "timedelta",
}


def _refused_name(code: str) -> str:
    return {
        "comprehension": _("A list comprehension"), "mapping": _("A mapping"), "set": _("A set"),
        "index": _("Indexing with [ ]"), "slice": _("A slice"), "regex": _("A regular-expression match"),
        "bitwise": _("A bitwise operator"), "shift": _("A shift operator"), "null": _("null"),
        "coalesce": _("The '??' operator"), "bytes": _("A byte string"), "timedelta": _("A time span"),
    }[code]


@dataclass
class Library:
    """What a rule may call: the typed functions, by name, allowed for its kind."""

    functions: dict[str, _FunctionDataTypeDef]
    known: frozenset[str]  # every function of the core's library, allowed here or not


class _Builder:
    def __init__(self, text: str, ends: dict[int, int], variables: dict[str, Any], library: Library):
        self.text = text
        self.ends = ends
        self.variables = variables
        self.library = library
        self.spans: dict[int, tuple[int, int]] = {}
        self.depth = 0
        self.nodes: list[Any] = []  # keeps every built node alive, so that the ids in spans stay theirs

    # positions

    def source(self, term: _Term) -> str:
        start, last = term.span
        return self.text[start:self.ends.get(last, last + 1)]

    def at(self, pos: int) -> str:
        return where(self.text, pos)

    def after(self, term: _Term) -> int:
        """Where the operator after ``term`` stands."""
        pos = self.ends.get(term.span[1], term.span[1] + 1)
        while pos < len(self.text) and self.text[pos].isspace():
            pos += 1
        return pos

    # building

    def build(self, term: _Term) -> Any:
        self.depth += 1
        try:
            return self.build_term(term)
        finally:
            self.depth -= 1

    def build_term(self, term: _Term) -> Any:
        if self.depth > MAX_DEPTH:
            raise RuleError(_("The rule is nested too deeply (more than %(limit)d levels) at %(where)s.",
                              limit=MAX_DEPTH, where=self.at(term.span[0])))
        if term.cls in _REFUSED:
            self.refuse(term)
        if term.cls is ast.SymbolExpression:
            self.check_symbol(term)
        if term.cls is ast.FloatExpression and str(term.args[1]).lower() in ("inf", "nan"):
            raise RuleError(_("'%(word)s' is not a number a rule may use (at %(where)s).", word=term.args[1],
                              where=self.at(term.span[0])))
        children = [self.child(arg) for arg in term.args]
        kwargs = {key: self.child(value) for key, value in term.kwargs.items()}
        self.check_types(term, children)
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                node = getattr(term.cls, term.method)(*children, **kwargs)
        except (errors.EngineError, decimal.DecimalException, ArithmeticError) as exc:
            raise RuleError(self.cannot_compute(term, exc)) from None
        self.spans[id(node)] = (term.span[0], self.ends.get(term.span[1], term.span[1] + 1))
        self.nodes.append(node)
        if len(self.nodes) > MAX_TERMS:
            raise RuleError(_("The rule has too many terms (more than %(limit)d).", limit=MAX_TERMS))
        return node

    def child(self, arg: Any) -> Any:
        if isinstance(arg, _DeferredAstNode):
            return _Built(arg.build())
        if isinstance(arg, (tuple, list, collections.deque)) and any(isinstance(a, _DeferredAstNode) for a in arg):
            return type(arg)(self.child(a) for a in arg)
        return arg

    def refuse(self, term: _Term) -> None:
        if term.cls is ast.GetAttributeExpression:
            start, last = term.span
            raise RuleError(_("Attribute access ('.%(name)s') is not allowed in a rule (at %(where)s).",
                              name=term.args[2], where=self.at(max(start, last - 1))))
        raise RuleError(_("%(construct)s is not allowed in a rule (at %(where)s).",
                          construct=_refused_name(_REFUSED[term.cls]), where=self.at(term.span[0])))

    def check_symbol(self, term: _Term) -> None:
        name, scope = term.args[1], term.kwargs.get("scope")
        pos = self.at(term.span[0])
        if scope is not None:
            raise RuleError(_("'$%(name)s' is not allowed: a rule calls only the functions listed beside it "
                              "(at %(where)s).", name=name, where=pos))
        if name in self.variables or name in self.library.functions:
            return
        if name in self.library.known:
            raise RuleError(_("The function %(name)s() is not allowed in this kind of rule (at %(where)s).",
                              name=name, where=pos))
        message = _("Unknown name '%(name)s' at %(where)s.", name=name, where=pos)
        close = difflib.get_close_matches(name, [*self.variables, *self.library.functions], n=1, cutoff=0.75)
        if close:
            message += " " + _("Did you mean '%(name)s'?", name=close[0])
        raise RuleError(message)

    def cannot_compute(self, term: _Term, exc: Exception) -> str:
        reason = _("a number out of range") if isinstance(exc, (errors.ArithmeticError, decimal.DecimalException,
                                                                ArithmeticError)) else str(exc)
        return _("'%(term)s' cannot be computed: %(reason)s (at %(where)s).",
                 term=self.source(term), reason=reason, where=self.at(term.span[0]))

    # types: stricter than rule-engine's, so that a saved rule never fails with a type error

    def check_types(self, term: _Term, children: list[Any]) -> None:
        terms = [a for a in term.args if isinstance(a, _Term)]
        nodes = [c.node for c in children if isinstance(c, _Built)]
        check = _CHECKS.get(term.cls)
        if check is not None:
            check(self, term, terms, nodes, children)

    def expect(self, term: _Term, node: Any, wanted: Any, message: str, **params: Any) -> None:
        if not DataType.is_compatible(node.result_type, wanted) or node.result_type == DataType.UNDEFINED:
            raise RuleError(message % dict(term=self.source(term), type=type_name(node.result_type),
                                           where=self.at(term.span[0]), **params))

    def same(self, left: _Term, right: _Term, a: Any, b: Any, message: str, **params: Any) -> None:
        if a.result_type != b.result_type:
            raise RuleError(message % dict(term=self.source(left), type=type_name(a.result_type),
                                           other=type_name(b.result_type), where=self.at(self.after(left)),
                                           **params))


def _check_logic(builder, term, terms, nodes, children):
    message = _("'%(term)s' is %(type)s, but '%(op)s' needs true or false (at %(where)s).")
    op = _OPERATORS[term.args[1]]
    for sub, node in zip(terms, nodes):
        builder.expect(sub, node, DataType.BOOLEAN, message, op=op)


def _check_unary(builder, term, terms, nodes, children):
    if term.args[1] == "NOT":
        builder.expect(terms[0], nodes[0], DataType.BOOLEAN,
                       _("'%(term)s' is %(type)s, but '%(op)s' needs true or false (at %(where)s)."), op="not")
    else:
        builder.expect(terms[0], nodes[0], DataType.FLOAT,
                       _("'%(term)s' is %(type)s and cannot be negated (at %(where)s)."))


def _check_equality(builder, term, terms, nodes, children):
    builder.same(terms[0], terms[1], nodes[0], nodes[1],
                 _("'%(term)s' is %(type)s, compared with %(other)s at %(where)s."))


def _check_ordering(builder, term, terms, nodes, children):
    _check_equality(builder, term, terms, nodes, children)
    if nodes[0].result_type not in (DataType.FLOAT, DataType.DATETIME, DataType.STRING):
        raise RuleError(_("'%(term)s' is %(type)s and cannot be ordered (at %(where)s).")
                        % dict(term=builder.source(terms[0]), type=type_name(nodes[0].result_type),
                               where=builder.at(builder.after(terms[0]))))


def _check_arithmetic(builder, term, terms, nodes, children):
    op = _OPERATORS[term.args[1]]
    for sub, node in zip(terms, nodes):
        builder.expect(sub, node, DataType.FLOAT, _("'%(term)s' is %(type)s, but '%(op)s' needs numbers "
                                                   "(at %(where)s)."), op=op)


def _check_add(builder, term, terms, nodes, children):
    if nodes[0].result_type == DataType.STRING and nodes[1].result_type == DataType.STRING:
        return
    _check_arithmetic(builder, term, terms, nodes, children)


def _check_ternary(builder, term, terms, nodes, children):
    builder.expect(terms[0], nodes[0], DataType.BOOLEAN,
                   _("The condition '%(term)s' is %(type)s, not true or false (at %(where)s)."))
    if nodes[1].result_type != nodes[2].result_type:
        raise RuleError(_("The two cases of '%(term)s' give %(type)s and %(other)s; they must give the same "
                          "type (at %(where)s).") % dict(term=builder.source(term),
                                                         type=type_name(nodes[1].result_type),
                                                         other=type_name(nodes[2].result_type),
                                                         where=builder.at(term.span[0])))


def _check_contains(builder, term, terms, nodes, children):
    container, member = nodes[0], nodes[1]
    container_term, member_term = terms[0], terms[1]
    if container.result_type == DataType.STRING:
        builder.same(member_term, container_term, member, container,
                     _("'%(term)s' is %(type)s, looked for in %(other)s at %(where)s."))
        return
    builder.expect(container_term, container, DataType.ARRAY,
                   _("'%(term)s' is %(type)s: 'in' needs a list or a text after it (at %(where)s)."))
    wanted = container.result_type.value_type
    if wanted != DataType.UNDEFINED and member.result_type != wanted:
        raise RuleError(_("'%(term)s' is %(type)s, looked for in a list of %(other)s at %(where)s.")
                        % dict(term=builder.source(member_term), type=type_name(member.result_type),
                               other=type_name(wanted), where=builder.at(builder.after(member_term))))


def _check_array(builder, term, terms, nodes, children):
    members = [(sub, built.node) for sub, built in zip(term.args[1], children[1])]
    for sub, node in members[1:]:
        if node.result_type != members[0][1].result_type:
            raise RuleError(_("A list holds values of one type: '%(term)s' is %(type)s, the first item is "
                              "%(other)s (at %(where)s).") % dict(term=builder.source(sub),
                                                                type=type_name(node.result_type),
                                                                other=type_name(members[0][1].result_type),
                                                                where=builder.at(sub.span[0])))


def _check_call(builder, term, terms, nodes, children):
    function_term, function = terms[0], nodes[0]
    if not isinstance(function, ast.SymbolExpression) or function.name not in builder.library.functions:
        raise RuleError(_("Only the functions listed beside the rule can be called (at %(where)s).",
                          where=builder.at(term.span[0])))
    signature = builder.library.functions[function.name]
    arguments = list(zip(term.args[2], children[2]))
    low, high = signature.minimum_arguments, len(signature.argument_types)
    if not low <= len(arguments) <= high:
        raise RuleError(_("%(function)s() takes %(low)d to %(high)d arguments, not %(count)d (at %(where)s).",
                          function=function.name, low=low, high=high, count=len(arguments),
                          where=builder.at(term.span[0])))
    for number, ((sub, built), wanted) in enumerate(zip(arguments, signature.argument_types), 1):
        if wanted != DataType.UNDEFINED and built.node.result_type != wanted:
            raise RuleError(_("Argument %(number)d of %(function)s() is %(type)s; it must be %(expected)s "
                              "(at %(where)s).", number=number, function=function.name,
                              type=type_name(built.node.result_type), expected=type_name(wanted),
                              where=builder.at(sub.span[0])))


_OPERATORS = {name: op for op, name in Parser.op_names.items()}

_CHECKS = {
    ast.LogicExpression: _check_logic,
    ast.UnaryExpression: _check_unary,
    ast.ComparisonExpression: _check_equality,
    ast.ArithmeticComparisonExpression: _check_ordering,
    ast.ArithmeticExpression: _check_arithmetic,
    ast.SubtractExpression: _check_arithmetic,
    ast.AddExpression: _check_add,
    ast.TernaryExpression: _check_ternary,
    ast.ContainsExpression: _check_contains,
    ast.ArrayExpression: _check_array,
    ast.FunctionCallExpression: _check_call,
}

_building: contextvars.ContextVar[_Builder] = contextvars.ContextVar("rule_builder")


@dataclass
class Parsed:
    """A rule's built tree, with the span in the text of each of its terms (by the node's id)."""

    statement: Any
    spans: dict[int, tuple[int, int]]
    nodes: list[Any]


def parse(text: str, context: Any, variables: dict[str, Any], library: Library) -> Parsed:
    """Parse and build ``text``, refusing with a :class:`RuleError` that says what and where."""
    _check_text(text)
    ends = _tokens(text)
    deferred = _parse(text, context)
    builder = _Builder(text, ends, variables, library)
    token = _building.set(builder)
    try:
        statement = deferred.build()
    except RecursionError:
        raise RuleError(_("The rule is nested too deeply.")) from None
    finally:
        _building.reset(token)
    return Parsed(statement, builder.spans, builder.nodes)
