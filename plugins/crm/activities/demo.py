"""Demo activities: about 120 calls, meetings, emails and tasks, some of them overdue."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import utcnow

from plugins.crm.activities.models import KINDS, Activity

ACTIVITIES = 120
SUBJECTS = {
    "call": ["Follow-up call on the quote", "Check budget approval", "Introductory call", "Call about delivery dates"],
    "meeting": ["Demo at the customer's office", "Quarterly business review", "Site visit", "Contract negotiation"],
    "email": ["Send the revised proposal", "Share reference cases", "Confirm meeting agenda", "Send price list 2027"],
    "task": ["Prepare the proposal", "Update the CRM forecast", "Ask finance for credit check", "Draft the contract"],
}


def load(db: Session, progress) -> None:
    """Add the demo activities, linked to the demo opportunities and parties."""
    rng = random.Random(43)
    opportunities = db.execute(text("SELECT id, party_id, owner_id FROM crm_opportunity ORDER BY id")).all()
    parties = [row[0] for row in db.execute(text(
        "SELECT id FROM core_party WHERE active = :yes ORDER BY id LIMIT 80"), {"yes": True})]
    users = [row[0] for row in db.execute(text(
        "SELECT id FROM core_user WHERE active = :yes AND username IN ('sales', 'admin') ORDER BY id"),
        {"yes": True})] or [row[0] for row in db.execute(text("SELECT id FROM core_user ORDER BY id LIMIT 2"))]
    if not parties or not users:
        return
    now = utcnow()
    for index in range(ACTIVITIES):
        kind = KINDS[index % len(KINDS)]
        due = (now + timedelta(days=rng.randint(-20, 30), hours=rng.randint(-4, 4))).replace(
            minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
        done = due < now and rng.random() < 0.6
        if opportunities and index % 3 != 2:
            opp_id, party_id, owner_id = opportunities[index % len(opportunities)]
        else:
            opp_id, party_id, owner_id = None, parties[index % len(parties)], users[index % len(users)]
        activity = Activity(kind=kind, subject=rng.choice(SUBJECTS[kind]), due_at=due, assignee_id=owner_id,
                            done=done, done_at=due if done else None, party_id=party_id, opportunity_id=opp_id,
                            notes=rng.choice(["", "", "Bring the updated price sheet.", "Customer prefers mornings."]),
                            created_by_id=owner_id, created_at=due - timedelta(days=rng.randint(1, 10)))
        db.add(activity)
        progress(1)
    db.flush()
