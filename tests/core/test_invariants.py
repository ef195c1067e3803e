"""End-of-transaction invariant checks: when they run, what they see, and hooks() outside an app."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core import InvariantError, NoApplication, hooks
from core.invariants import changes_of
from tests.contract import install


@pytest.fixture
def app(settings):
    """An app with ``everyhook`` (whose check refuses a thing named "forbidden") installed."""
    from core.wsgi import Dispatcher

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    install(settings, "everyhook")
    return Dispatcher(settings).app


@pytest.fixture
def checked():
    from everyhook import services

    services.checked.clear()
    yield services.checked
    services.checked.clear()


def test_a_transaction_that_changes_nothing_or_nothing_watched_runs_no_check(db, checked):
    from core.parties.services import create_party
    from everyhook.services import all_things

    all_things(db)
    db.commit()
    create_party(db, {"name": "Acme A/S", "kind": "company"})
    db.commit()
    assert checked == []


def test_a_check_sees_only_what_the_transaction_touched(db, checked):
    from everyhook.services import add_thing, thing_named

    add_thing(db, "lamp")
    add_thing(db, "chair")
    db.commit()
    thing_named(db, "chair").name = "stool"  # pending, not flushed: the commit flushes it first
    db.commit()
    db.delete(thing_named(db, "lamp"))
    db.commit()
    assert checked == [["chair", "lamp"], ["stool"], ["lamp"]]


def test_a_savepoint_is_checked_with_its_operation_not_when_released(db, checked):
    from everyhook.services import add_thing, all_things

    with db.begin_nested():
        add_thing(db, "forbidden")
    assert checked == []  # released, not committed
    savepoint = db.begin_nested()
    add_thing(db, "also forbidden?")
    savepoint.rollback()
    with pytest.raises(InvariantError):
        db.commit()
    db.rollback()
    assert [t.name for t in all_things(db)] == ["default thing"]  # loaded on install


def test_statements_count_as_changes_and_the_check_runs(db, checked):
    from everyhook.models import Thing
    from everyhook.services import add_thing

    add_thing(db, "kettle")
    db.commit()
    db.execute(update(Thing).values(name="pot"))
    assert changes_of(db).tables == {"everyhook_thing"}
    db.commit()
    assert checked == [["kettle"], []]  # the statement's rows are not objects: the check ran on the table
    assert db.execute(select(Thing.name)).scalar() == "pot"


def test_a_change_made_by_a_domain_event_hook_is_checked_with_the_operation(app, db, checked):
    from core.parties.services import create_party, merge_parties
    from everyhook.services import add_thing, things_of_party

    source = create_party(db, {"name": "Nordlys Handel", "kind": "company"})
    target = create_party(db, {"name": "Nordlys Handel ApS", "kind": "company"})
    add_thing(db, "forbidden", source.id)
    with pytest.raises(InvariantError):
        db.commit()
    db.rollback()
    assert db.execute(select(type(source))).first() is None  # the parties went with the thing
    source = create_party(db, {"name": "Nordlys Handel", "kind": "company"})
    target = create_party(db, {"name": "Nordlys Handel ApS", "kind": "company"})
    add_thing(db, "lamp", source.id)
    db.commit()
    merge_parties(db, source, target, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    db.commit()
    assert [t.name for t in things_of_party(target.id, db)] == ["lamp"]


def test_hooks_outside_an_application_fail_loudly(app):
    with pytest.raises(NoApplication, match="outside a Kontor application"):
        hooks()
    with app.app_context():
        assert hooks() is app.extensions["kontor"].pm.hook


def test_a_service_calling_a_hook_outside_an_application_is_refused_not_silent(app):
    from core.company.services import locked_fields
    from core.db import get_engine, make_sessionmaker

    with make_sessionmaker(get_engine(app.config["DATABASE_URL"]))() as db, pytest.raises(NoApplication):
        locked_fields(db)
