"""``kontor demo``: a demo group of two companies, users of different roles, every bundled module and its demo data.

Safe to run again: what exists already (the company, users, installed modules, demo data a module
has loaded) is kept and said so. Passwords are generated, never defaults, and printed once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.app import create_app

URL = "http://127.0.0.1:5000"
PLACEHOLDER_COMPANY = "My Company"  # what ``kontor init`` names a company it was not told about
DEMO_DATA_KEY = "core.demo_data_loaded"  # the modules whose demo data is in (a core_setting row)
BUNDLED_DISTRIBUTION = "kontor"

COMPANY = {
    "legal_name": "Nordlys Handel ApS",
    "base_currency": "DKK",
    "country": "DK",
    "locale": "en",
    "fiscal_year_start_month": 1,
    "fiscal_year_start_day": 1,
    "street": "Strandgade 12",
    "postal_code": "1401",
    "city": "København K",
    "email": "kontor@nordlys.example",
    "phone": "+45 33 12 34 56",
}


#: The group's second company: a German sales subsidiary keeping its books in euros.
SUBSIDIARY = {
    "legal_name": "Nordlys Vertrieb GmbH",
    "base_currency": "EUR",
    "country": "DE",
    "locale": "de",
    "fiscal_year_start_month": 1,
    "fiscal_year_start_day": 1,
    "vat_id": "DE136695976",
    "street": "Große Elbstraße 145",
    "postal_code": "22767",
    "city": "Hamburg",
    "email": "vertrieb@nordlys.example",
    "phone": "+49 40 1234 5670",
    "bank_name": "Hamburger Sparkasse",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}
PARENT, SUBSIDIARY_NAME = COMPANY["legal_name"], SUBSIDIARY["legal_name"]


@dataclass(frozen=True)
class DemoUser:
    """A user the demo creates, working in ``companies`` (legal names; the first is their current one)."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    companies: tuple[str, ...] = (PARENT, SUBSIDIARY_NAME)


USERS = (
    DemoUser("admin", "Astrid Holm", ("admin",)),
    DemoUser("sales", "Mads Berg", ("staff", "salesperson"), (PARENT,)),
    DemoUser("verkauf", "Lena Schäfer", ("staff", "salesperson"), (SUBSIDIARY_NAME,)),
    DemoUser("manager", "Sofie Krag", ("staff", "sales_manager")),
    DemoUser("service", "Jonas Vind", ("staff", "service_agent"), (PARENT,)),
    DemoUser("books", "Ida Munk", ("staff", "accountant")),
    DemoUser("viewer", "Freja Lund", ("viewer",)),
)
VIEWER_ROLE = ("viewer", "Viewer", "Sees everything, changes nothing.")


def _rebuilt(app: Flask) -> Flask:
    """A fresh app for the module set now in the database, with ``app``'s settings."""
    keys = ("DATABASE_URL", "INSTANCE_PATH", "SECRET_KEY", "EXTRA_PLUGINS", "MARKETPLACE")
    return create_app({key: app.config[key] for key in keys if key in app.config}, refresh_plugins=True)


def set_up_company(db: Session, fresh: bool) -> str:
    """Give the company the demo's name and settings unless someone already named it."""
    from core.company.services import get_company, update_company

    company = get_company(db)
    if not fresh and company.legal_name != PLACEHOLDER_COMPANY:
        return f"The company {company.legal_name!r} is kept as it is."
    update_company(db, COMPANY, partial=True)
    return f"Company: {COMPANY['legal_name']} ({COMPANY['base_currency']}, {COMPANY['country']}, fiscal year from 1 January)."


def set_up_group(db: Session) -> str:
    """The group's second company (every installed module loads its default data for it), and a
    party standing for each company, through which they sell to each other."""
    from core.company.models import Company
    from core.company.services import create_company, get_company
    from core.parties.services import create_party

    parent = get_company(db)
    subsidiary = db.execute(select(Company).where(Company.legal_name == SUBSIDIARY_NAME)).scalar_one_or_none()
    note = f"The company {SUBSIDIARY_NAME!r} is kept as it is."
    if subsidiary is None:
        subsidiary = create_company(db, SUBSIDIARY)
        note = f"Company: {SUBSIDIARY_NAME} (EUR, DE), in the group with {parent.legal_name}."
    for company in (parent, subsidiary):
        if company.party_id is None:
            company.party_id = create_party(db, {
                "name": company.legal_name, "kind": "company", "vat_id": company.vat_id, "country": company.country,
                "street": company.street, "postal_code": company.postal_code, "city": company.city,
                "email": company.email}).id
    db.flush()
    return note


