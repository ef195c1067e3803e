"""Many workers posting into one journal at once: numbers unique and contiguous, chain intact, no 500."""
from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import create_engine, select, text

from core.db import get_engine, make_sessionmaker
from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Entry
from tests.core import live_server

WORKERS, EACH = 8, 25
_databases = itertools.count()


def _lines(i):
    amount = f"{i % 97 + 1}.00"
    return [{"account": "1200", "debit": amount}, {"account": "4000", "credit": amount}]


def _check(db_factory, expected):
    with db_factory() as db:
        numbers = db.execute(select(Entry.sequence).where(Entry.state == "posted").order_by(Entry.sequence)).scalars().all()
        assert numbers == list(range(1, expected + 1))  # unique and contiguous
        checked, breaks = services.verify_chains(db)
        assert checked == expected and breaks == []


def test_threads_posting_into_one_journal(settings, app):
    """Separate connections, one thread each, posting through the service at the same time."""
    engine = get_engine(settings["DATABASE_URL"])
    factory = make_sessionmaker(engine)
    start = threading.Barrier(WORKERS)
    errors = []

    def worker(w):
        start.wait()
        for i in range(EACH):
            with app.app_context(), factory() as db:  # the app's modules hear the posting hooks
                try:
                    services.create_and_post(db, journal="SAL", date=date.today(), lines=_lines(w * EACH + i),
                                             reference=f"w{w}-{i}")
                    if i % 5 == 4:
                        db.rollback()  # an abandoned posting must leave no gap
                        continue
                    db.commit()
                except Exception as exc:  # collected: the assertion below reports it
                    errors.append(repr(exc))
                    db.rollback()

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(worker, range(WORKERS)))
    assert errors == []
    _check(factory, WORKERS * EACH - WORKERS * (EACH // 5))


@pytest.fixture
def live_accounting(backend, request, tmp_path):
    """``kontor serve --workers 4`` on a fresh PostgreSQL database with accounting installed."""
    if backend != "postgresql":
        pytest.skip("the live-server run is for PostgreSQL (SQLite serialises writers by design)")
    server = request.getfixturevalue("postgres_server")
    name = f"kontor_accounting_live{next(_databases)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = server.url(name)
    env = live_server.environment(url, tmp_path / "instance")
    token = live_server.prepare(env, tmp_path)
    live_server.kontor(env, "modules", "install", "accounting", cwd=tmp_path)
    running = live_server.start(env, tmp_path, "serve", "--bind", "127.0.0.1:{port}", "--workers", "4")
    try:
        yield running, token, url
    finally:
        running.stop()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.slow
def test_live_workers_posting_through_http(live_accounting):
    server, token, url = live_accounting
    today = date.today().isoformat()

    def post(i):
        created = live_server.request(server.url("/api/v1/accounting/entries"), "POST", token,
                                      body={"journal": "SAL", "date": today, "lines": _lines(i)})
        if created.status != 201:
            return created.status
        entry_id = created.json()["id"]
        return live_server.request(server.url(f"/api/v1/accounting/entries/{entry_id}/post"), "POST", token).status

    with ThreadPoolExecutor(WORKERS) as pool:
        statuses = list(pool.map(post, range(WORKERS * EACH)))
    assert statuses == [200] * (WORKERS * EACH)
    engine = create_engine(url)
    try:
        from sqlalchemy.orm import sessionmaker
        _check(sessionmaker(bind=engine), WORKERS * EACH)
    finally:
        engine.dispose()
