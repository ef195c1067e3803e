"""Posting rules, gapless numbering, reversal, the batch path and the hook, through the services and the API."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import KontorError
from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Entry, FiscalYear, Line, Period

TODAY = date.today()


def two_lines(amount="10.00", debit="1100", credit="4000"):
    return [{"account": debit, "debit": amount}, {"account": credit, "credit": amount}]


def refusal(db, lines, **kwargs):
    entry = services.create_entry(db, journal=kwargs.pop("journal", "GEN"), date=kwargs.pop("date", TODAY), lines=lines)
    with pytest.raises(KontorError) as caught:
        services.post_entry(db, entry)
    db.rollback()
    return caught.value


def test_default_data(db):
    from plugins.accounting import account_for

    assert account_for(db, "accounting.retained_earnings") == services.account_by_code(db, "3100")
    assert services.account_by_code(db, "1200").kind == "receivable"
    assert services.journal_by_code(db, "BNK").default_account_id == services.account_by_code(db, "1100").id
    years = db.scalars(select(FiscalYear).order_by(FiscalYear.start_date)).all()
    assert len(years) == 2 and years[0].start_date <= TODAY <= years[0].end_date
    assert all(len(y.periods) == 12 for y in years)
    assert years[1].start_date == years[0].end_date + timedelta(days=1)


@pytest.mark.parametrize("lines, field", [
    ([{"account": "1100", "debit": "10.00"}], "lines"),
    ([{"account": "1100", "debit": "10.00"}, {"account": "4000", "credit": "9.99"}], "lines"),
    ([{"account": "1100"}, {"account": "4000"}], "lines[0].debit"),
    ([{"account": "1", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}], "lines[0].account"),
])
def test_posting_rules_name_the_field(db, lines, field):
    assert refusal(db, lines).field == field


def test_input_rules_name_the_field(db):
    for lines, field in (([{"account": "9999", "debit": "1"}], "lines[0].account"),
                         ([{"account": "1100", "debit": "-1"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": "1.001"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": "abc"}], "lines[0].debit"),
                         ([{"account": "1100", "debit": 1.5}], "lines[0].debit")):
        with pytest.raises(KontorError) as caught:
            services.create_entry(db, journal="GEN", date=TODAY, lines=lines)
        assert caught.value.field == field
    with pytest.raises(KontorError) as caught:
        services.create_entry(db, journal="NOPE", date=TODAY, lines=[])
    assert caught.value.field == "journal"


def test_a_line_with_both_a_debit_and_a_credit_is_refused_when_drafted(db):
    both = [{"account": "1100", "debit": "10.00", "credit": "10.00"}, {"account": "4000", "credit": "0"}]
    with pytest.raises(KontorError) as caught:
        services.create_entry(db, journal="GEN", date=TODAY, lines=both)
    assert caught.value.field == "lines[0].debit" and caught.value.status == 422
    db.rollback()
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=two_lines())
    with pytest.raises(KontorError) as caught:
        services.update_entry(db, draft, lines=[two_lines()[0], {"account": "4000", "debit": "1", "credit": "10.00"}])
    assert caught.value.field == "lines[1].debit"


def test_the_api_refuses_a_draft_line_with_both_sides_naming_it(api, db):
    both = [{"account": "1100", "debit": "10.00", "credit": "10.00"}, {"account": "4000", "credit": "0"}]
    draft = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                         "lines": two_lines()})
    assert draft.status_code == 201
    created = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(), "lines": both})
    assert created.status_code == 422 and "lines[0].debit" in created.get_json()["errors"]
    patched = api.patch(f"/api/v1/accounting/entries/{draft.get_json()['id']}", json={"lines": both})
    assert patched.status_code == 422 and "lines[0].debit" in patched.get_json()["errors"]
    assert db.scalar(select(func.count()).select_from(Entry)) == 1
    assert [(line["debit"], line["credit"]) for line in draft.get_json()["lines"]] == \
        [(line["debit"], line["credit"]) for line in api.get(f"/api/v1/accounting/entries/{draft.get_json()['id']}")
         .get_json()["lines"]]


def test_the_entry_form_refuses_a_line_with_both_sides_beside_its_debit(admin_client, db):
    count = db.scalar(select(func.count()).select_from(Entry))
    gen = services.journal_by_code(db, "GEN")
    bank, sales = services.account_by_code(db, "1100"), services.account_by_code(db, "4000")
    form = {"journal": str(gen.id), "date": TODAY.isoformat(), "reference": "both sides", "narration": "",
            "line_account": [str(bank.id), str(sales.id)], "line_description": ["", ""],
            "line_debit": ["10.00", ""], "line_credit": ["10.00", "10.00"], "action": "save"}
    refused = admin_client.post_form("/accounting/entries/new", form)
    assert refused.status_code == 422, refused.get_data(as_text=True)[-1500:]
    assert 'id="e-line-0-debit"' in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Entry)) == count


def test_inactive_account_and_closed_period_and_no_year(db):
    account = services.account_by_code(db, "6100")
    account.active = False
    db.flush()
    assert refusal(db, two_lines(debit="6100", credit="1100")).field == "lines[0].account"
    period = db.scalar(select(Period).where(Period.start_date <= TODAY, Period.end_date >= TODAY))
    period.state = "closed"
    db.commit()
    error = refusal(db, two_lines())
    assert error.field == "date" and "closed" in error.message
    far = date(TODAY.year + 5, 1, 1)
    assert refusal(db, two_lines(), date=far).field == "date"


def test_numbering_is_gapless_and_a_rollback_leaves_no_gap(db):
    first = services.create_and_post(db, journal="SAL", date=TODAY, lines=two_lines(debit="1200"))
    db.commit()
    services.create_and_post(db, journal="SAL", date=TODAY, lines=two_lines(debit="1200"))
    db.rollback()  # the second posting is abandoned: its number is not used up
    third = services.create_and_post(db, journal="SAL", date=TODAY, lines=two_lines(debit="1200"))
    db.commit()
    year = db.get(FiscalYear, first.fiscal_year_id)
    assert first.number == f"SAL/{year.name}/00001"
    assert third.sequence == 2 and third.number == f"SAL/{year.name}/00002"
    other = services.create_and_post(db, journal="GEN", date=TODAY, lines=two_lines())
    assert other.sequence == 1  # each journal numbers on its own
    # the next fiscal year starts again at 1
    next_year = db.scalar(select(FiscalYear).where(FiscalYear.start_date > TODAY))
    later = services.create_and_post(db, journal="SAL", date=next_year.start_date, lines=two_lines(debit="1200"))
    assert later.sequence == 1 and later.number == f"SAL/{next_year.name}/00001"


def test_post_sets_state_hash_and_chain(db):
    a = services.create_and_post(db, journal="GEN", date=TODAY, lines=two_lines(), user_id=None)
    b = services.create_and_post(db, journal="GEN", date=TODAY, lines=two_lines("5.00"))
    db.commit()
    assert all(line.state == "posted" for line in a.lines + b.lines)
    assert a.previous_hash == "" and b.previous_hash == a.hash and len(b.hash) == 64
    assert services.journal_by_code(db, "GEN").last_hash == b.hash
    with pytest.raises(KontorError) as caught:
        services.post_entry(db, a)
    assert caught.value.status == 409


def test_reversal_swaps_sides_and_happens_once(db):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=[
        {"account": "1100", "debit": "100.00", "party_id": None}, {"account": "4000", "credit": "80.00"},
        {"account": "2200", "credit": "20.00"}])
    reversal = services.reverse_entry(db, entry)
    db.commit()
    assert reversal.state == "posted" and reversal.reversal_of_id == entry.id and reversal.date == TODAY
    assert [(l.account.code, l.debit, l.credit) for l in reversal.lines] == [
        ("1100", Decimal("0.00"), Decimal("100.00")), ("4000", Decimal("80.00"), Decimal("0.00")),
        ("2200", Decimal("20.00"), Decimal("0.00"))]
    assert services.reversal_of(db, entry).id == reversal.id
    balances = services.account_balances(db)
    assert all(v == 0 for v in balances.values())
    with pytest.raises(KontorError) as caught:
        services.reverse_entry(db, entry)
    assert caught.value.status == 409
    draft = services.create_entry(db, journal="GEN", date=TODAY, lines=two_lines())
    with pytest.raises(KontorError):
        services.reverse_entry(db, draft)


@pytest.mark.parametrize("source", ["invoice:7", "payment:3"])
def test_an_entry_booked_by_a_document_is_reversed_only_through_it(db, api, source):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=two_lines(), source=source)
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


def test_post_batch(db):
    specs = [{"journal": "SAL" if i % 2 else "PUR", "date": TODAY, "reference": f"b{i}",
              "lines": two_lines(f"{i + 1}.00", debit="1200" if i % 2 else "5100", credit="4000" if i % 2 else "2100")}
             for i in range(20)]
    entries = services.post_batch(db, specs)
    db.commit()
    assert [e.reference for e in entries] == [f"b{i}" for i in range(20)]
    assert [e.sequence for e in entries if e.journal.code == "SAL"] == list(range(1, 11))
    assert [e.sequence for e in entries if e.journal.code == "PUR"] == list(range(1, 11))
    assert all(e.state == "posted" and len(e.lines) == 2 for e in entries)
    assert db.scalar(select(func.count()).select_from(Line).where(Line.state == "posted")) == 40
    checked, breaks = services.verify_chains(db)
    assert checked == 20 and breaks == []
    # the ordinary path continues the same chain and numbering
    more = services.create_and_post(db, journal="SAL", date=TODAY, lines=two_lines(debit="1200"))
    assert more.sequence == 11
    assert services.verify_chains(db)[1] == []
    # audit: one record per row
    from core.audit.models import AuditRecord
    assert db.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.table_name == "accounting_line")) >= 40


def test_post_batch_is_all_or_nothing(db):
    specs = [{"journal": "GEN", "date": TODAY, "lines": two_lines()},
             {"journal": "GEN", "date": TODAY, "lines": two_lines()[:1]}]
    with pytest.raises(KontorError) as caught:
        services.post_batch(db, specs)
    assert caught.value.field == "entries[1].lines"
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Entry)) == 0


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
    bad = api.post("/api/v1/accounting/accounts", json={"code": "2150", "name": "x", "type": "asset", "kind": "payable"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]
    journals = api.get("/api/v1/accounting/journals").get_json()["items"]
    assert [j["code"] for j in journals] == ["BNK", "CSH", "GEN", "PUR", "SAL"]
    new = api.post("/api/v1/accounting/journals", json={"code": "MISC", "name": "Miscellaneous", "type": "general"})
    assert new.status_code == 201


def test_demo_entries(db):
    from plugins.accounting.ledger import demo

    counted = []
    demo.load(db, counted.append)
    db.commit()
    assert counted and counted[0] >= 25
    assert services.account_balances(db)[services.account_by_code(db, "3000").id] == Decimal("-200000.00")
    assert services.verify_chains(db)[1] == []
    demo.load(db, counted.append)  # once only
    assert len(counted) == 1


def test_api_moving_a_draft_into_the_locked_period_is_a_422_naming_the_date(api, db):
    from plugins.accounting.ledger import years

    created = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                           "lines": two_lines()})
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
