"""The audit log is written for every change and event, cannot be altered, and shows tampering."""
import json
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.audit import services
from core.audit.models import AuditRecord
from core.audit.recorder import Actor, acting_as, record_event
from core.cli import main
from core.parties.models import Party
from core.testing import WebClient


@pytest.fixture
def kontor(settings, monkeypatch):
    """Run ``kontor …`` against the test database, as an operator would."""
    monkeypatch.setenv("KONTOR_DATABASE_URL", settings["DATABASE_URL"])
    monkeypatch.setenv("KONTOR_INSTANCE", settings["INSTANCE_PATH"])
    monkeypatch.setenv("KONTOR_SECRET_KEY", settings["SECRET_KEY"])
    monkeypatch.setenv("KONTOR_PLUGINS", "kontor_hello.plugin")

    def run(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def store(app):
    """A session of its own, outside any app context, for tests that also make requests.

    (The ``db`` fixture keeps an app context open, which requests of the same app would share.)
    """
    own = app.extensions["kontor"].sessionmaker()
    yield own
    own.close()


def _records(db, **where):
    stmt = select(AuditRecord).order_by(AuditRecord.seq)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditRecord, name) == value)
    return list(db.execute(stmt).scalars())


def _events(db, count: int) -> list[int]:
    """Write ``count`` event records, committed; their seqs."""
    for i in range(count):
        record_event(db, "test.event", module="tests", changes={"n": [None, i]})
    db.commit()
    seqs = [r.seq for r in _records(db, action="test.event")]
    db.rollback()
    return seqs


def _tamper(app, db, backend: str, sql: str) -> None:
    """Run ``sql`` on core_audit past its triggers, as an attacker with database rights would."""
    db.rollback()  # SQLite: end the test session's transaction, which holds the write lock
    engine = app.extensions["kontor"].engine
    with engine.begin() as conn:
        if backend == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER core_audit_immutable_update")
            conn.exec_driver_sql("DROP TRIGGER core_audit_immutable_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE core_audit DISABLE TRIGGER ALL")
        conn.exec_driver_sql(sql)


def test_orm_insert_update_delete_of_a_party_are_audited(db):
    with acting_as(Actor(42, "alice", "cli: kontor import")):
        party = Party(kind="company", name="Acme A/S", name_key="acme a/s", city="Aarhus")
        db.add(party)
        db.commit()
        party.city = "Odense"
        db.commit()
        db.delete(party)
        db.commit()

    insert, update, delete = _records(db, table_name="core_party", record_id=str(party.id))
    assert [r.action for r in (insert, update, delete)] == ["insert", "update", "delete"]
    for record in (insert, update, delete):
        assert (record.user_id, record.username, record.origin, record.module) == (42, "alice", "cli: kontor import",
                                                                                   "core")
        assert record.at is not None and record.at.tzinfo is not None
    assert json.loads(insert.changes)["city"] == [None, "Aarhus"]
    assert json.loads(update.changes)["city"] == ["Aarhus", "Odense"]
    assert "name" not in json.loads(update.changes)  # only what changed
    assert json.loads(delete.changes)["city"] == ["Odense", None]
    assert services.verify_chain(db).intact


def test_old_values_of_expired_rows_are_recorded(db):
    party = Party(kind="company", name="Acme A/S", name_key="acme a/s", city="Aarhus")
    db.add(party)
    db.commit()
    db.expire(party)  # as after a rollback: the old value is not in memory when it is overwritten
    party.city = "Odense"
    db.commit()
    db.expire(party)
    db.delete(party)
    db.commit()
    update, delete = _records(db, table_name="core_party", record_id=str(party.id))[1:]
    assert json.loads(update.changes)["city"] == ["Aarhus", "Odense"]
    assert json.loads(delete.changes)["city"] == ["Odense", None]


