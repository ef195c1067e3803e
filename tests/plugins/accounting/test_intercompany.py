"""Intercompany invoicing: a posted sale to a company of the group drafts its mirrored bill in that company,
in the same transaction, exactly once, with that company's taxes and accounts, linked both ways; a user of
the seller only never sees the bill."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import KontorError, acting_as, create_party, in_company
from core.audit.models import AuditRecord
from core.testing import factories

from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing import intercompany, services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger.models import Account
from plugins.accounting.permissions import INVOICE_READ
from plugins.accounting.testing import customer, ensure_year, session_of

DAY = date(2026, 3, 2)


def group_member(db, name, country, currency, *, members=()):
    """A company of the group with the party that stands for it, and its books open on DAY."""
    company = factories.group_company(db, name, country=country, base_currency=currency, members=members)
    party = create_party(db, {"kind": "company", "name": name, "country": country})
    company.party_id = party.id
    db.flush()
    with in_company(company.id):
        ensure_year(db, DAY)
    return company


def seller(db):
    """The default company (Danish, DKK) with its party, its books open on DAY."""
    company = factories.company(db)
    if company.party_id is None:
        company.party_id = create_party(db, {"kind": "company", "name": company.legal_name, "country": "DK"}).id
    ensure_year(db, DAY)
    db.flush()
    return company


def sale(db, buyer, lines, *, kind="out_invoice", currency="DKK", refund_of=None):
    """A posted customer document of the current company to ``buyer``'s party."""
    document = invoicing.create_invoice(db, kind, {"party_id": buyer.party_id, "invoice_date": DAY,
                                                    "currency": currency, "payment_terms_days": 20,
                                                    "lines": lines}, refund_of=refund_of)
    return invoicing.post_invoice(db, document)


def line(price, taxes, account="4500", quantity="2", description="Freight planning"):
    return {"description": description, "quantity": quantity, "unit_price": price, "taxes": taxes,
            "account": account}


def bills_of(db, company, source):
    with in_company(company.id):
        return list(db.scalars(select(Invoice).where(Invoice.intercompany_source_id == source.id)))


def test_the_intercompany_accounts_and_roles_are_in_every_companys_chart(db):
    a = seller(db)
    b = group_member(db, "Fjord Holding ApS", "DK", "DKK")
    for company in (a, b):
        with in_company(company.id):
            flagged = dict(db.execute(select(Account.code, Account.intercompany)
                                      .where(Account.code.in_(["1250", "2150", "4500", "5500", "1200"]))).all())
            assert flagged == {"1250": True, "2150": True, "4500": True, "5500": True, "1200": False}
            assert intercompany.role_account(db, intercompany.RECEIVABLE).code == "1250"
            assert intercompany.role_account(db, intercompany.EXPENSE).code == "5500"


def test_a_sale_to_a_group_company_drafts_its_bill_there_once_with_its_taxes_and_accounts(db):
    a = seller(db)
    b = group_member(db, "Fjord Holding ApS", "DK", "DKK")
    invoice = sale(db, b, [line("400.00", ["DK-S25"]), line("50.00", [], quantity="1", description="Fee")])
    db.flush()

    [bill] = bills_of(db, b, invoice)
    assert invoice.company_id == a.id and bill.company_id == b.id
    assert (bill.kind, bill.state, bill.reference) == ("in_invoice", "draft", invoice.number)
    assert bill.party_id == a.party_id and bill.currency == "DKK"
    assert (bill.amount_untaxed, bill.amount_tax, bill.amount_total) == \
        (Decimal("850.00"), Decimal("200.00"), Decimal("1050.00")) == \
        (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total)
    assert (bill.invoice_date, bill.due_date) == (invoice.invoice_date, invoice.due_date)
    with in_company(b.id):
        taxes = [[(t.code, t.company_id) for t in item.taxes] for item in bill.lines]
        accounts = [(item.account.code, item.account.company_id, item.account.intercompany) for item in bill.lines]
    assert taxes == [[("DK-P25", b.id)], []]
    assert accounts == [("5500", b.id, True)] * 2
    # the seller's receivable is the intercompany one
    assert invoice.receivable_line.account.code == "1250"

    # posting again is refused; mirroring again finds the same bill, never a second one
    with pytest.raises(KontorError):
        invoicing.post_invoice(db, invoice)
    assert intercompany.mirror_invoice(db, invoice).id == bill.id
    assert len(bills_of(db, b, invoice)) == 1

    # the bill, once posted by B, books B's intercompany payable
    with in_company(b.id):
        invoicing.post_invoice(db, bill)
        assert bill.receivable_line.account.code == "2150"
        assert bill.entry.journal.code == "PUR"
    assert bills_of(db, b, invoice)[0].state == "posted"


def test_the_bill_is_a_draft_of_the_group_even_when_the_posting_user_does_not_work_in_the_buyer(db):
    seller(db)
    b = group_member(db, "Fjord Holding ApS", "DK", "DKK")
    clerk = factories.user(db, permissions=[INVOICE_READ])  # works in the default company only
    with acting_as(clerk):
        invoice = sale(db, b, [line("100.00", ["DK-S25"])])
        db.flush()
    [bill] = bills_of(db, b, invoice)
    event = db.scalar(select(AuditRecord).where(AuditRecord.action == "invoice.intercompany_mirror",
                                                AuditRecord.record_id == str(bill.id)))
    assert event is not None and event.user_id == clerk.id
    created = db.scalar(select(AuditRecord).where(AuditRecord.table_name == "accounting_invoice",
                                                  AuditRecord.record_id == str(bill.id),
                                                  AuditRecord.action == "insert"))
    assert created is None or created.user_id == clerk.id


