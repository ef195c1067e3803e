"""``kontor demo`` on an empty database: company, users with roles and generated passwords, demo data."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from core.cli import main
from core.db import dispose_engine
from core.wsgi import Dispatcher
from core.testing import WebClient

_counter = itertools.count()
PASSWORD_LINE = re.compile(r"user: (\w+)\s+password: (\S+)")


@pytest.fixture
def empty_db_url(backend, request, tmp_path):
    """A database on ``backend`` with nothing in it (not even ``kontor init``)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'demo.db'}"
        yield url
        dispose_engine(url)
        return
    server = request.getfixturevalue("postgres_server")
    name = f"kontor_demo{next(_counter)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.url(name)
    dispose_engine(server.url(name))
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def environment(empty_db_url, tmp_path, monkeypatch) -> dict:
    """The ``KONTOR_*`` variables of an operator's shell, pointing at the empty database."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("KONTOR_DATABASE_URL", empty_db_url)
    monkeypatch.setenv("KONTOR_INSTANCE", str(instance))
    monkeypatch.setenv("KONTOR_SECRET_KEY", "demo-test-secret")
    monkeypatch.delenv("KONTOR_PLUGINS", raising=False)
    return {"DATABASE_URL": empty_db_url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "demo-test-secret",
            "TESTING": True, "EXTRA_PLUGINS": ()}


def run_demo(*args: str):
    result = CliRunner().invoke(main, ["demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def printed_passwords(output: str) -> dict[str, str]:
    return dict(PASSWORD_LINE.findall(output))


USERNAMES = {"admin", "sales", "verkauf", "manager", "service", "books", "viewer"}


def party_count(dispatcher) -> int:
    with dispatcher.app.app_context():
        from core.db import session
        from core.parties.models import Party

        return session.execute(select(func.count()).select_from(Party)).scalar()


def _the_group_keeps_books_and_sells_to_itself(session) -> None:
    """Each company has its own books; the Danish one sells to the German one every month, whose
    mirrored bills are posted but the latest."""
    from core import all_companies
    from core.company.models import Company
    from plugins.accounting.invoicing.models import Invoice
    from plugins.accounting.ledger.models import Entry

    with all_companies():
        companies = dict(session.execute(select(Company.legal_name, Company.id)).all())
        entries = dict(session.execute(select(Entry.company_id, func.count()).group_by(Entry.company_id)).all())
        assert all(entries.get(c, 0) > 100 for c in companies.values())
        mirrored = session.execute(select(Invoice.state, Invoice.company_id)
                                   .where(Invoice.intercompany_source_id.is_not(None))).all()
    assert {company for _state, company in mirrored} == {companies["Nordlys Vertrieb GmbH"]}
    assert len(mirrored) >= 5 and [state for state, _c in mirrored].count("draft") == 1


def test_demo_from_an_empty_database_then_again(environment, tmp_path):
    # 1. The first run initialises the database and prints the generated passwords.
    password_file = tmp_path / "admin-password"
    result = run_demo("--password-file", str(password_file))
    assert "http://127.0.0.1:5000" in result.output
    passwords = printed_passwords(result.output)
    assert set(passwords) == USERNAMES
    assert password_file.read_text().strip() == passwords["admin"]
    source = Path(__file__).resolve().parents[2].joinpath("core", "demo.py").read_text()
    assert len(set(passwords.values())) == len(USERNAMES)  # generated, never a default
    assert all(len(p) >= 16 and p not in source for p in passwords.values())

    # 2. The company, the users with their roles, and the parties' demo data are there.
    dispatcher = Dispatcher(environment)
    with dispatcher.app.app_context():
        from core.auth.models import User
        from core.company.models import Company
        from core.db import session

        company = session.get(Company, 1)
        assert (company.legal_name, company.base_currency, company.country) == ("Nordlys Handel ApS", "DKK", "DK")
        assert (company.fiscal_year_start_month, company.fiscal_year_start_day) == (1, 1)
        roles = {u.username: {r.name for r in u.roles} for u in session.execute(select(User)).scalars()}
        assert roles == {"admin": {"admin"}, "sales": {"staff", "salesperson"}, "manager": {"staff", "sales_manager"},
                         "verkauf": {"staff", "salesperson"}, "service": {"staff", "service_agent"},
                         "books": {"staff", "accountant"}, "viewer": {"viewer"}}
        group = {c.legal_name: (c.country, c.base_currency, c.is_default)
                 for c in session.execute(select(Company)).scalars()}
        assert group == {"Nordlys Handel ApS": ("DK", "DKK", True), "Nordlys Vertrieb GmbH": ("DE", "EUR", False)}
        from core.company.services import company_ids_of

        names = {c.id: c.legal_name for c in session.execute(select(Company)).scalars()}
        works_in = {u.username: sorted(names[c] for c in company_ids_of(session, u))
                    for u in session.execute(select(User)).scalars()}
        assert works_in["verkauf"] == ["Nordlys Vertrieb GmbH"] and works_in["sales"] == ["Nordlys Handel ApS"]
        assert works_in["books"] == ["Nordlys Handel ApS", "Nordlys Vertrieb GmbH"]
        _the_group_keeps_books_and_sells_to_itself(session)
        viewer = session.execute(select(User).where(User.username == "viewer")).scalar_one()
        granted = {g for r in viewer.roles for g in r.permission_names}
        assert "core.party.read" in granted and not any(p.endswith((".write", ".manage")) for p in granted)
    parties = party_count(dispatcher)
    assert parties > 0

    # 3. Each printed password signs in; no default password does.
    for username, password in passwords.items():
        client = WebClient(dispatcher)
        assert client.login(username, password).status_code == 302, username
        assert client.get("/dashboard").status_code == 200
    assert WebClient(dispatcher).login("admin", "admin").status_code == 401

    # 4. Run again: what exists is kept and said so; nothing is added twice.
    again = run_demo()
    assert printed_passwords(again.output) == {}
    assert "User 'admin' exists" in again.output and "already loaded" in again.output
    dispatcher = Dispatcher(environment)
    assert party_count(dispatcher) == parties
    assert WebClient(dispatcher).login("admin", passwords["admin"]).status_code == 302

    # 5. --reset-passwords gives the demo users new passwords.
    reset = printed_passwords(run_demo("--reset-passwords").output)
    assert set(reset) == USERNAMES and reset["admin"] != passwords["admin"]
    assert WebClient(Dispatcher(environment)).login("admin", reset["admin"]).status_code == 302
