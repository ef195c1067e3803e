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


USERNAMES = {"admin", "sales", "manager", "service", "books", "viewer"}


def party_count(dispatcher) -> int:
    with dispatcher.app.app_context():
        from core.db import session
        from core.parties.models import Party

        return session.execute(select(func.count()).select_from(Party)).scalar()


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
                         "service": {"staff", "service_agent"}, "books": {"staff", "accountant"},
                         "viewer": {"viewer"}}
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
