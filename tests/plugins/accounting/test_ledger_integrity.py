"""The lock date and posted immutability, attacked through the UI, the API, the services, the ORM and raw SQL;
the hash chain catching a tampered row."""
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from core import KontorError
from plugins.accounting.ledger import services, years
from plugins.accounting.ledger.models import Entry

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)


def lines(amount="10.00"):
    return [{"account": "1100", "debit": amount}, {"account": "4000", "credit": amount}]


def _sqlite(db):
    return db.get_bind().dialect.name == "sqlite"


def raw_fails(db, sql, params=None):
    """Run raw SQL in a savepoint; True if the database refused it."""
    try:
        with db.begin_nested():
            db.execute(text(sql), params or {})
    except Exception:  # the driver's own error class: IntegrityError on both backends
        return True
    return False


@pytest.fixture
def posted(db):
    entry = services.create_and_post(db, journal="GEN", date=YESTERDAY if YESTERDAY.year == TODAY.year else TODAY,
                                     lines=lines())
    db.commit()
    return entry


# -- posted immutability --

def test_posted_entry_refuses_service_and_orm_changes(db, posted):
    with pytest.raises(KontorError) as caught:
        services.update_entry(db, posted, reference="changed")
    assert caught.value.status == 409 and caught.value.field == "state"
    with pytest.raises(KontorError):
        services.delete_entry(db, posted)
    db.rollback()
    posted.reference = "changed by ORM"
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()
    posted.lines[0].debit = posted.lines[0].debit + 1
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()
    db.delete(posted)
    with pytest.raises(KontorError):
        db.flush()
    db.rollback()


def test_posted_rows_refuse_raw_sql(db, posted):
    line = posted.lines[0]
    assert raw_fails(db, "UPDATE accounting_entry SET reference = 'x' WHERE id = :id", {"id": posted.id})
    assert raw_fails(db, "DELETE FROM accounting_entry WHERE id = :id", {"id": posted.id})
    assert raw_fails(db, "UPDATE accounting_line SET debit = debit + 100 WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "UPDATE accounting_line SET state = 'draft' WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "DELETE FROM accounting_line WHERE id = :id", {"id": line.id})
    assert raw_fails(db, "INSERT INTO accounting_line (entry_id, account_id, description, debit, credit, date, journal_id, "
                         "state) VALUES (:e, :a, '', 100, 0, :d, :j, 'draft')",
                     {"e": posted.id, "a": line.account_id, "d": posted.date, "j": posted.journal_id})
    db.rollback()
    db.expire_all()
    assert db.get(Entry, posted.id).reference == posted.reference
    assert services.verify_chains(db)[1] == []


def _posted_id(in_app):
    with in_app() as db:
        return services.create_and_post(db, journal="GEN", date=TODAY, lines=lines()).id


def test_posted_entry_refused_through_api(api, in_app):
    entry_id = _posted_id(in_app)
    assert api.patch(f"/api/v1/accounting/entries/{entry_id}", json={"reference": "x"}).status_code == 409
    deleted = api.delete(f"/api/v1/accounting/entries/{entry_id}")
    assert deleted.status_code == 409
    assert deleted.headers["Content-Type"].startswith("application/problem+json")
    assert "state" in deleted.get_json()["errors"]


def test_posted_entry_refused_through_ui(admin_client, in_app):
    posted = type("E", (), {"id": _posted_id(in_app)})
    page = admin_client.get(f"/accounting/entries/{posted.id}").get_data(as_text=True)
    assert f"/accounting/entries/{posted.id}/edit" not in page and f"/entries/{posted.id}/delete" not in page
    assert admin_client.get(f"/accounting/entries/{posted.id}/edit").status_code == 409
    assert admin_client.post_form(f"/accounting/entries/{posted.id}/edit", {"reference": "x"}).status_code == 409
    assert admin_client.post_form(f"/accounting/entries/{posted.id}/delete", {}).status_code == 409


def test_draft_rows_stay_editable_in_sql(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=lines())
    db.commit()
    assert not raw_fails(db, "UPDATE accounting_entry SET reference = 'fine' WHERE id = :id", {"id": draft.id})
    assert not raw_fails(db, "DELETE FROM accounting_entry WHERE id = :id", {"id": draft.id})


# -- the lock date --

def _lock(db, day):
    years.set_lock_date(db, day)
    db.commit()


def test_lock_date_refuses_services(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=lines())
    old = services.create_and_post(db, journal="GEN", date=TODAY, lines=lines())
    db.commit()
    with pytest.raises(KontorError) as caught:
        years.set_lock_date(db, TODAY)  # a draft lies on it
    assert caught.value.field == "lock_date"
    db.rollback()
    services.delete_entry(db, db.get(Entry, draft.id))
    db.commit()
    _lock(db, TODAY)
    for act in (lambda: services.create_entry(db, journal="GEN", date=TODAY, lines=lines()),
                lambda: services.create_and_post(db, journal="GEN", date=TODAY - timedelta(days=40), lines=lines()),
                lambda: services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": lines()}]),
                lambda: services.reverse_entry(db, old, date=TODAY)):
        with pytest.raises(KontorError) as caught:
            act()
        assert caught.value.field in ("date", "entries[0].date")
        db.rollback()
    with pytest.raises(KontorError):
        services.check_lock_date(db, TODAY)
    services.check_lock_date(db, TODAY + timedelta(days=1))
    # the reversal without a date goes to the first open day: today is locked, so it is refused
    if TODAY + timedelta(days=1) <= db.get(Entry, old.id).date.replace(month=12, day=31):
        reversal = services.reverse_entry(db, old, date=TODAY + timedelta(days=1))
        assert reversal.date == TODAY + timedelta(days=1)
    from core.audit.models import AuditRecord
    from sqlalchemy import select
    assert db.scalar(select(AuditRecord).where(AuditRecord.action == "accounting.lock_date")) is not None


