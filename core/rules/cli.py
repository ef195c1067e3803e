"""``kontor rules``: list the rule kinds, check a rule, try one with values."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.actor import current_actor
from core.cli import fail
from core.contrib import RuleKind
from core.db import session as db
from core.errors import KontorError
from core.rules.engine import compile_rule
from core.rules.registry import rule_kinds
from core.rules.trying import json_value, kind_to_try, try_rule
from core.web.transaction import cli_refusal


@click.group("rules")
def rules_group():
    """The rule language: the kinds of rule, checking and trying rules."""


def _kind(name: str) -> RuleKind:
    """The kind ``name``; with ``--as USER``, only if that user may write its rules."""
    try:
        if current_actor() is not None:
            return kind_to_try(name)
        kind = rule_kinds().get(name)
    except KontorError as exc:
        cli_refusal(exc)
    if kind is None:
        fail(f"there is no rule kind {name!r} (see `kontor rules kinds`)")
    return kind


@rules_group.command("kinds")
@with_appcontext
def kinds_command():
    """Every rule kind: name, result type, variables (name:type) and functions (tab-separated)."""
    for kind in sorted(rule_kinds().values(), key=lambda k: k.name):
        variables = " ".join(f"{v.name}:{v.type}" for v in kind.variables)
        click.echo("\t".join([kind.name, kind.result, variables, " ".join(kind.functions)]))


@rules_group.command("check")
@click.argument("kind")
@click.argument("text")
@with_appcontext
def check_command(kind, text):
    """Compile TEXT as a rule of KIND: the variables it reads, or what is wrong and where."""
    try:
        rule = compile_rule(_kind(kind), text)
    except KontorError as exc:
        cli_refusal(exc)
    click.echo(f"ok: gives {rule.result_type}, reads {', '.join(sorted(rule.names)) or 'nothing'}")


@rules_group.command("try")
@click.argument("kind")
@click.argument("text")
@click.argument("values", nargs=-1, metavar="NAME=VALUE...")
@click.option("--on", default="", help="The day lookup() reads rows valid on (YYYY-MM-DD; default today).")
@with_appcontext
def try_command(kind, text, values, on):
    """Evaluate TEXT as a rule of KIND with NAME=VALUE pairs: each sub-term's value, then the result."""
    given = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep:
            fail(f"{pair!r}: give values as NAME=VALUE")
        given[name.strip()] = value
    try:
        explanation = try_rule(db, _kind(kind), text, given, on=on)
    except KontorError as exc:
        cli_refusal(exc)
    finally:
        db.rollback()
    for step, value in explanation.steps:
        click.echo(f"{step}\t{json_value(value)}")
    click.echo(f"= {json_value(explanation.result)}")