def test_a_request_records_its_user_and_origin(admin_client, app):
    response = admin_client.post_form("/parties/new", {"kind": "company", "name": "Nordlys ApS", "city": "Aalborg",
                                                       "active": "1"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    party_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    edit = admin_client.post_form(f"/parties/{party_id}/edit", {"kind": "company", "name": "Nordlys ApS",
                                                                "city": "Skagen", "active": "1"})
    assert edit.status_code in (302, 303)
    with app.app_context():
        from core.db import session

        created, changed = _records(session, table_name="core_party", record_id=str(party_id))
    assert (created.action, created.username, created.origin) == ("insert", "admin", "POST /parties/new")
    assert created.user_id is not None
    assert (changed.action, changed.origin) == ("update", f"POST /parties/{party_id}/edit")
    assert json.loads(changed.changes)["city"] == ["Aalborg", "Skagen"]


def test_logins_and_failed_logins_are_audited(client, admin, store):
    assert client.login(admin[0], "wrong password").status_code != 302
    assert client.login(*admin).status_code == 302
    failed = _records(store, action="login.failed")
    assert failed and json.loads(failed[-1].changes)["username"] == [None, admin[0]]
    assert failed[-1].origin == "POST /login"
    login = _records(store, action="login")[-1]
    assert (login.table_name, login.origin) == ("core_user", "POST /login")
    assert login.username == admin[0] and login.user_id is not None


@pytest.mark.parametrize("statement", ["UPDATE core_audit SET username = 'mallory' WHERE seq = 1",
                                       "DELETE FROM core_audit WHERE seq = 1"])
def test_triggers_refuse_changing_audit_rows(app, statement):
    engine = app.extensions["kontor"].engine
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM core_audit WHERE seq = 1")).scalar() != "mallory"


def test_tampering_is_reported_at_its_seq(app, db, backend, kontor):
    seqs = _events(db, 5)
    assert kontor("audit", "verify").exit_code == 0
    victim = seqs[2]
    _tamper(app, db, backend, f"UPDATE core_audit SET changes = '{{\"n\":[null,99]}}' WHERE seq = {victim}")

    result = services.verify_chain(db)
    assert (result.intact, result.broken_at, result.reason) == (False, victim, "hash")
    assert result.records == victim - 1
    stored = db.execute(select(AuditRecord.hash).where(AuditRecord.seq == victim)).scalar()
    assert result.stored == stored and result.expected != stored
    db.rollback()

    cli = kontor("audit", "verify")
    assert cli.exit_code != 0
    assert f"seq {victim}" in cli.stderr and cli.stdout == ""


def test_a_rehashed_forgery_breaks_the_next_link(app, db, backend):
    from core.audit.recorder import chain_hash, hashed_fields

    seqs = _events(db, 4)
    victim = db.execute(select(AuditRecord).where(AuditRecord.seq == seqs[1])).scalar_one()
    row = {c: getattr(victim, c) for c in ("seq", "at", "user_id", "username", "origin", "action", "module",
                                           "table_name", "record_id", "changes")}
    row["username"] = "mallory"
    forged = chain_hash(victim.prev_hash, hashed_fields(row))
    _tamper(app, db, backend, f"UPDATE core_audit SET username = 'mallory', hash = '{forged}' WHERE seq = {victim.seq}")
    result = services.verify_chain(db)
    assert (result.intact, result.broken_at, result.reason) == (False, victim.seq + 1, "link")


def test_a_deleted_middle_record_is_a_gap(app, db, backend, kontor):
    seqs = _events(db, 5)
    _tamper(app, db, backend, f"DELETE FROM core_audit WHERE seq = {seqs[2]}")
    result = services.verify_chain(db)
    assert (result.intact, result.broken_at, result.reason) == (False, seqs[2], "gap")
    db.rollback()
    cli = kontor("audit", "verify")
    assert cli.exit_code != 0 and f"seq {seqs[2]}" in cli.stderr and "missing" in cli.stderr


def test_a_removed_tail_is_reported(app, db, backend):
    seqs = _events(db, 3)
    _tamper(app, db, backend, f"DELETE FROM core_audit WHERE seq = {seqs[-1]}")
    result = services.verify_chain(db)
    assert (result.intact, result.broken_at) == (False, seqs[-1])


def test_a_record_appended_past_the_head_is_reported(app, db):
    tip = services.chain_length(db)
    db.rollback()
    columns = "at, user_id, username, origin, action, module, table_name, record_id, changes, prev_hash, hash"
    with app.extensions["kontor"].engine.begin() as conn:  # INSERT passes the triggers: the chain must notice
        conn.exec_driver_sql(f"INSERT INTO core_audit (seq, {columns}) SELECT seq + 1, {columns} FROM core_audit "
                             f"WHERE seq = {tip}")
    result = services.verify_chain(db)
    assert (result.intact, result.broken_at, result.reason) == (False, tip + 1, "head")


def test_verify_reads_in_chunks_and_reports_progress(db):
    _events(db, 23)
    seen = []
    result = services.verify_chain(db, chunk_size=5, progress=seen.append)
    total = services.chain_length(db)
    assert result.intact and result.records == total
    assert sum(seen) == total and max(seen) == 5


def test_verify_command_prints_the_count(kontor, db, monkeypatch):
    from core.audit import cli

    _events(db, 3)
    total = services.chain_length(db)
    db.rollback()
    result = kontor("audit", "verify")
    assert result.exit_code == 0 and result.stdout.strip() == f"audit log intact: {total} records"
    monkeypatch.setattr(cli, "PROGRESS_FROM", 1)
    with_bar = kontor("audit", "verify")
    assert with_bar.exit_code == 0 and "Verifying" in with_bar.stderr


def test_concurrent_writers_keep_the_chain_linear(app, db):
    factory = app.extensions["kontor"].sessionmaker
    start = services.chain_length(db)
    db.rollback()
    barrier = threading.Barrier(8)
    errors = []

    def writer(n: int) -> None:
        try:
            with factory() as own, acting_as(Actor(None, f"worker{n}", "test")):
                barrier.wait()
                for i in range(20):
                    own.add(Party(kind="person", name=f"P{n}-{i}", name_key=f"p{n}-{i}"))
                    own.commit()
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = db.execute(select(AuditRecord.seq).order_by(AuditRecord.seq)).scalars().all()
    assert seqs == list(range(1, start + 161))
    result = services.verify_chain(db)
    assert result.intact and result.records == start + 160


def _make_history(db):
    with acting_as(Actor(None, "bob", "POST /parties/new")):
        party = Party(kind="company", name="Bølge ApS", name_key="bølge aps", city="Vejle")
        db.add(party)
        db.commit()
    with acting_as(Actor(None, "carol", "POST /parties/1/edit")):
        party.city = "Kolding"
        db.commit()
    return party


def test_audit_page_filters(admin_client, store):
    party = _make_history(store)
    page = admin_client.get("/audit?user=carol").get_data(as_text=True)
    assert "Kolding" in page and "carol" in page and "Vejle" in page  # before → after
    assert "bob" not in page.split('id="audit-list"')[1].split("</table>")[0]

    by_action = admin_client.get("/audit?action=insert&table=core_party").get_data(as_text=True)
    rows = by_action.split("<tbody>")[1].split("</tbody>")[0]
    assert f"core_party {party.id}" in rows and "carol" not in rows

    today = party.created_at.date().isoformat()
    assert "carol" in admin_client.get(f"/audit?date_from={today}&date_to={today}").get_data(as_text=True)
    nothing = admin_client.get("/audit?date_from=2001-01-01&date_to=2001-01-31").get_data(as_text=True)
    assert "carol" not in nothing and "Nothing found." in nothing

    bad = admin_client.get("/audit?date_from=2024-05-02&date_to=2024-05-01")
    assert bad.status_code == 422 and "e-date_to" in bad.get_data(as_text=True)
    assert admin_client.get("/audit?date_from=yesterday").status_code == 422

    partial = admin_client.htmx("GET", "/audit?user=bob")
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and 'id="audit-list"' in body and "bob" in body


def test_audit_page_pages_by_seq(admin_client, store, app):
    app.config["PAGE_SIZE"] = 3
    seqs = _events(store, 5)
    first = admin_client.get("/audit?action=test.event").get_data(as_text=True)
    assert f'id="audit-{seqs[4]}"' in first and f'id="audit-{seqs[1]}"' not in first
    import re

    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin_client.get(next_url).get_data(as_text=True)
    assert f'id="audit-{seqs[1]}"' in second and f'id="audit-{seqs[0]}"' in second
    assert f'id="audit-{seqs[4]}"' not in second and 'rel="next"' not in second


def test_history_page_shows_before_and_after(admin_client, store):
    party = _make_history(store)
    response = admin_client.get(f"/audit/record/core_party/{party.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<del>Vejle</del>" in page and "<ins>Kolding</ins>" in page
    assert "bob" in page and "carol" in page
    detail = admin_client.get(f"/parties/{party.id}").get_data(as_text=True)
    assert f"/audit/record/core_party/{party.id}" in detail and f"/audit/panel/core_party/{party.id}" in detail
    panel = admin_client.htmx("GET", f"/audit/panel/core_party/{party.id}").get_data(as_text=True)
    assert "<ins>Kolding</ins>" in panel and "<html" not in panel


def test_history_of_a_row_with_a_composite_key(admin_client, store):
    from core.audit.models import AuditRecord as Record

    grant = store.execute(select(Record).where(Record.table_name == "core_role_permission")).scalars().first()
    store.rollback()
    assert "/" in grant.record_id
    listing = admin_client.get("/audit?table=core_role_permission").get_data(as_text=True)
    link = f"/audit/record/core_role_permission/{grant.record_id}"
    assert f'href="{link}"' in listing
    page = admin_client.get(link)
    assert page.status_code == 200 and f'id="audit-{grant.seq}"' in page.get_data(as_text=True)


def test_the_menu_has_the_audit_log(admin_client):
    assert 'href="/audit"' in admin_client.get("/dashboard").get_data(as_text=True)


def test_api_lists_with_filters_and_cursor(api, store):
    seqs = _events(store, 3)
    first = api.get("/api/v1/audit?action=test.event&limit=2")
    assert first.status_code == 200
    body = first.get_json()
    assert [item["seq"] for item in body["items"]] == [seqs[2], seqs[1]]
    assert body["items"][0]["changes"] == {"n": [None, 2]}
    second = api.get(f"/api/v1/audit?action=test.event&limit=2&after={body['next']}").get_json()
    assert [item["seq"] for item in second["items"]] == [seqs[0]] and second["next"] is None
    bad = api.get("/api/v1/audit?date_from=soon")
    assert bad.status_code == 422 and "date_from" in bad.get_json()["errors"]


def test_api_verify(api, app, store, backend):
    answer = api.get("/api/v1/audit/verify").get_json()
    assert answer["intact"] is True and answer["broken_at"] is None
    assert answer["records"] == services.chain_length(store)
    seqs = _events(store, 2)
    _tamper(app, store, backend, f"UPDATE core_audit SET origin = 'forged' WHERE seq = {seqs[0]}")
    answer = api.get("/api/v1/audit/verify").get_json()
    assert (answer["intact"], answer["broken_at"]) == (False, seqs[0])


def test_reading_the_log_needs_the_permission(app, client, store):
    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.testing import make_user

    party = _make_history(store)
    make_user(app, "clerk", ["staff"], "clerk password 1")
    assert client.login("clerk", "clerk password 1").status_code == 302
    for path in ("/audit", f"/audit/record/core_party/{party.id}", f"/audit/panel/core_party/{party.id}"):
        assert client.get(path).status_code == 403, path
    detail = client.get(f"/parties/{party.id}").get_data(as_text=True)
    assert detail.count("/audit/") == 0  # neither the history link nor the panel
    _, token = create_token(store, store.execute(select(User).where(User.username == "clerk")).scalar_one(), "t")
    store.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        assert client.get(path, headers=bearer).status_code == 403, path
    assert WebClient(client.application).get("/audit").status_code == 302  # anonymous: to the login page


def test_dates_are_shown_in_the_users_locale(admin_client, store):
    import re

    from core.auth.models import User

    _make_history(store)
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", admin_client.get("/audit").get_data(as_text=True))
    store.execute(select(User).where(User.username == "admin")).scalar_one().locale = "de"
    store.commit()
    page = admin_client.get("/audit").get_data(as_text=True)
    assert re.search(r"\d{2}\.\d{2}\.\d{4}", page.split("<tbody>")[1])


def test_long_values_are_cut_to_their_columns(db):
    record_event(db, "x" * 60, module="m" * 70, table_name="t" * 100, record_id="9" * 100)
    db.commit()
    record = _records(db)[-1]
    assert (len(record.action), len(record.module), len(record.table_name), len(record.record_id)) == (40, 64, 80, 80)
    assert services.verify_chain(db).intact


@pytest.mark.parametrize("statement", ["UPDATE core_audit_head SET seq = seq - 1",
                                       "DELETE FROM core_audit_head"])
def test_the_chain_head_cannot_be_rewound_or_removed(app, db, statement):
    _events(db, 2)
    engine = app.extensions["kontor"].engine
    with engine.connect() as conn:
        before = conn.execute(text("SELECT seq FROM core_audit_head")).scalar()
    with pytest.raises(DBAPIError, match="only moves forward"):
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT seq FROM core_audit_head")).scalar() == before
