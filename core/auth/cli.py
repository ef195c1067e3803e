"""``kontor users``: create users, print API tokens, list, deactivate, reset passwords."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.auth import services, tokens
from core.cli import fail
from core.db import session as db
from core.web.transaction import cli_refusal, transaction


def _user_or_fail(username: str):
    with transaction(on_refusal=cli_refusal):
        return services.find_user(db, username)


def _company_id(name: str) -> int:
    """The id of the company called ``name`` (its id or legal name, ignoring case); exits otherwise."""
    from sqlalchemy import func, select

    from core.company.models import Company

    text = name.strip()
    query = select(Company.id).where(Company.id == int(text) if text.isdigit()
                                     else func.lower(Company.legal_name) == text.lower())
    company_id = db.execute(query).scalar()
    if company_id is None:
        fail(f"There is no company {name!r}.")
    return company_id


@click.group("users")
def users_group():
    """Manage users and their API tokens."""


@users_group.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Give the user the admin role (every permission).")
@click.option("--role", "roles", multiple=True, help="A role to give (repeatable).")
@click.option("--email", default="", help="The user's email address.")
@click.option("--full-name", default="", help="The user's full name.")
@click.option("--company", "companies", multiple=True, metavar="COMPANY",
              help="A company the user works in, by id or legal name (repeatable; the first is their current "
                   "one). Default: the default company.")
@with_appcontext
def create_command(username, admin, roles, email, full_name, companies):
    """Create a user and print their generated password."""
    wanted = list(dict.fromkeys(([services.ADMIN_ROLE] if admin else []) + list(roles)))
    with transaction(on_refusal=cli_refusal):
        company_ids = [_company_id(name) for name in companies] if companies else None
        user, password = services.create_user(db, username, full_name=full_name, email=email, roles=wanted,
                                              companies=company_ids)
    click.echo(f"Created the user {user.username}" + (f" with the roles {', '.join(wanted)}." if wanted else "."))
    click.echo(f"Password: {password}")


@users_group.command("token")
@click.argument("username")
@click.option("--name", "label", default="", help="What the token is for.")
@with_appcontext
def token_command(username, label):
    """Create an API token for a user and print it alone (it is shown only this once)."""
    user = _user_or_fail(username)
    if not user.active:
        fail(f"The user {user.username} is deactivated.")
    with transaction(on_refusal=cli_refusal):
        _, secret = tokens.create_token(db, user, label or "CLI")
    click.echo(secret)


@users_group.command("list")
@with_appcontext
def list_command():
    """List the users with their roles."""
    for user in db.execute(services.users_query().order_by("username")).scalars():
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username}\t{user.full_name}\t{user.email}\t{','.join(user.role_names)}\t{state}")


@users_group.command("deactivate")
@click.argument("username")
@with_appcontext
def deactivate_command(username):
    """Deactivate a user: their sessions and API tokens stop working at once."""
    user = _user_or_fail(username)
    with transaction(on_refusal=cli_refusal):
        services.set_active(db, user, False)
    click.echo(f"Deactivated {user.username}.")


@users_group.command("reset-password")
@click.argument("username")
@with_appcontext
def reset_password_command(username):
    """Give a user a new generated password (printed) and end their sessions."""
    user = _user_or_fail(username)
    with transaction(on_refusal=cli_refusal):
        password = services.reset_password(db, user)
    click.echo(f"Password: {password}")
