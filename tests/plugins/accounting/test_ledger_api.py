"""The ledger through the JSON API: entries, accounts and journals, fiscal years, and what a posted
entry or the lock date refuses."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core import KontorError

from plugins.accounting.ledger import services, years
from plugins.accounting.ledger.models import Entry
from plugins.accounting.testing import balanced_lines, current_year, last_year

TODAY = date.today()


def _posted_id(in_app):
    with in_app() as db:
        return services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines()).id


def test_the_api_refuses_a_draft_line_with_both_sides_naming_it(api, db):
    both = [{"account": "1100", "debit": "10.00", "credit": "10.00"}, {"account": "4000", "credit": "0"}]
    draft = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                         "lines": balanced_lines()})
    assert draft.status_code == 201
    created = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(), "lines": both})
    assert created.status_code == 422 and "lines[0].debit" in created.get_json()["errors"]
    patched = api.patch(f"/api/v1/accounting/entries/{draft.get_json()['id']}", json={"lines": both})
    assert patched.status_code == 422 and "lines[0].debit" in patched.get_json()["errors"]
    assert db.scalar(select(func.count()).select_from(Entry)) == 1
    assert [(line["debit"], line["credit"]) for line in draft.get_json()["lines"]] == \
        [(line["debit"], line["credit"]) for line in api.get(f"/api/v1/accounting/entries/{draft.get_json()['id']}")
         .get_json()["lines"]]


@pytest.mark.parametrize("source", ["invoice:7", "payment:3"])
def test_an_entry_booked_by_a_document_is_reversed_only_through_it(db, api, source):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines(), source=source)
    db.commit()
    entry_id = entry.id
    with pytest.raises(KontorError) as caught:
        services.reverse_entry(db, entry)
    assert caught.value.status == 409 and caught.value.field == "state"
    db.rollback()
    response = api.post(f"/api/v1/accounting/entries/{entry_id}/reverse", json={})
    assert response.status_code == 409 and "state" in response.json["errors"]
    entry = db.get(Entry, entry_id)
    assert services.reversal_of(db, entry) is None
    assert services.reverse_entry(db, entry, by_document=True).reversal_of_id == entry.id


def test_api_entries(api, db):
    created = api.post("/api/v1/accounting/entries", json={
        "journal": "GEN", "date": TODAY.isoformat(), "reference": "api",
        "lines": [{"account": "1100", "debit": "12.50"}, {"account": "4000", "credit": "12.00"}]})
    assert created.status_code == 201, created.get_json()
    entry_id = created.get_json()["id"]
    refused = api.post(f"/api/v1/accounting/entries/{entry_id}/post")
    assert refused.status_code == 422 and "lines" in refused.get_json()["errors"]
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    patched = api.patch(f"/api/v1/accounting/entries/{entry_id}", json={
        "lines": [{"account": "1100", "debit": "12.50"}, {"account": services.account_by_code(db, "4000").id,
                                                           "credit": "12.50"}]})
    assert patched.status_code == 200, patched.get_json()
    posted = api.post(f"/api/v1/accounting/entries/{entry_id}/post")
    assert posted.status_code == 200 and posted.get_json()["state"] == "posted"
    body = api.get(f"/api/v1/accounting/entries/{entry_id}").get_json()
    assert body["number"].startswith("GEN/") and body["lines"][0]["debit"] == "12.50"
    assert body["lines"][1]["account"] == "4000"
    listed = api.get("/api/v1/accounting/entries?state=posted&journal=GEN&account=1100").get_json()
    assert [e["id"] for e in listed["items"]] == [entry_id]
    unknown = api.post(f"/api/v1/accounting/entries/{entry_id}/reverse", json={"date": None, "when": "today"})
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]) == {"when"}  # nothing reversed
    reversed_ = api.post(f"/api/v1/accounting/entries/{entry_id}/reverse", json={})
    assert reversed_.status_code == 201 and reversed_.get_json()["reversal_of_id"] == entry_id
    assert api.get(f"/api/v1/accounting/entries/{entry_id}").get_json()["reversed_by_id"] == reversed_.get_json()["id"]
    again = api.post(f"/api/v1/accounting/entries/{entry_id}/reverse", json={})
    assert again.status_code == 409
    bad = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                       "lines": [{"account": "1100", "debit": "x"}]})
    assert bad.status_code == 422 and "lines[0].debit" in bad.get_json()["errors"]
    draft = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(), "lines": []})
    assert api.delete(f"/api/v1/accounting/entries/{draft.get_json()['id']}").status_code == 204
    assert api.get(f"/api/v1/accounting/entries/{draft.get_json()['id']}").status_code == 404


def test_api_accounts_and_journals(api):
    accounts = api.get("/api/v1/accounting/accounts").get_json()["items"]
    assert {"1100", "1200", "2100", "3100", "4000", "8300"} <= {a["code"] for a in accounts}
    created = api.post("/api/v1/accounting/accounts", json={"code": "1120", "name": "Petty cash", "type": "asset",
                                                           "kind": "cash", "parent": "1"})
    assert created.status_code == 201, created.get_json()
    bad = api.post("/api/v1/accounting/accounts", json={"code": "2190", "name": "x", "type": "asset", "kind": "payable"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    journals = api.get("/api/v1/accounting/journals").get_json()["items"]
    assert [j["code"] for j in journals] == ["BNK", "CSH", "GEN", "PUR", "SAL"]
    new = api.post("/api/v1/accounting/journals", json={"code": "MISC", "name": "Miscellaneous", "type": "general"})
    assert new.status_code == 201


def test_api_moving_a_draft_into_the_locked_period_is_a_422_naming_the_date(api, db):
    from plugins.accounting.ledger import years

    created = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                           "lines": balanced_lines()})
    entry_id = created.get_json()["id"]
    years.set_lock_date(db, TODAY - timedelta(days=5))
    db.commit()
    moved = api.patch(f"/api/v1/accounting/entries/{entry_id}", json={"date": (TODAY - timedelta(days=10)).isoformat()})
    assert moved.status_code == 422, moved.get_data(as_text=True)
    assert moved.headers["Content-Type"].startswith("application/problem+json")
    assert "lock date" in moved.get_json()["errors"]["date"][0]
    db.expire_all()
    assert db.get(Entry, entry_id).date == TODAY  # nothing changed
    assert api.patch(f"/api/v1/accounting/entries/{entry_id}", json={"date": "not a date"}).status_code == 422


def test_api_close_and_reopen(api, in_app):
    with in_app() as db:
        ids = (current_year(db).id, last_year(db).id)
    early = api.post(f"/api/v1/accounting/fiscal-years/{ids[0]}/close")
    assert early.status_code == 409 and early.mimetype == "application/problem+json"
    assert "state" in early.get_json()["errors"]
    assert api.post(f"/api/v1/accounting/fiscal-years/{ids[1]}/close").get_json()["state"] == "closed"
    assert api.post(f"/api/v1/accounting/fiscal-years/{ids[0]}/reopen").status_code == 409  # open
    reopened = api.post(f"/api/v1/accounting/fiscal-years/{ids[1]}/reopen")
    assert reopened.status_code == 200 and reopened.get_json()["state"] == "open"
    assert api.post("/api/v1/accounting/fiscal-years/999999/reopen").status_code == 404


def test_posted_entry_refused_through_api(api, in_app):
    entry_id = _posted_id(in_app)
    assert api.patch(f"/api/v1/accounting/entries/{entry_id}", json={"reference": "x"}).status_code == 409
    deleted = api.delete(f"/api/v1/accounting/entries/{entry_id}")
    assert deleted.status_code == 409
    assert deleted.headers["Content-Type"].startswith("application/problem+json")
    assert "state" in deleted.get_json()["errors"]