def ensure_viewer_role(db: Session, permissions) -> None:
    """The ``viewer`` role, holding every registered ``*.read`` and ``*.read_all`` permission."""
    from core.auth import services

    role = services.ensure_role(db, *VIEWER_ROLE)
    for name in sorted(permissions):
        if name.endswith((".read", ".read_all")):
            services.grant(db, role, name)


def create_users(db: Session, reset_passwords: bool) -> tuple[dict[str, str], list[str]]:
    """The demo users: new passwords by user name, and messages about users that exist already.

    A user gets those of its roles that exist (a module's roles exist once it is installed).
    """
    from core.auth.models import Role, User
    from core.auth.passwords import generate_password
    from core.auth.services import create_user, set_password
    from core.company.models import Company

    passwords: dict[str, str] = {}
    notes: list[str] = []
    existing = set(db.execute(select(Role.name)).scalars())
    companies = dict(db.execute(select(Company.legal_name, Company.id)).all())
    for demo in USERS:
        user = db.execute(select(User).where(func.lower(User.username) == demo.username)).scalar_one_or_none()
        if user is None:
            roles = [role for role in demo.roles if role in existing]
            works_in = [companies[name] for name in demo.companies if name in companies] or None
            _, passwords[demo.username] = create_user(db, demo.username, full_name=demo.full_name, roles=roles,
                                                      companies=works_in)
        elif reset_passwords:
            passwords[demo.username] = generate_password()
            set_password(db, user, passwords[demo.username])
        else:
            notes.append(f"User {demo.username!r} exists; its password is unchanged (--reset-passwords gives a new one).")
    return passwords, notes


def bundled_modules(app: Flask) -> list[str]:
    """The modules shipped with Kontor itself (entry points of the ``kontor`` distribution)."""
    plugins = app.extensions["kontor"].discovery.plugins
    return sorted(name for name, info in plugins.items() if info.source.lower() == BUNDLED_DISTRIBUTION)


def install_bundled(app: Flask) -> tuple[list[str], list[str]]:
    """Install every bundled module not installed yet; (installed now, installed before)."""
    from core.modules import lifecycle

    kontor = app.extensions["kontor"]
    wanted = bundled_modules(app)
    before = [name for name in wanted if name in kontor.installed]
    todo = [name for name in wanted if name not in kontor.installed]
    if todo:
        lifecycle.install(lifecycle.context_from_app(app), todo)
    return todo, before


def _loaded(db: Session) -> list[str]:
    from core.company.models import SettingValue

    row = db.get(SettingValue, (DEMO_DATA_KEY, 0))
    return [name for name in (row.value.split(",") if row and row.value else [])]


def _mark_loaded(db: Session, name: str) -> None:
    from core.company.models import SettingValue

    row = db.get(SettingValue, (DEMO_DATA_KEY, 0))
    if row is None:
        row = SettingValue(key=DEMO_DATA_KEY, value="")
        db.add(row)
    row.value = ",".join([*_loaded(db), name])
    db.flush()


def _label(plugin_name: str) -> str:
    return plugin_name.removesuffix(".plugin")


