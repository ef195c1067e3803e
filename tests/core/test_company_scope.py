"""The company scope: one rule, applied by the core to every query of a per-company model.

Exercised through the fixture plugin ``groupnotes`` (one ``CompanyScoped`` model, its API, a
per-company setting and default data), in services, the API and a command.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from core import Forbidden, all_companies, current_company_id, in_company
from core.testing import ApiClient, WebClient, factories
from tests.contract import install

PASSWORD = factories.PASSWORD


@pytest.fixture
def site(settings):
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "groupnotes.plugin")
    install(settings, "groupnotes")
    from core.wsgi import Dispatcher

    return Dispatcher(settings)


@pytest.fixture
def group(site):
    """Two companies, each with notes; Anna works in the first only, Bo in both."""
    from groupnotes.models import Note

    app = site.app
    with app.app_context():
        from core.db import session as db

        first = current_company_id(db)
        second = factories.group_company(db, "Nordlys Vertrieb GmbH").id
        for code, amount in (("A1", "10.00"), ("A2", "5.50")):
            db.add(Note(code=code, amount=Decimal(amount)))
        with in_company(second):
            db.add(Note(code="B1", amount=Decimal("1000.00")))
        anna = factories.user(db, "anna", permissions=["groupnotes.note.read"])
        bo = factories.user(db, "bo", permissions=["groupnotes.note.read"], companies=[first, second])
        db.commit()
        return {"first": first, "second": second, "anna": anna.id, "bo": bo.id}


def _token(site, username: str) -> str:
    from core.auth.models import User
    from core.auth.tokens import create_token

    with site.app.app_context():
        from core.db import session as db

        _, secret = create_token(db, db.execute(select(User).where(User.username == username)).scalar_one(), "t")
        db.commit()
        return secret


def _api(site, username: str) -> ApiClient:
    return ApiClient(WebClient(site), _token(site, username))


def _codes(answer) -> set[str]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {item["code"] for item in answer.get_json()["items"]}


def test_every_kind_of_query_sees_the_companies_in_scope_only(site, group):
    from groupnotes.models import Note

    with site.app.app_context():
        from core.db import session as db

        # the system acts in the default company: selects, counts, sums and get()
        assert set(db.execute(select(Note.code)).scalars()) == {"WELCOME", "A1", "A2"}
        assert db.execute(select(func.count()).select_from(Note)).scalar() == 3
        assert db.execute(select(func.sum(Note.amount))).scalar() == Decimal("15.50")
        b1 = db.execute(select(Note.id).where(Note.code == "B1").execution_options(kontor_unscoped=True)).scalar()
        assert db.get(Note, b1) is None
        # a join through an alias is narrowed on both sides
        parent = aliased(Note)
        assert db.execute(select(Note.code).join(parent, parent.id != Note.id).where(parent.code == "B1")).all() == []
        # bulk updates and deletes touch the scope only
        db.execute(update(Note).values(text="touched"))
        db.execute(delete(Note).where(Note.code == "B1"))
        with in_company(group["second"]):
            b = db.execute(select(Note)).scalars().all()
            assert sorted(n.code for n in b) == ["B1", "WELCOME"]  # B1 was not deleted from there
            assert all(n.text != "touched" for n in b)
        # a report over both companies names them
        with in_company(group["first"], companies=[group["second"]]):
            assert db.execute(select(func.sum(Note.amount))).scalar() == Decimal("1015.50")
        with all_companies():
            assert db.execute(select(func.count()).select_from(Note)).scalar() == 5
        db.rollback()


def test_a_record_is_written_into_the_current_company_and_never_outside_the_scope(site, group):
    from groupnotes.models import Note

    with site.app.app_context():
        from core.db import session as db

        with in_company(group["second"]):
            note = Note(code="NEW")
            db.add(note)
            db.flush()
            assert note.company_id == group["second"]
        # the same code in another company is another note (unique per company)
        db.add(Note(code="NEW"))
        db.flush()
        db.add(Note(code="SNEAK", company_id=group["second"]))
        with pytest.raises(Forbidden):
            db.flush()
        db.rollback()


def test_default_data_is_loaded_for_a_company_when_it_is_created(site, group):
    from groupnotes.models import Note

    with site.app.app_context():
        from core.db import session as db

        with all_companies():
            welcome = db.execute(select(Note.company_id, Note.text).where(Note.code == "WELCOME")
                                 .order_by(Note.company_id)).all()
        assert [row.company_id for row in welcome] == [group["first"], group["second"]]
        assert welcome[1].text == "Welcome to Nordlys Vertrieb GmbH"


def test_the_api_answers_for_the_users_current_company_and_the_companies_named(site, group):
    anna, bo = _api(site, "anna"), _api(site, "bo")
    assert _codes(anna.get("/api/v1/groupnotes/notes")) == {"WELCOME", "A1", "A2"}
    assert anna.get("/api/v1/groupnotes/notes").get_json()["total"] == "15.50"  # no other company in the total
    b1 = _codes(bo.get(f"/api/v1/groupnotes/notes?company={group['second']}"))
    assert b1 == {"WELCOME", "B1"}
    both = bo.get(f"/api/v1/groupnotes/notes?company={group['first']},{group['second']}")
    assert _codes(both) == {"WELCOME", "A1", "A2", "B1"} and both.get_json()["total"] == "1015.50"
    # Anna does not work in the second company: refused, naming the parameter, nothing shown
    refused = anna.get(f"/api/v1/groupnotes/notes?company={group['second']}")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "company" in refused.get_json()["errors"]
    bad = bo.get("/api/v1/groupnotes/notes?company=second")
    assert bad.status_code == 422 and "company" in bad.get_json()["errors"]
    # a detail of the other company is not found
    with site.app.app_context():
        from core.db import session as db
        from groupnotes.models import Note

        with all_companies():
            b1_id = db.execute(select(Note.id).where(Note.code == "B1")).scalar()
    assert anna.get(f"/api/v1/groupnotes/notes/{b1_id}").status_code == 404
    assert bo.get(f"/api/v1/groupnotes/notes/{b1_id}").status_code == 404  # current company: the first
    assert bo.get(f"/api/v1/groupnotes/notes/{b1_id}?company={group['second']}").status_code == 200


def test_switching_company_is_remembered_and_refused_for_a_company_one_does_not_work_in(site, group):
    from core.auth.models import User
    from core.company.services import switch_company

    with site.app.app_context():
        from core.db import session as db

        bo = db.get(User, group["bo"])
        switch_company(db, bo, group["second"])
        db.commit()
        anna = db.get(User, group["anna"])
        with pytest.raises(Exception) as refused:
            switch_company(db, anna, group["second"])
        assert getattr(refused.value, "status", None) == 403
        db.rollback()
    assert _codes(_api(site, "bo").get("/api/v1/groupnotes/notes")) == {"WELCOME", "B1"}


def test_a_role_granted_in_one_company_counts_there_only(site, group):
    from core.auth.models import User
    from core.company.models import Company
    from core.company.services import set_company_roles, switch_company

    with site.app.app_context():
        from core.db import session as db

        carl = factories.user(db, "carl", companies=[group["first"], group["second"]])
        role = factories.role_with(db, ["groupnotes.note.read"])
        set_company_roles(db, carl, db.get(Company, group["second"]), [role.id])
        db.commit()
    carl = _api(site, "carl")
    assert carl.get("/api/v1/groupnotes/notes").status_code == 403
    assert _codes(carl.get(f"/api/v1/groupnotes/notes?company={group['second']}")) == {"WELCOME", "B1"}
    with site.app.app_context():
        from core.db import session as db

        switch_company(db, db.execute(select(User).where(User.username == "carl")).scalar_one(), group["second"])
        db.commit()
    assert carl.get("/api/v1/groupnotes/notes").status_code == 200


def test_a_per_company_setting_keeps_a_value_for_each_company(site, group):
    from core import update_settings
    from groupnotes.plugin import PER_COMPANY

    with site.app.app_context():
        from core.db import session as db

        update_settings(db, [PER_COMPANY], {PER_COMPANY.key: "Hygge"})
        with in_company(group["second"]):
            update_settings(db, [PER_COMPANY], {PER_COMPANY.key: "Gründlich"})
        db.commit()
    assert _api(site, "anna").get("/api/v1/groupnotes/notes").get_json()["motto"] == "Hygge"
    answer = _api(site, "bo").get(f"/api/v1/groupnotes/notes?company={group['second']}")
    assert answer.get_json()["motto"] == "Gründlich"


def test_a_command_works_in_the_company_it_names(site, group, settings, monkeypatch):
    from core.cli import main

    monkeypatch.setenv("KONTOR_DATABASE_URL", settings["DATABASE_URL"])
    monkeypatch.setenv("KONTOR_INSTANCE", settings["INSTANCE_PATH"])
    monkeypatch.setenv("KONTOR_SECRET_KEY", settings["SECRET_KEY"])
    monkeypatch.setenv("KONTOR_PLUGINS", ",".join(settings["EXTRA_PLUGINS"]))
    refused = CliRunner().invoke(main, ["--as", "anna", "--company", "Nordlys Vertrieb GmbH", "modules", "list"])
    assert refused.exit_code != 0 and "does not work in" in refused.output
    unknown = CliRunner().invoke(main, ["--company", "Nowhere AG", "modules", "list"])
    assert unknown.exit_code != 0 and "no company" in unknown.output
