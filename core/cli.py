"""The ``kontor`` command: Flask's CLI over the app factory, with the core's and modules' commands."""
from __future__ import annotations

import contextvars
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from core.actor import set_actor
from core.company.scope import set_scope
from core.app import create_app


def _origin() -> str:
    return "cli: kontor " + " ".join(sys.argv[1:])


def _create_app(*_args):
    app = create_app()
    set_actor(None, _origin(), username="cli")  # the system, unless --as names a user
    return app


class KontorGroup(FlaskGroup):
    """Flask's group over Kontor's app factory, without Flask's --app/--env-file/--debug options."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("load_dotenv", False)
        super().__init__(*args, **kwargs)
        self.params = [p for p in self.params if p.name not in {"app", "env_file", "debug"}]

    def main(self, *args, **kwargs):
        os.environ.setdefault("FLASK_RUN_FROM_CLI", "false")
        # The command's actor lives and dies with the command, also when it is invoked in-process
        # (a test's CliRunner): run it in a copy of the caller's context.
        return contextvars.copy_context().run(super().main, *args, **kwargs)


@click.group(cls=KontorGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
@click.option("--as", "as_user", metavar="USER", default=None,
              help="Act as this user: their permissions apply and the audit log names them.")
@click.option("--company", "company", metavar="COMPANY", default=None,
              help="Work in this company (its id or legal name); default: the user's current company, "
                   "or the default company.")
@click.pass_context
def main(ctx, as_user, company):
    """Kontor: one platform for a company's front and back office."""
    user = None
    if as_user is not None:
        user = _user_named(ctx.ensure_object(ScriptInfo).load_app(), as_user)
        set_actor(user, _origin())
    if company is not None:
        set_scope(_company_scope(ctx.ensure_object(ScriptInfo).load_app(), company, user))


def _company_scope(app, name: str, user):
    """The scope of ``--company NAME``: the company with that id or legal name, which ``user`` (if
    any) must work in; exits with an error otherwise."""
    from sqlalchemy import func, select

    from core.company.models import Company
    from core.company.scope import CompanyScope, user_company_ids
    from core.db import session

    with app.app_context():
        query = select(Company.id)
        text = name.strip()
        query = query.where(Company.id == int(text)) if text.isdigit() else query.where(
            func.lower(Company.legal_name) == text.lower())
        company_id = session.execute(query).scalar()
        if company_id is None:
            fail(f"there is no company {name!r}")
        if user is not None and company_id not in user_company_ids(session, user.id):
            fail(f"{user.username} does not work in {name!r}")
        return CompanyScope(company_id, (company_id,))


def _user_named(app, username: str):
    """The active user called ``username`` (any case); exits with an error when there is none."""
    from sqlalchemy import func, select

    from core.auth.models import User
    from core.db import session

    with app.app_context():
        user = session.execute(select(User).where(func.lower(User.username) == username.strip().lower())).scalar()
        if user is None or not user.active:
            fail(f"there is no active user named {username!r} to act as")
        return user


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` to stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


@main.command("init")
@click.option("--company", "company_name", default=None, help="The company's legal name.")
@click.option("--currency", default="EUR", show_default=True, help="Base currency (ISO 4217).")
@click.option("--country", default="", help="Country (ISO 3166 alpha-2).")
@with_appcontext
def init_command(company_name, currency, country):
    """Create the database tables of the core (or upgrade them), its roles and permissions."""
    from core.modules.lifecycle import initialise, migration_locations

    kontor = current_app.extensions["kontor"]
    new = initialise(kontor.engine, kontor.sessionmaker, company_name=company_name, currency=currency.upper(),
                     country=country.upper(), locations=migration_locations(kontor.discovery, set(kontor.installed)))
    click.echo("Initialised a new Kontor database." if new else "The Kontor database is up to date.")


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reload/--no-reload", default=False, help="Restart when code changes.")
def run_command(host, port, reload):
    """Serve Kontor with the development server."""
    from werkzeug.serving import run_simple

    from core.wsgi import Dispatcher

    run_simple(host, port, Dispatcher(), use_reloader=reload, threaded=True)


@main.command("serve", with_appcontext=False)  # no app (and no pooled connection) in the arbiter before it forks
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", default=2, show_default=True, type=int)
def serve_command(bind, workers):
    """Serve Kontor with gunicorn (production)."""
    from core.server import serve

    _check_serving_settings()
    serve(bind=bind, workers=workers)


def _check_serving_settings() -> None:
    """Exit with an error before serving settings that would break: a server database (so possibly
    several hosts) without an explicit secret key, or database settings that are not usable."""
    from core.config import SettingError, database_options, uses_sqlite

    url = os.environ.get("KONTOR_DATABASE_URL", "")
    if url and not uses_sqlite(url) and not os.environ.get("KONTOR_SECRET_KEY", "").strip():
        fail("KONTOR_SECRET_KEY is not set. With a PostgreSQL database Kontor may run on several hosts, "
             "and a key generated on each host would make a login on one host invalid on the others. "
             "Generate one key, e.g. with `python -c 'import secrets; print(secrets.token_hex(32))'`, "
             "and set KONTOR_SECRET_KEY to it on every host.")
    try:
        database_options()
    except SettingError as exc:
        fail(str(exc))


from core.demo import demo_command  # noqa: E402

main.add_command(demo_command)


@main.group("plugin")
def plugin_group():
    """Write Kontor plugins."""


@plugin_group.command("new", with_appcontext=False)  # writes files only: no app, no database
@click.argument("name")
@click.option("--into", "into", type=click.Path(file_okay=False, path_type=str), default=None,
              help="The folder to write (default ./kontor-NAME); it must not exist or be empty.")
@click.option("--title", default=None, help="The name people see (default NAME, capitalised).")
def plugin_new_command(name, into, title):
    """Write a new plugin called NAME: a package that installs, with its tests, migration and README."""
    from core.scaffold import ScaffoldError, names, scaffold

    try:
        folder = scaffold(name, into, title=title)
    except ScaffoldError as exc:
        fail(str(exc))
    package = names(name, title)["package"]
    click.echo(f"Wrote {folder}.\nNext: pip install -e {folder} (or KONTOR_PLUGINS={package}.plugin), "
               f"kontor modules install {name}, and pytest {folder}/tests.")
