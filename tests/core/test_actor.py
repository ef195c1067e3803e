"""One actor context: a permission check and an audit record give the same answer in a request,
in a command (``kontor --as``) and in a job's ``acting_as`` block outside any request."""
from __future__ import annotations

from flask_login import login_user
from sqlalchemy import select

from core import acting, acting_as, current_actor, has_permission
from core.audit.models import AuditRecord
from core.auth.models import User
from core.testing import make_user


def _user(db, username):
    return db.execute(select(User).where(User.username == username)).scalar_one()


def _in_request(app, user_id, *permissions):
    """What has_permission answers for ``user_id`` signed in to a request (without naming the user)."""
    with app.test_request_context("/dashboard"):
        from core.db import session

        login_user(session.get(User, user_id))
        app.preprocess_request()  # the request's before_request functions: the actor is set there
        return [has_permission(p) for p in permissions], current_actor().id, acting().origin


def test_a_permission_check_inside_acting_as_answers_as_in_a_request(app, db):
    clerk_id, _ = make_user(app, "clerk", ["staff"])
    boss_id, _ = make_user(app, "boss", ["admin"])
    asked = ("core.party.read", "core.user.manage", "@signed-in")
    for user_id in (clerk_id, boss_id):
        answers, actor_id, origin = _in_request(app, user_id, *asked)
        assert actor_id == user_id and origin == "GET /dashboard"
        user = db.get(User, user_id)
        with acting_as(user, "job: test"):
            assert current_actor() is user
            assert [has_permission(p) for p in asked] == answers
    assert _in_request(app, clerk_id, *asked)[0] != _in_request(app, boss_id, *asked)[0]  # the check tells them apart
    # outside any block the system acts: no user, and it holds no permission
    assert current_actor() is None and acting().origin == "system"
    assert [has_permission(p) for p in asked] == [False, False, False]


def test_the_request_actor_is_not_left_behind_after_the_request(app, client):
    make_user(app, "clerk", ["staff"], "clerk password 1")
    assert client.login("clerk", "clerk password 1").status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert current_actor() is None and acting().origin == "system"


def test_an_audit_record_inside_acting_as_names_the_user_as_a_request_does(app, api, admin, db):
    created = api.post("/api/v1/parties", json={"name": "From the API", "kind": "company"})
    assert created.status_code == 201, created.get_data(as_text=True)
    from core.parties.services import create_party

    user = _user(db, admin[0])
    with acting_as(user, "job: import parties"):
        create_party(db, {"name": "From a job", "kind": "company"})
        db.commit()
    rows = db.execute(select(AuditRecord).where(AuditRecord.table_name == "core_party",
                                                AuditRecord.action == "insert")).scalars().all()
    by_api = next(r for r in rows if "From the API" in r.changes)
    by_job = next(r for r in rows if "From a job" in r.changes)
    assert (by_api.user_id, by_api.username) == (by_job.user_id, by_job.username) == (user.id, admin[0])
    assert by_api.origin == "POST /api/v1/parties" and by_job.origin == "job: import parties"


def test_a_command_acts_as_the_user_named_by_as(app, db, kontor):
    make_user(app, "boss", ["admin"])
    result = kontor("--as", "BOSS", "users", "create", "newcomer")
    assert result.exit_code == 0, result.output
    db.expire_all()
    record = db.execute(select(AuditRecord).where(AuditRecord.table_name == "core_user",
                                                  AuditRecord.action == "insert")
                        .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (record.user_id, record.username) == (_user(db, "boss").id, "boss")
    assert record.origin.startswith("cli: kontor")
    db.rollback()  # end the read (SQLite: a single writer) before the next command
    refused = kontor("--as", "nobody", "users", "create", "other")
    assert refused.exit_code == 1 and "no active user named 'nobody'" in refused.output
    assert db.execute(select(User).where(User.username == "other")).first() is None
