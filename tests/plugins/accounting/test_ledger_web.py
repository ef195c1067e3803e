"""The ledger's pages through real HTTP: chart, journals, fiscal years, entries (form, htmx line, post, reverse)."""
import re
from datetime import date

from sqlalchemy import select

from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Account, Entry, Journal


def _today():
    return date.today().isoformat()


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
    bad = admin_client.post_form("/accounting/accounts/new", {"code": "1250", "name": "Other receivable",
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
    ok = admin_client.post_form("/accounting/accounts/new", {"code": "1250", "name": "Other receivable",
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