def test_lock_date_refuses_raw_sql(db):
    draft = services.create_entry(db, journal="GEN", date=TODAY + timedelta(days=1), lines=lines())
    db.commit()
    _lock(db, TODAY)
    line = draft.lines[0]
    params = {"j": draft.journal_id, "d": TODAY, "a": line.account_id, "e": draft.id}
    assert raw_fails(db, "INSERT INTO accounting_entry (journal_id, date, reference, narration, state, source, "
                         "previous_hash, hash, created_at) VALUES (:j, :d, '', '', 'draft', '', '', '', :now)",
                     dict(params, now=TODAY.isoformat() + " 00:00:00"))
    assert raw_fails(db, "INSERT INTO accounting_line (entry_id, account_id, description, debit, credit, date, journal_id, "
                         "state) VALUES (:e, :a, '', 100, 0, :d, :j, 'draft')", params)
    assert raw_fails(db, "UPDATE accounting_entry SET date = :d WHERE id = :e", params)
    assert raw_fails(db, "UPDATE accounting_line SET date = :d WHERE entry_id = :e", params)
    # after the lock date, raw SQL on a draft is a draft's business
    assert not raw_fails(db, "UPDATE accounting_entry SET reference = 'ok' WHERE id = :e", params)


def test_lock_date_through_api_and_ui(api, admin_client, in_app, make_user_client):
    with in_app() as db:
        gen_id = services.journal_by_code(db, "GEN").id
    assert api.put("/api/v1/accounting/lock-date", json={"lock_date": TODAY.isoformat()}).status_code == 200
    refused = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                          "lines": lines()})
    assert refused.status_code == 422 and "date" in refused.get_json()["errors"]
    form = admin_client.post_form("/accounting/entries/new", {
        "journal": str(gen_id), "date": TODAY.isoformat(), "line_account": ["1100", "4000"],
        "line_debit": ["1", ""], "line_credit": ["", "1"], "line_description": ["", ""], "action": "save"})
    assert form.status_code == 422 and "lock date" in form.get_data(as_text=True)
    # a bookkeeper may not move it
    bookkeeper = make_user_client("keeper", ["bookkeeper"])
    assert bookkeeper.post_form("/accounting/lock-date", {"lock_date": ""}).status_code == 403
    with in_app() as db:
        assert services.lock_date(db) == TODAY
    assert admin_client.post_form("/accounting/lock-date", {"lock_date": ""}).status_code == 303
    with in_app() as db:
        assert services.lock_date(db) is None


@pytest.fixture
def make_user_client(app, dispatcher):
    from tests.conftest import WebClient, make_user

    def make(username, roles):
        make_user(app, username, roles, "a long password 42")
        client = WebClient(dispatcher)
        assert client.login(username, "a long password 42").status_code == 302
        return client
    return make


# -- the hash chain --

def test_verify_detects_a_tampered_row(db, kontor):
    for amount in ("1.00", "2.00", "3.00"):
        services.create_and_post(db, journal="GEN", date=TODAY, lines=lines(amount))
    db.commit()
    assert kontor("accounting", "verify").exit_code == 0
    db.rollback()
    second = db.scalars(__import__("sqlalchemy").select(Entry).order_by(Entry.id)).all()[1]
    # tamper: remove the trigger, change an amount behind the ledger's back, put the trigger back
    if _sqlite(db):
        db.execute(text("DROP TRIGGER accounting_line_immutable_update"))
        db.execute(text("UPDATE accounting_line SET debit = 999 WHERE entry_id = :id AND debit > 0"), {"id": second.id})
    else:
        db.execute(text("ALTER TABLE accounting_line DISABLE TRIGGER accounting_line_immutable"))
        db.execute(text("UPDATE accounting_line SET debit = 9.99 WHERE entry_id = :id AND debit > 0"), {"id": second.id})
        db.execute(text("ALTER TABLE accounting_line ENABLE TRIGGER accounting_line_immutable"))
    db.commit()
    checked, breaks = services.verify_chains(db)
    assert checked == 2 and len(breaks) == 1  # it stops at the first break
    assert breaks[0].number == second.number and "hash" in breaks[0].reason
    db.rollback()  # end the test's transaction: the command opens its own
    outcome = kontor("accounting", "verify")
    assert outcome.exit_code == 1
    assert second.number in outcome.output


@pytest.fixture
def in_app(app):
    """Run a block in its own app context and session, committed at the end (for tests that also make
    HTTP requests: a request would otherwise share and close the test's session)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with app.app_context():
            from core.db import session

            yield session
            session.commit()
    return block


def test_no_sql_names_a_core_table():
    """The module reads the company and serialises with the audit chain through the core's
    functions (core.get_company, core.lock_audit_chain), never by naming core tables."""
    import re
    from pathlib import Path

    import plugins.accounting

    root = Path(plugins.accounting.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "migrations" not in path.parts and re.search(r"\b(FROM|UPDATE|JOIN|INTO)\s+core_\w+", path.read_text())]
    assert offenders == []
