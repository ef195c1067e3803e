"""Panels and actions on every record page of every module, through one mechanism of the core.

The fixture plugin ``recordextras`` contributes, to every record kind, a lazy panel (an endpoint
htmx loads after the page), an inline panel (a template that declares ``inline=True``) and a POST
action. Each record page shows them to a user holding their permissions, and to nobody else: the
core filters by permission once (``core.web.shell.record_extras``).
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from core import Panel
from recordextras.plugin import KINDS

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ["recordextras.panel.read", "recordextras.action.run"]

#: The template of each record page and the name of its record in it.
RECORD_PAGES = {
    "core.party": ("core/templates/parties/detail.html", "party"),
    "accounting.invoice": ("plugins/accounting/templates/accounting/invoicing/detail.html", "invoice"),
    "accounting.entry": ("plugins/accounting/templates/accounting/ledger/entry.html", "entry"),
    "accounting.payment": ("plugins/accounting/templates/accounting/banking/payment.html", "payment"),
    "accounting.statement": ("plugins/accounting/templates/accounting/banking/statement.html", "statement"),
    "crm.lead": ("plugins/crm/templates/crm/leads/detail.html", "lead"),
    "crm.opportunity": ("plugins/crm/templates/crm/pipeline/detail.html", "opportunity"),
    "crm.ticket": ("plugins/crm/templates/crm/tickets/ticket.html", "ticket"),
    "crm.campaign": ("plugins/crm/templates/crm/campaigns/campaign.html", "campaign"),
}


@pytest.fixture(scope="session")
def kontor_plugins() -> tuple[str, ...]:
    return ("kontor_hello.plugin", "recordextras.plugin")


@pytest.fixture
def modules():
    return ("accounting", "crm", "recordextras")


def test_every_record_page_asks_for_the_panels_and_actions_of_its_kind():
    assert set(RECORD_PAGES) == set(KINDS)
    for kind, (template, name) in RECORD_PAGES.items():
        text = (ROOT / template).read_text(encoding="utf-8")
        partials = [ROOT / template.rsplit("/", 1)[0] / f"_{Path(template).stem}.html"]
        text += "".join(p.read_text(encoding="utf-8") for p in partials if p.exists())
        assert f'record_panels("{kind}", {name})' in text, f"{template} shows no panels of {kind}"
        assert f'record_actions("{kind}", {name})' in text, f"{template} shows no actions of {kind}"


def test_a_panel_is_lazy_unless_it_declares_it_renders_inline():
    assert Panel("Lazy", "p", endpoint="x.y").inline is False
    assert Panel("Inline", "p", template="x.html", inline=True).template == "x.html"
    with pytest.raises(ValueError, match="inline=True"):
        Panel("Neither", "p", template="x.html")
    with pytest.raises(ValueError, match="not both"):
        Panel("Both", "p", template="x.html", endpoint="x.y")


def records(db, user) -> dict[str, str]:
    """One record of each kind whose page can be made here, and the URL of its page."""
    from core import create_party
    from plugins.accounting.invoicing import services as invoicing
    from plugins.crm.campaigns import services as campaigns
    from plugins.crm.leads import services as leads
    from plugins.crm.pipeline import services as pipeline
    from plugins.crm.tickets import services as tickets

    party = create_party(db, {"name": "Nordlys Handel ApS", "kind": "company", "email": "info@nordlys.example"})
    invoice = invoicing.create_invoice(db, "out_invoice", {
        "party_id": party.id, "invoice_date": date.today(),
        "lines": [{"description": "Consulting", "quantity": "1", "unit_price": "100.00"}]})
    bill = invoicing.create_invoice(db, "in_invoice", {
        "party_id": party.id, "invoice_date": date.today(),
        "lines": [{"description": "Steel", "quantity": "2", "unit_price": "50.00"}]})
    lead = leads.create_lead(db, {"name": "A lead from the fair"}, user=user)
    opportunity = pipeline.create_opportunity(db, party=party, title="Fifty lamps", owner_id=user.id)
    ticket = tickets.create_ticket(db, {"subject": "The lamp flickers", "party_id": party.id}, user_id=user.id)
    segment = campaigns.create_segment(db, {"name": "Everyone", "include_parties": True})
    campaign = campaigns.create_campaign(db, {"name": "Spring news", "segment_id": segment.id, "subject": "News",
                                              "body": "Hello"}, user_id=user.id)
    db.commit()
    return {
        "core.party": (party.id, f"/parties/{party.id}"),
        "accounting.invoice": (invoice.id, f"/accounting/invoices/{invoice.id}"),
        "accounting.invoice bill": (bill.id, f"/accounting/invoices/{bill.id}"),
        "crm.lead": (lead.id, f"/crm/leads/{lead.id}"),
        "crm.opportunity": (opportunity.id, f"/crm/opportunities/{opportunity.id}"),
        "crm.ticket": (ticket.id, f"/crm/tickets/{ticket.id}"),
        "crm.campaign": (campaign.id, f"/crm/campaigns/{campaign.id}"),
    }


def test_record_pages_show_the_panels_and_actions_only_to_who_may_see_them(app, admin, client_with):
    from sqlalchemy import select

    from core.auth.models import User

    with app.app_context():  # closed before any request: a request must not share its ``g``
        from core.db import session

        pages = records(session, session.execute(select(User).where(User.username == admin[0])).scalar_one())
    everything_else = [name for name in app.extensions["kontor"].permissions if not name.startswith("recordextras.")]
    allowed = client_with(roles=["admin"])
    denied = client_with(permissions=everything_else)
    for label, (record_id, url) in pages.items():
        kind = label.split()[0]
        page = allowed.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        assert f"Lazy extra ({kind})" in text and f'hx-get="/recordextras/panel/{kind}/{record_id}"' in text, url
        assert f"Inline extra of {kind} {record_id}" in text, url  # rendered in the page, no request
        assert f"Lazy extra of {kind}" not in text, url  # loaded by htmx, after the page
        assert f"Extra action ({kind})" in text and f'action="/recordextras/act/{kind}/{record_id}"' in text, url
        assert text.index(f"Inline extra ({kind})") < text.index(f"Lazy extra ({kind})"), "panels follow their order"
        lazy = allowed.get(f"/recordextras/panel/{kind}/{record_id}", headers={"HX-Request": "true"})
        assert lazy.status_code == 200 and f"Lazy extra of {kind} {record_id}" in lazy.get_data(as_text=True)

        hidden = denied.get(url)
        assert hidden.status_code == 200, url
        text = hidden.get_data(as_text=True)
        assert "extra (" not in text and "Extra action" not in text and "/recordextras/" not in text, url
        assert denied.get(f"/recordextras/panel/{kind}/{record_id}").status_code == 403


def test_a_record_kind_names_its_module(app):
    from core.web.shell import record_extras

    with app.test_request_context():
        with pytest.raises(ValueError, match="core.party"):
            record_extras("party", object())