def load_demo_data(app: Flask) -> tuple[list[str], list[str]]:
    """Call ``load_demo_data`` of every active plugin that has not loaded its demo data yet.

    Each plugin's data goes in its own transaction (a plugin that fails loads nothing; the others
    go on); a progress bar follows the records added. Returns the modules whose demo data was
    loaded now (a module of areas once), and a message for each plugin or area that failed.
    """
    kontor = app.extensions["kontor"]
    impls = kontor.pm.hook.load_demo_data.get_hookimpls()
    done: list[str] = []
    failed: list[str] = []
    with app.app_context():
        from core.db import session as db

        already = _loaded(db)
        todo = [impl for impl in impls if impl.plugin_name not in already]
        for impl in impls:
            if impl.plugin_name in already:
                click.echo(f"Demo data of {_label(impl.plugin_name)} is already loaded; skipped.")
        if not todo:
            return done, failed
        with click.progressbar(length=len(todo), label="Demo data", show_pos=True) as bar:
            for impl in todo:
                added = [0]

                def progress(n: int = 1, _added=added, _name=impl.plugin_name) -> None:
                    _added[0] += n
                    bar.label = f"Demo data: {_label(_name)} ({_added[0]})"
                    bar.update(0)

                arguments = {"session": db, "progress": progress}
                try:
                    impl.function(**{name: arguments[name] for name in impl.argnames})
                    _mark_loaded(db, impl.plugin_name)
                    db.commit()
                except Exception as exc:  # one module's broken demo data must not stop the others'
                    db.rollback()
                    failed.append(f"{_label(impl.plugin_name)}: {type(exc).__name__}: {exc}")
                else:
                    module = impl.plugin_name.partition(".")[0]  # an area's data counts for its module
                    if module not in done:
                        done.append(module)
                bar.update(1)
    for message in failed:
        click.echo(f"Error: demo data of {message}", err=True)
    return done, failed


def write_password_file(path: str, password: str) -> None:
    """Write ``password`` alone to ``path``, readable by its owner only."""
    target = Path(path)
    target.write_text(password + "\n")
    target.chmod(0o600)


@click.command("demo")
@click.option("--password-file", type=click.Path(dir_okay=False), default=None,
              help="Also write the admin's password to this file (for scripts).")
@click.option("--reset-passwords", is_flag=True, help="Give demo users that exist already new passwords.")
@click.option("--serving-at", metavar="URL", default=None,
              help="Where the caller is about to serve Kontor (scripts/start.sh): said instead of how to start it.")
@with_appcontext
def demo_command(password_file, reset_passwords, serving_at):
    """Create a demo group (a Danish and a German company), users with different roles, every bundled
    module and its demo data for each company."""
    from core.modules.lifecycle import initialise
    from core.modules.registry import is_initialised

    kontor = current_app.extensions["kontor"]
    fresh = not is_initialised(kontor.engine)
    if fresh:
        initialise(kontor.engine, kontor.sessionmaker, company_name=COMPANY["legal_name"],
                   currency=COMPANY["base_currency"], country=COMPANY["country"])
    click.echo("Initialised a new Kontor database." if fresh else "The Kontor database exists; keeping its data.")

    installed, before = install_bundled(current_app if fresh else _rebuilt(current_app))
    for name in before:
        click.echo(f"Module {name} is installed already.")
    if installed:
        click.echo(f"Installed modules: {', '.join(installed)}.")

    app = _rebuilt(current_app)
    with app.app_context():
        from core.db import session as db

        from core.company.services import get_company

        ours = fresh or get_company(db).legal_name in (PLACEHOLDER_COMPANY, PARENT)  # never someone's real company
        click.echo(set_up_company(db, fresh))
        if ours:
            click.echo(set_up_group(db))
        ensure_viewer_role(db, app.extensions["kontor"].permissions)
        passwords, notes = create_users(db, reset_passwords)
        db.commit()
    for note in notes:
        click.echo(note)

    _, failed = load_demo_data(app)

    if password_file and "admin" in passwords:
        write_password_file(password_file, passwords["admin"])
    _print_sign_in(passwords, serving_at)
    if failed:
        raise SystemExit(1)


def _print_sign_in(passwords: dict[str, str], serving_at: str | None = None) -> None:
    click.echo("")
    if serving_at:
        click.echo(f"The demo data is ready; Kontor will answer at {serving_at}")
    else:
        click.echo(f"Kontor is ready. Start it with `kontor run` and open {URL}")
    if not passwords:
        click.echo("Sign in with the users you created before.")
        return
    click.echo("Sign in with one of these users (generated passwords, shown only now):")
    about = {u.username: f"{', '.join(u.roles)}; {' and '.join(u.companies)}" for u in USERS}
    for username, password in passwords.items():
        click.echo(f"  user: {username:<8} password: {password}   ({about[username]})")
