"""Settings production needs: the connection pool, prepared statements (off behind PgBouncer), the
revision check that keeps serving through a database error, and ``kontor serve``'s secret key."""
from __future__ import annotations

import logging
import subprocess

import pytest
from sqlalchemy import text, update

from core.config import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE, SettingError, database_options
from core.db import dispose_engine, get_engine, server_engine_arguments
from core.modules.models import ModulesRevision
from tests.core import live_server

REPEATS = 8  # more than psycopg's prepare threshold (5)


# -- the settings -------------------------------------------------------------------------------


def test_the_defaults_keep_a_small_pool_with_prepared_statements():
    assert database_options({}) == {"pool_size": DEFAULT_DB_POOL_SIZE, "max_overflow": DEFAULT_DB_MAX_OVERFLOW,
                                    "prepared_statements": True}


def test_the_settings_are_read_from_the_environment():
    options = database_options({"KONTOR_DB_POOL_SIZE": "12", "KONTOR_DB_MAX_OVERFLOW": "0",
                                "KONTOR_DB_PREPARED_STATEMENTS": "0"})
    assert options == {"pool_size": 12, "max_overflow": 0, "prepared_statements": False}
    assert database_options({"KONTOR_DB_PREPARED_STATEMENTS": "off"})["prepared_statements"] is False
    assert database_options({"KONTOR_DB_PREPARED_STATEMENTS": "Yes"})["prepared_statements"] is True


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("KONTOR_DB_POOL_SIZE", "many", "whole number"),
    ("KONTOR_DB_POOL_SIZE", "0", "at least 1"),
    ("KONTOR_DB_MAX_OVERFLOW", "-1", "at least 0"),
    ("KONTOR_DB_PREPARED_STATEMENTS", "maybe", "1 or 0"),
])
def test_a_bad_value_is_refused_naming_the_variable(variable, value, says):
    with pytest.raises(SettingError) as refused:
        database_options({variable: value})
    assert variable in str(refused.value)
    assert says in str(refused.value)


def test_prepared_statements_off_tells_psycopg_never_to_prepare():
    url = "postgresql+psycopg://kontor@db.example/kontor"
    off = server_engine_arguments(url, {"pool_size": 3, "max_overflow": 4, "prepared_statements": False})
    assert off == {"pool_pre_ping": True, "pool_size": 3, "max_overflow": 4,
                   "connect_args": {"prepare_threshold": None}}
    on = server_engine_arguments(url, {"pool_size": 3, "max_overflow": 4, "prepared_statements": True})
    assert "connect_args" not in on


# -- on a real PostgreSQL server -------------------------------------------------------------------


@pytest.fixture
def fresh_pg_url(postgres_server):
    """A URL no engine was made for yet (engines are per URL, made once), on the test server's
    maintenance database; its engine is disposed after the test."""
    made = []

    def make(tag: str) -> str:
        base = postgres_server.url("postgres")
        url = base + ("&" if "?" in base else "?") + f"application_name=kontor_settings_{tag}"
        made.append(url)
        return url

    yield make
    for url in made:
        dispose_engine(url)


def _prepared_after_repeats(engine) -> int:
    """Run one query REPEATS times on one connection; the number of statements the server prepared."""
    with engine.connect() as conn:
        for n in range(REPEATS):
            assert conn.execute(text("SELECT :n + 1"), {"n": n}).scalar() == n + 1
        return conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def test_the_pool_and_prepared_statements_follow_the_environment(fresh_pg_url, monkeypatch):
    monkeypatch.setenv("KONTOR_DB_POOL_SIZE", "3")
    monkeypatch.setenv("KONTOR_DB_MAX_OVERFLOW", "1")
    monkeypatch.setenv("KONTOR_DB_PREPARED_STATEMENTS", "0")
    engine = get_engine(fresh_pg_url("off"))
    assert engine.pool.size() == 3
    assert _prepared_after_repeats(engine) == 0