def test_an_eu_sale_of_goods_becomes_a_reverse_charge_purchase_in_the_buyers_country(db):
    seller(db)
    b = group_member(db, "Nordlys Vertrieb GmbH", "DE", "EUR")
    fx.set_rate(db, "EUR", DAY, "8.00")  # the seller's own rate: 1 EUR = 8 DKK
    invoice = sale(db, b, [line("250.00", ["DK-S0EU"]), line("90.00", [], quantity="1", description="Advice")],
                   currency="EUR")
    db.flush()
    [bill] = bills_of(db, b, invoice)
    with in_company(b.id):
        taxes = [[t.code for t in item.taxes] for item in bill.lines]
    assert taxes == [["DE-PRC19"], ["DE-PRCS19"]]
    assert bill.currency == "EUR" and bill.rate == Decimal(1)
    assert bill.amount_total == invoice.amount_total == Decimal("590.00")  # the buyer's tax is self-assessed
    assert "reverse charge DE-PRC19" in bill.notes and "reverse charge DE-PRCS19" in bill.notes
    assert invoice.number in bill.notes


def test_a_foreign_vat_rate_the_buyer_does_not_have_is_left_off_and_said(db):
    seller(db)
    b = group_member(db, "Nordlys Vertrieb GmbH", "DE", "EUR")
    fx.set_rate(db, "EUR", DAY, "8.00")
    invoice = sale(db, b, [line("100.00", ["DK-S25"])], currency="EUR")
    db.flush()
    [bill] = bills_of(db, b, invoice)
    assert [list(item.taxes) for item in bill.lines] == [[]]
    assert "DK-S25" in bill.notes and "differs" in bill.notes


def test_a_credit_note_mirrors_as_a_supplier_credit_note_of_the_mirrored_bill(db):
    seller(db)
    b = group_member(db, "Fjord Holding ApS", "DK", "DKK")
    invoice = sale(db, b, [line("100.00", ["DK-S25"])])
    note = invoicing.create_credit_note(db, invoice, date=DAY)
    invoicing.post_invoice(db, note)
    db.flush()
    [bill] = bills_of(db, b, invoice)
    [credit] = bills_of(db, b, note)
    assert credit.kind == "in_refund" and credit.refund_of_id == bill.id
    assert credit.amount_total == note.amount_total == Decimal("250.00")


def test_a_sale_to_an_outside_customer_drafts_nothing(db):
    seller(db)
    b = group_member(db, "Fjord Holding ApS", "DK", "DKK")
    outsider = customer(db)
    document = invoicing.create_invoice(db, "out_invoice", {"party_id": outsider.id, "invoice_date": DAY,
                                                             "lines": [line("100.00", ["DK-S25"], account="4000")]})
    invoicing.post_invoice(db, document)
    assert document.receivable_line.account.code == "1200"
    with in_company(b.id):
        assert db.scalar(select(func.count()).select_from(Invoice)) == 0


@pytest.fixture
def mirrored(app):
    """A posted sale of the default company to group company Fjord Holding and its mirrored bill, committed;
    a clerk of the seller only, and a bookkeeper working in both."""
    with session_of(app) as db:
        clerk = factories.user(db, permissions=[INVOICE_READ])
        both = factories.user(db, permissions=[INVOICE_READ])
        seller(db)
        b = group_member(db, "Fjord Holding ApS", "DK", "DKK", members=[both])
        invoice = sale(db, b, [line("100.00", ["DK-S25"])])
        db.flush()
        [bill] = bills_of(db, b, invoice)
        db.commit()
        return {"invoice": invoice.id, "number": invoice.number, "bill": bill.id, "b": b.id,
                "clerk": clerk.username, "both": both.username}


def test_a_user_of_the_seller_only_cannot_open_the_bill_and_reads_where_it_is(client, dispatcher, mirrored):
    assert client.login(mirrored["clerk"], factories.PASSWORD).status_code == 302
    assert client.get(f"/accounting/invoices/{mirrored['bill']}").status_code == 404
    page = client.get(f"/accounting/invoices/{mirrored['invoice']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Mirrored in Fjord Holding ApS." in text
    assert f"/accounting/invoices/{mirrored['bill']}" not in text


def test_a_user_of_both_companies_gets_a_link_each_way(app, client, mirrored):
    from core.auth.models import User
    from core.company.services import switch_company

    assert client.login(mirrored["both"], factories.PASSWORD).status_code == 302
    text = client.get(f"/accounting/invoices/{mirrored['invoice']}").get_data(as_text=True)
    assert f"/accounting/invoices/{mirrored['bill']}" in text and "Open the draft bill in Fjord Holding ApS" in text
    with session_of(app) as db:
        user = db.scalar(select(User).where(User.username == mirrored["both"]))
        switch_company(db, user, mirrored["b"])
        db.commit()
    bill_page = client.get(f"/accounting/invoices/{mirrored['bill']}")
    assert bill_page.status_code == 200
    text = bill_page.get_data(as_text=True)
    assert f"/accounting/invoices/{mirrored['invoice']}" in text and mirrored["number"] in text


def test_the_api_never_shows_the_bill_to_a_user_of_the_seller_only(api_with, mirrored):
    api = api_with(permissions=[INVOICE_READ])  # works in the default company only
    assert api.get(f"/api/v1/accounting/invoices/{mirrored['invoice']}").status_code == 200
    assert api.get(f"/api/v1/accounting/invoices/{mirrored['bill']}").status_code == 404
    refused = api.get(f"/api/v1/accounting/invoices/{mirrored['bill']}?company={mirrored['b']}")
    assert refused.status_code == 403 and "company" in refused.get_json()["errors"]
