"""The invoice pages: lists, the form with live totals, posting, credit notes, print view, party panel."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from core.db import session
from core.testing import make_user
from plugins.accounting.invoicing import services
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.invoicing.printing import plain_latin
from plugins.accounting.testing import customer, draft_invoice, line, supplier

TODAY = date.today()


def setup_party(app, **extra) -> int:
    with app.app_context():
        party = customer(session, **extra)
        session.commit()
        return party.id


def posted_invoice(app, **kwargs) -> tuple[int, str]:
    with app.app_context():
        inv = draft_invoice(session, **kwargs)
        services.post_invoice(session, inv)
        session.commit()
        return inv.id, inv.number


def form_data(party_id, **extra):
    data = {"kind": "out_invoice", "party_id": str(party_id), "invoice_date": TODAY.isoformat(),
            "payment_terms_days": "14", "due_date": "", "currency": "DKK", "reference": "PO-1", "notes": "",
            "lines-0-description": "Design", "lines-0-quantity": "2", "lines-0-unit_price": "100.00",
            "lines-0-discount_percent": "0", "lines-0-taxes": "", "lines-0-account": "",
            "lines-1-description": "Hosting", "lines-1-quantity": "1", "lines-1-unit_price": "49.99",
            "lines-1-discount_percent": "10", "lines-1-taxes": "", "lines-1-account": ""}
    data.update(extra)
    return data


def tax_id(app, code) -> str:
    from plugins.accounting.tax.models import Tax

    with app.app_context():
        return str(session.execute(select(Tax.id).where(Tax.code == code)).scalar_one())


def test_the_lists_answer(admin_client, app):
    number = posted_invoice(app)[1]
    with app.app_context():
        services.post_invoice(session, draft_invoice(session, kind="in_invoice", lines=[line(taxes=["DK-P25"])],
                                               reference="SUP-42"))
        session.commit()
    page = admin_client.get("/accounting/invoices").get_data(as_text=True)
    assert number in page and "SUP-42" not in page
    bills = admin_client.get("/accounting/bills?q=sup-42").get_data(as_text=True)
    assert "PUR/" in bills and number not in bills
    assert number not in admin_client.get("/accounting/invoices?state=draft").get_data(as_text=True)
    assert number in admin_client.get("/accounting/invoices?state=open&q=fjord").get_data(as_text=True)
    assert number not in admin_client.get("/accounting/invoices?overdue=1").get_data(as_text=True)
    later = (TODAY + timedelta(days=1)).isoformat()
    assert number not in admin_client.get(f"/accounting/invoices?date_from={later}").get_data(as_text=True)
    assert admin_client.get("/accounting/invoices?sort=-total&date_from=nonsense").status_code == 200
    assert "<style" not in page and "/accounting/static/accounting.css" in page
    assert ".invoice-lines" in admin_client.get("/accounting/static/accounting.css").get_data(as_text=True)


def test_the_lists_export(admin_client, app):
    number = posted_invoice(app, party=None)[1]
    csv = admin_client.get("/accounting/invoices?format=csv")
    assert csv.status_code == 200 and number in csv.get_data(as_text=True)
    assert "Fjord Logistik ApS" in csv.get_data(as_text=True)
    xlsx = admin_client.get("/accounting/invoices?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data().startswith(b"PK")


def test_create_a_draft_through_the_form_and_post_it(admin_client, app):
    party_id = setup_party(app)
    s25 = tax_id(app, "DK-S25")
    assert admin_client.get("/accounting/invoices/new?kind=out_invoice").status_code == 200
    response = admin_client.post_form("/accounting/invoices/new?kind=out_invoice",
                                      form_data(party_id, **{"lines-0-taxes": s25, "lines-1-taxes": s25}))
    assert response.status_code == 303, response.get_data(as_text=True)
    detail_url = response.headers["Location"]
    with app.app_context():
        inv = session.execute(select(Invoice)).scalar_one()
        assert str(inv.amount_total) == "306.24" and inv.reference == "PO-1"
        invoice_id = inv.id
    page = admin_client.get(detail_url).get_data(as_text=True)
    assert "306.24" in page and "Post" in page
    posted = admin_client.post_form(f"/accounting/invoices/{invoice_id}/post", {})
    assert posted.status_code == 303
    with app.app_context():
        inv = session.get(Invoice, invoice_id)
        assert inv.state == "posted" and inv.number
    page = admin_client.get(detail_url).get_data(as_text=True)
    assert inv.number in page and "Credit note" in page


def test_form_errors_stand_beside_the_field(admin_client, app):
    party_id = setup_party(app)
    response = admin_client.post_form("/accounting/invoices/new?kind=out_invoice",
                                      form_data(party_id, **{"lines-1-quantity": "0"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-lines-1-quantity"' in page and 'aria-invalid="true"' in page
    missing = admin_client.post_form("/accounting/invoices/new?kind=out_invoice", form_data(""))
    assert missing.status_code == 422 and 'id="e-party_id"' in missing.get_data(as_text=True)
    with app.app_context():
        assert session.execute(select(Invoice)).first() is None


def test_lines_are_added_and_removed_and_totals_come_from_the_server(admin_client, app):
    party_id = setup_party(app)
    s25 = tax_id(app, "DK-S25")
    data = form_data(party_id, **{"lines-0-taxes": s25, "lines-1-taxes": s25})
    added = admin_client.htmx("POST", "/accounting/invoices/form-lines", data={**data, "add_line": "1"})
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="lines-2-description"' in page and page.lstrip().startswith(("{#", "<section"))
    removed = admin_client.htmx("POST", "/accounting/invoices/form-lines", data={**data, "remove_line": "0"})
    page = removed.get_data(as_text=True)
    assert 'name="lines-1-description"' not in page and 'value="Hosting"' in page
    totals = admin_client.htmx("POST", "/accounting/invoices/form-totals", data=data).get_data(as_text=True)
    assert "306.24" in totals and "61.25" in totals and 'id="line-amount-1" hx-swap-oob="true"' in totals
    assert "44.99" in totals
    broken = admin_client.htmx("POST", "/accounting/invoices/form-totals",
                               data={**data, "lines-0-unit_price": "x"}).get_data(as_text=True)
    assert "306.24" not in broken


def test_a_posted_invoice_cannot_be_edited_or_deleted_from_the_pages(admin_client, app):
    invoice_id, number = posted_invoice(app)
    edit = admin_client.get(f"/accounting/invoices/{invoice_id}/edit")
    assert edit.status_code == 303
    delete = admin_client.post_form(f"/accounting/invoices/{invoice_id}/delete", {})
    assert delete.status_code == 409
    with app.app_context():
        assert session.get(Invoice, invoice_id).number == number


def test_a_draft_is_edited_and_deleted(admin_client, app):
    with app.app_context():
        inv = draft_invoice(session)
        session.commit()
        invoice_id, party_id = inv.id, inv.party_id
    assert 'value="Consulting"' in admin_client.get(f"/accounting/invoices/{invoice_id}/edit").get_data(as_text=True)
    changed = admin_client.post_form(f"/accounting/invoices/{invoice_id}/edit",
                                     form_data(party_id, reference="Changed"))
    assert changed.status_code == 303
    with app.app_context():
        assert session.get(Invoice, invoice_id).reference == "Changed"
    assert admin_client.post_form(f"/accounting/invoices/{invoice_id}/delete", {}).status_code == 303
    with app.app_context():
        assert session.get(Invoice, invoice_id) is None


def test_credit_note_and_cancel_buttons(admin_client, app):
    invoice_id, number = posted_invoice(app)
    credited = admin_client.post_form(f"/accounting/invoices/{invoice_id}/credit-note", {})
    assert credited.status_code == 303 and "/edit" in credited.headers["Location"]
    other_id, _ = posted_invoice(app, party=None)
    cancelled = admin_client.post_form(f"/accounting/invoices/{other_id}/cancel", {})
    assert cancelled.status_code == 303
    with app.app_context():
        assert session.get(Invoice, other_id).state == "cancelled"


def test_the_print_view_shows_everything_and_escapes_text(admin_client, app):
    from core.company.services import update_settings
    from plugins.accounting.invoicing.printing import BANK_DETAILS

    with app.app_context():
        update_settings(session, [BANK_DETAILS], {BANK_DETAILS.key: "Nordbank · IBAN DK50 0040 0440 1162 43"})
        party = customer(session, name="Łódź Młyn Sp. z o.o.", vat_id="PL1234567890")
        inv = draft_invoice(session, party, lines=[line("<script>alert('x')</script> Gęś & Søren", "1", "80.00")])
        services.post_invoice(session, inv)
        session.commit()
        invoice_id, number = inv.id, inv.number
    page = admin_client.get(f"/accounting/invoices/{invoice_id}/print").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "Gęś &amp; Søren" in page and "Łódź Młyn Sp. z o.o." in page and "PL1234567890" in page
    assert "Test Company ApS" in page and number in page and "<style" not in page
    style = admin_client.get(re.search(r'<link rel="stylesheet" href="([^"]*invoice-print\.css)"', page).group(1))
    assert style.status_code == 200 and "@media print" in style.get_data(as_text=True)
    assert "IBAN DK50 0040 0440 1162 43" in page
    assert re.search(r"Payment reference: <strong>" + re.escape(number), page)
    pdf = admin_client.get(f"/accounting/invoices/{invoice_id}/pdf")
    assert pdf.get_data().startswith(b"%PDF-") and number.encode() in pdf.get_data()


def test_the_party_panel_shows_balances_and_open_documents(admin_client, app):
    with app.app_context():
        party = customer(session)
        old = draft_invoice(session, party, invoice_date=TODAY - timedelta(days=30), payment_terms_days=10,
                      lines=[line("Old", "1", "100.00")])
        bill = draft_invoice(session, party, kind="in_invoice", lines=[line("Bought", "1", "40.00", taxes=["DK-P25"])])
        for doc in (old, bill):
            services.post_invoice(session, doc)
        session.commit()
        party_id, old_number, bill_number = party.id, old.number, bill.number
    page = admin_client.get(f"/parties/{party_id}").get_data(as_text=True)
    assert f"/accounting/parties/{party_id}/invoices-panel" in page
    panel = admin_client.get(f"/accounting/parties/{party_id}/invoices-panel").get_data(as_text=True)
    assert old_number in panel and bill_number in panel
    receivable = re.search(r'data-testid="party-receivable">([^<]+)<', panel).group(1)
    overdue = re.search(r'data-testid="party-overdue">([^<]+)<', panel).group(1)
    payable = re.search(r'data-testid="party-payable">([^<]+)<', panel).group(1)
    assert "125.00" in receivable and "125.00" in overdue and "50.00" in payable


def test_a_staff_member_reads_but_does_not_write(client, app):
    invoice_id, number = posted_invoice(app)
    make_user(app, "clerk", ["staff"], "clerk password 1")
    client.login("clerk", "clerk password 1")
    assert number in client.get("/accounting/invoices").get_data(as_text=True)
    assert client.get(f"/accounting/invoices/{invoice_id}").status_code == 200
    assert client.get("/accounting/invoices/new").status_code == 403
    assert client.post_form(f"/accounting/invoices/{invoice_id}/credit-note", {}).status_code == 403
    with app.app_context():
        party = supplier(session)
        session.commit()
        assert client.get(f"/accounting/parties/{party.id}/invoices-panel").status_code == 200


def test_the_party_search_of_the_form_narrows_the_choice(admin_client, app):
    with app.app_context():
        customer(session, name="Nordlys Trading ApS")
        chosen = supplier(session, name="Hanse Stahl GmbH")
        session.commit()
        chosen_id = chosen.id
    options = admin_client.htmx("GET", f"/accounting/invoices/party-options?party_q=nordlys&party_id={chosen_id}")
    html = options.get_data(as_text=True)
    assert "Nordlys Trading ApS" in html and f'value="{chosen_id}" selected' in html
    assert "Fjord" not in html


# -- The PDF's letters --

def test_letters_a_core_font_lacks_are_spelled_plainly():
    assert plain_latin("Łódź, Gdańsk — Søren & Müller, Straße 5 €") == "Lódz, Gdansk - Søren & Müller, Straße 5 EUR"
    assert all(ord(char) < 256 for char in plain_latin("Zażółć gęślą jaźń ☃"))
