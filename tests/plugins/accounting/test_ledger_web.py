"""The ledger's pages through real HTTP: chart, journals, fiscal years, entries (form, htmx line, post, reverse),
what a posted entry and the lock date refuse, and who may close a year."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Account, Entry, FiscalYear, Journal
from plugins.accounting.testing import balanced_lines, current_year, last_year

TODAY = date.today()


def _today():
    return date.today().isoformat()


def _posted_id(in_app):
    with in_app() as db:
        return services.create_and_post(db, journal="GEN", date=TODAY, lines=balanced_lines()).id


def test_ledger_pages_render(admin_client, db):
    entry = services.create_and_post(db, journal="GEN", date=date.today(),
                                     lines=[{"account": "1100", "debit": "25.00"}, {"account": "3000", "credit": "25.00"}])
    db.commit()
    for path in ("/accounting/accounts", "/accounting/accounts?q=bank&type=asset", "/accounting/journals",
                 "/accounting/years", "/accounting/entries", "/accounting/entries?state=posted&journal=1",
                 f"/accounting/entries/{entry.id}", "/accounting/entries/new", "/accounting/accounts/new",
                 "/accounting/journals/new"):
        response = admin_client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])
    page = admin_client.get("/accounting/accounts").get_data(as_text=True)
    assert "Accounts receivable" in page and "1200" in page
    page = admin_client.get(f"/accounting/entries/{entry.id}").get_data(as_text=True)
    assert entry.number in page and entry.hash in page
    assert "/edit" not in page  # a posted entry offers no edit


def test_accounts_tree_rolls_up_balances(admin_client, db):
    services.create_and_post(db, journal="GEN", date=date.today(),
                             lines=[{"account": "1100", "debit": "100.00"}, {"account": "1110", "debit": "20.00"},
                                    {"account": "3000", "credit": "120.00"}])
    db.commit()
    rows = admin_client.get("/accounting/accounts").get_data(as_text=True)
    assets = re.search(r"<strong>1</strong>.*?</tr>", rows, re.S).group(0)
    assert "120.00" in assets


def test_entry_form_creates_draft_then_posts(admin_client, db):
    gen = db.scalar(select(Journal).where(Journal.code == "GEN"))
    bank = services.account_by_code(db, "1100")
    capital = services.account_by_code(db, "3000")
    line = admin_client.htmx("GET", "/accounting/entries/line?line_account=1&line_account=2")
    assert line.status_code == 200 and 'name="line_account"' in line.get_data(as_text=True)
    assert "line 3" in line.get_data(as_text=True)  # numbered after the lines the form has
    form = {"journal": str(gen.id), "date": _today(), "reference": "form test", "narration": "",
            "line_account": [str(bank.id), str(capital.id)], "line_description": ["", ""],
            "line_debit": ["40.00", ""], "line_credit": ["", "35.00"], "action": "post"}
    refused = admin_client.post_form("/accounting/entries/new", form)
    assert refused.status_code == 422
    assert "does not balance" in refused.get_data(as_text=True)
    assert db.scalar(select(Entry).where(Entry.reference == "form test")) is None
    form["line_credit"] = ["", "40.00"]
    form["action"] = "save"
    saved = admin_client.post_form("/accounting/entries/new", form)
    assert saved.status_code == 303
    entry = db.scalar(select(Entry).where(Entry.reference == "form test"))
    assert entry.state == "draft" and len(entry.lines) == 2
    posted = admin_client.post_form(f"/accounting/entries/{entry.id}/post", {})
    assert posted.status_code == 303
    db.expire_all()
    assert db.get(Entry, entry.id).state == "posted"
    # the reversal is linked both ways on the pages
    reversed_ = admin_client.post_form(f"/accounting/entries/{entry.id}/reverse", {"date": _today()})
    assert reversed_.status_code == 303
    reversal = db.scalar(select(Entry).where(Entry.reversal_of_id == entry.id))
    assert reversal is not None and reversal.state == "posted"
    original_page = admin_client.get(f"/accounting/entries/{entry.id}").get_data(as_text=True)
    assert reversal.number in original_page
    assert entry.number in admin_client.get(f"/accounting/entries/{reversal.id}").get_data(as_text=True)
    again = admin_client.post_form(f"/accounting/entries/{entry.id}/reverse", {"date": _today()})
    assert again.status_code == 409


def test_account_form_validation(admin_client, db):
    assets = db.scalar(select(Account).where(Account.code == "1"))
    bad = admin_client.post_form("/accounting/accounts/new", {"code": "1260", "name": "Other receivable",
                                                               "type": "liability", "kind": "receivable",
                                                               "parent_id": str(assets.id), "postable": "1",
                                                               "active": "1"})
    assert bad.status_code == 422 and "A receivable account is an asset." in bad.get_data(as_text=True)
    dup = admin_client.post_form("/accounting/accounts/new", {"code": "1100", "name": "x", "type": "asset",
                                                               "kind": "other", "postable": "1", "active": "1"})
    assert dup.status_code == 422 and "already used" in dup.get_data(as_text=True)
    bank = services.account_by_code(db, "1100")
    under_postable = admin_client.post_form("/accounting/accounts/new", {
        "code": "1101", "name": "Sub", "type": "asset", "kind": "other", "parent_id": str(bank.id),
        "postable": "1", "active": "1"})
    assert under_postable.status_code == 422 and "group account" in under_postable.get_data(as_text=True)
    ok = admin_client.post_form("/accounting/accounts/new", {"code": "1260", "name": "Other receivable",
                                                              "type": "asset", "kind": "receivable",
                                                              "parent_id": str(assets.id), "postable": "1",
                                                              "reconcilable": "1", "active": "1"})
    assert ok.status_code == 303
    assert services.account_by_code(db, "1250").parent_id == assets.id


def test_verify_button(admin_client, db):
    services.create_and_post(db, journal="GEN", date=date.today(),
                             lines=[{"account": "1100", "debit": "1.00"}, {"account": "3000", "credit": "1.00"}])
    db.commit()
    page = admin_client.post_form("/accounting/verify", {})
    assert page.status_code == 200 and "intact" in page.get_data(as_text=True)


def test_entry_form_refuses_moving_a_draft_into_the_locked_period_beside_the_date(admin_client, db):
    from datetime import timedelta

    from plugins.accounting.ledger import years

    today = date.today()
    draft = services.create_entry(db, journal="GEN", date=today, reference="lock form",
                                  lines=[{"account": "1100", "debit": "5.00"}, {"account": "3000", "credit": "5.00"}])
    years.set_lock_date(db, today - timedelta(days=5))
    db.commit()
    bank, capital = services.account_by_code(db, "1100"), services.account_by_code(db, "3000")
    early = (today - timedelta(days=10)).isoformat()
    form = {"journal": str(draft.journal_id), "date": early, "reference": "lock form", "narration": "",
            "line_account": [str(bank.id), str(capital.id)], "line_description": ["", ""],
            "line_debit": ["5.00", ""], "line_credit": ["", "5.00"], "action": "save"}
    refused = admin_client.post_form(f"/accounting/entries/{draft.id}/edit", form)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert re.search(r'id="e-date"[^>]*>[^<]*on or before the lock date', text)
    db.expire_all()
    assert db.get(Entry, draft.id).date == today


def test_the_pages_take_their_styles_from_the_module_stylesheet(admin_client):
    from pathlib import Path

    import plugins.accounting

    templates = Path(plugins.accounting.__file__).parent / "templates" / "accounting"
    for area in ("ledger", "tax", "currencies", "reports", "settings"):
        for path in (templates / area).rglob("*.html"):
            assert "<style" not in path.read_text(), f"{path} has an inline <style> block"
    page = admin_client.get("/accounting/entries").get_data(as_text=True)
    assert "/accounting/static/accounting.css" in page
    css = admin_client.get("/accounting/static/accounting.css")
    assert css.status_code == 200 and "#entries" in css.get_data(as_text=True)


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


def test_year_close_and_reopen_need_permission(make_user_client, in_app):
    with in_app() as db:
        current_id = current_year(db).id
        year = last_year(db)
        year_id = year.id
        services.create_and_post(db, journal="GEN", date=year.start_date, lines=[
            {"account": "1100", "debit": "300.00"}, {"account": "4100", "credit": "300.00"}])
    keeper = make_user_client("keeper2", ["bookkeeper"])
    assert keeper.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 403
    accountant = make_user_client("acc2", ["accountant"])
    page = accountant.get("/accounting/years").get_data(as_text=True)
    # the current year has not ended: its close button is disabled, with the reason beside it
    assert re.search(rf'disabled aria-describedby="why-{current_id}"', page)
    assert re.search(rf'id="why-{current_id}"[^>]*>[^<]*ends on', page)
    assert f"/accounting/years/{current_id}/close" not in page and f"/accounting/years/{year_id}/close" in page
    early = accountant.post_form(f"/accounting/years/{current_id}/close", {})
    assert early.status_code == 409 and "ends on" in early.get_data(as_text=True)
    assert accountant.post_form(f"/accounting/years/{year_id}/close", {}).status_code == 303
    with in_app() as db:
        assert db.get(FiscalYear, year_id).state == "closed"
    page = accountant.get("/accounting/years").get_data(as_text=True)
    assert "Closed" in page and f"/accounting/years/{year_id}/reopen" in page and "data-confirm" in page
    again = accountant.post_form(f"/accounting/years/{year_id}/close", {})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert keeper.post_form(f"/accounting/years/{year_id}/reopen", {}).status_code == 403
    assert accountant.post_form(f"/accounting/years/{year_id}/reopen", {}).status_code == 303
    with in_app() as db:
        assert db.get(FiscalYear, year_id).state == "open"


def test_chart_ui_export_and_import(admin_client):
    exported = admin_client.get("/accounting/accounts?format=csv")
    assert exported.status_code == 200 and b"1100,Bank,asset,bank" in exported.data
    import io
    ok = admin_client.post_form("/accounting/accounts/import",
                                {"file": (io.BytesIO(b"code,name,type,parent\n6700,Training,expense,6\n"), "c.csv")},
                                content_type="multipart/form-data")
    assert ok.status_code == 303
    assert b"6700" in admin_client.get("/accounting/accounts?q=training").data
    bad = admin_client.post_form("/accounting/accounts/import",
                                 {"file": (io.BytesIO(b"code,name,type\n6800,X,nonsense\n"), "c.csv")},
                                 content_type="multipart/form-data")
    assert bad.status_code == 422 and b"Line 2" in bad.data


def test_posted_entry_refused_through_ui(admin_client, in_app):
    posted = type("E", (), {"id": _posted_id(in_app)})
    page = admin_client.get(f"/accounting/entries/{posted.id}").get_data(as_text=True)
    assert f"/accounting/entries/{posted.id}/edit" not in page and f"/entries/{posted.id}/delete" not in page
    assert admin_client.get(f"/accounting/entries/{posted.id}/edit").status_code == 409
    assert admin_client.post_form(f"/accounting/entries/{posted.id}/edit", {"reference": "x"}).status_code == 409
    assert admin_client.post_form(f"/accounting/entries/{posted.id}/delete", {}).status_code == 409


def test_lock_date_through_api_and_ui(api, admin_client, in_app, make_user_client):
    with in_app() as db:
        gen_id = services.journal_by_code(db, "GEN").id
    assert api.put("/api/v1/accounting/lock-date", json={"lock_date": TODAY.isoformat()}).status_code == 200
    refused = api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": TODAY.isoformat(),
                                                          "lines": balanced_lines()})
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
    from core.testing import WebClient, make_user

    def make(username, roles):
        make_user(app, username, roles, "a long password 42")
        client = WebClient(dispatcher)
        assert client.login(username, "a long password 42").status_code == 302
        return client
    return make