def test_by_default_psycopg_prepares_repeated_statements(fresh_pg_url, monkeypatch):
    for variable in ("KONTOR_DB_POOL_SIZE", "KONTOR_DB_MAX_OVERFLOW", "KONTOR_DB_PREPARED_STATEMENTS"):
        monkeypatch.delenv(variable, raising=False)
    engine = get_engine(fresh_pg_url("on"))
    assert engine.pool.size() == DEFAULT_DB_POOL_SIZE
    assert _prepared_after_repeats(engine) >= 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # prepared statements are PostgreSQL's
def test_the_revision_connection_does_not_prepare_when_told_not_to(monkeypatch, db_url, tmp_path):
    from core.wsgi import Dispatcher

    monkeypatch.setenv("KONTOR_DB_PREPARED_STATEMENTS", "0")
    url = db_url + ("&" if "?" in db_url else "?") + "application_name=kontor_settings_revision"
    dispatcher = Dispatcher({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s", "TESTING": True})
    try:
        revisions = {dispatcher.read_revision() for _ in range(REPEATS)}
        assert len(revisions) == 1 and None not in revisions
        prepared = dispatcher._local.conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        assert prepared == 0
    finally:
        dispatcher.close()
        dispose_engine(url)


# -- the revision check ---------------------------------------------------------------------------


def test_an_error_reading_the_revision_is_logged_and_keeps_the_app(dispatcher, db_url, caplog):
    built = dispatcher.app
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE core_modules_revision RENAME TO core_modules_revision_away"))
    try:
        with caplog.at_level(logging.WARNING, logger="core.wsgi"):
            assert dispatcher.read_revision() is None
            assert dispatcher.app is built  # not rebuilt on an error
        warnings = [r for r in caplog.records if r.name == "core.wsgi" and r.levelno == logging.WARNING]
        assert len(warnings) == 2
        assert "modules revision" in warnings[0].getMessage()
        assert warnings[0].exc_info is not None  # the error itself is in the log
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE core_modules_revision_away RENAME TO core_modules_revision"))
    # once the table is back, a new revision is seen (on a fresh connection) and the app rebuilt
    with engine.begin() as conn:
        conn.execute(update(ModulesRevision).values(revision=ModulesRevision.revision + 1))
    assert dispatcher.app is not built
    assert dispatcher.app.extensions["kontor"].revision == built.extensions["kontor"].revision + 1


# -- kontor serve and the secret key -------------------------------------------------------------


def _serve(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """``kontor serve`` that is expected to refuse to start (bounded by a timeout)."""
    return subprocess.run([live_server.KONTOR, "serve", "--bind", f"127.0.0.1:{live_server.free_port()}"],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_serve_on_postgresql_refuses_to_start_without_a_secret_key(tmp_path):
    env = live_server.environment("postgresql+psycopg://kontor@127.0.0.1:1/kontor", tmp_path / "instance")
    del env["KONTOR_SECRET_KEY"]
    result = _serve(env, tmp_path)
    assert result.returncode == 1
    assert "KONTOR_SECRET_KEY is not set" in result.stderr
    assert "several hosts" in result.stderr
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_serve_refuses_a_bad_database_setting_naming_it(tmp_path):
    env = live_server.environment("postgresql+psycopg://kontor@127.0.0.1:1/kontor", tmp_path / "instance",
                                  KONTOR_DB_POOL_SIZE="lots")
    result = _serve(env, tmp_path)
    assert result.returncode == 1
    assert "KONTOR_DB_POOL_SIZE must be a whole number" in result.stderr


@pytest.mark.slow
def test_serve_on_sqlite_generates_and_keeps_a_key(tmp_path):
    instance = tmp_path / "instance"
    env = live_server.environment(f"sqlite:///{tmp_path / 'one.db'}", instance)
    del env["KONTOR_SECRET_KEY"]
    live_server.kontor(env, "init", cwd=tmp_path)
    server = live_server.start(env, tmp_path, "serve", "--bind", "127.0.0.1:{port}", "--workers", "1")
    try:
        assert live_server.request(server.url("/health")).status == 200
    finally:
        server.stop()
    assert len((instance / "secret_key").read_text().strip()) == 64
