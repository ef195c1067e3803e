"""Demo segments and campaigns: a draft, and a sent campaign whose recipients are recorded as sent.

No mail server is contacted: the sent campaign's recipients are recorded as the demo's history.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import utcnow

from plugins.crm.campaigns import services
from plugins.crm.campaigns.models import CampaignRecipient

BODY = ("Hello {{name}},\n\nour spring catalogue is out, with new prices for {{company}}.\n\n"
        "Best regards\nNordlys Handel\n\nUnsubscribe: {{unsubscribe_url}}")


def load(db: Session, progress: Callable[[int], None]) -> None:
    """Add two segments, a sent campaign with its recorded recipients, and a draft."""
    customers = services.create_segment(db, {"name": "Danish customers", "include_parties": True,
                                             "countries": "DK"})
    leads = services.create_segment(db, {"name": "Open leads", "include_leads": True,
                                         "lead_statuses": "new,contacted"})
    sent = services.create_campaign(db, {"name": "Spring catalogue", "segment_id": customers.id,
                                         "subject": "Our spring catalogue, {{name}}", "body": BODY})
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
                                  "subject": "An offer for {{company}}", "body": BODY})
    db.flush()
    progress(2 + len(members))
