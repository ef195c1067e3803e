"""Demo segments and campaigns of every company of the group: a draft, and a sent campaign whose
recipients are recorded as sent.

No mail server is contacted: the sent campaign's recipients are recorded as the demo's history.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import utcnow

from plugins.crm.campaigns import services
from plugins.crm.companies import each_company
from plugins.crm.campaigns.models import CampaignRecipient

BODY = ("Hello {{name}},\n\nour spring catalogue is out, with new prices for {{company}}.\n\n"
        "Best regards\n%(sender)s\n\nUnsubscribe: {{unsubscribe_url}}")
#: The country whose customers a company's demo segment reaches, by the company's country.
COUNTRY_NAMES = {"DK": "Danish", "DE": "German", "SE": "Swedish", "NO": "Norwegian", "FI": "Finnish", "PL": "Polish"}


def load(db: Session, progress: Callable[[int], None]) -> None:
    """Add the demo segments and campaigns of every company of the group."""
    for company in each_company(db):
        _load_company(db, progress, company)


def _load_company(db: Session, progress: Callable[[int], None], company) -> None:
    """Two segments of ``company``, a sent campaign with its recorded recipients, and a draft."""
    country = company.country if company.country in COUNTRY_NAMES else "DK"
    body = BODY % {"sender": company.legal_name}
    customers = services.create_segment(db, {"name": f"{COUNTRY_NAMES[country]} customers", "include_parties": True,
                                             "countries": country})
    leads = services.create_segment(db, {"name": "Open leads", "include_leads": True,
                                         "lead_statuses": "new,contacted"})
    sent = services.create_campaign(db, {"name": "Spring catalogue", "segment_id": customers.id,
                                         "subject": "Our spring catalogue, {{name}}", "body": body})
    when = utcnow() - timedelta(days=12)
    members = services.members(db, customers)
    for index, member in enumerate(members):
        failed = index % 17 == 5
        db.add(CampaignRecipient(campaign_id=sent.id, party_id=member.party_id, email=member.email,
                                 email_key=member.key, name=member.name, company=member.company,
                                 status="failed" if failed else "sent",
                                 reason="550 5.1.1 Mailbox unavailable" if failed else "",
                                 sent_at=None if failed else when))
    sent.status, sent.started_at, sent.finished_at = "sent", when, when + timedelta(minutes=3)
    db.flush()
    for recipient in db.execute(select(CampaignRecipient).where(CampaignRecipient.campaign_id == sent.id,
                                                                CampaignRecipient.status == "sent")).scalars():
        event = services.record_sent(db, sent, recipient)
        if event is not None:
            event.created_at = when
    services.create_campaign(db, {"name": "Autumn offer", "segment_id": leads.id,
                                  "subject": "An offer for {{company}}", "body": body})
    db.flush()
    progress(2 + len(members))
