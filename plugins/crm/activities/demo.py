"""Demo activities for every company of the group: calls, meetings, emails and tasks, some of them overdue."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Party, utcnow

from plugins.crm.activities.models import KINDS, Activity
from plugins.crm.companies import each_company, members
from plugins.crm.pipeline.models import Opportunity

ACTIVITIES = 120
SUBJECTS = {
    "call": ["Follow-up call on the quote", "Check budget approval", "Introductory call", "Call about delivery dates"],
    "meeting": ["Demo at the customer's office", "Quarterly business review", "Site visit", "Contract negotiation"],
    "email": ["Send the revised proposal", "Share reference cases", "Confirm meeting agenda", "Send price list 2027"],
    "task": ["Prepare the proposal", "Update the CRM forecast", "Ask finance for credit check", "Draft the contract"],
}


def load(db: Session, progress) -> None:
    """Add the demo activities of every company (120 for the first, 60 for the others)."""
    for number, company in enumerate(each_company(db)):
        _load_company(db, progress, company, ACTIVITIES if number == 0 else ACTIVITIES // 2, seed=43 + number)


def _load_company(db: Session, progress, company, count: int, *, seed: int) -> None:
    """Activities of ``company``, linked to its demo opportunities and to the demo parties."""
    rng = random.Random(seed)
    opportunities = db.execute(select(Opportunity.id, Opportunity.party_id, Opportunity.owner_id)
                               .order_by(Opportunity.id)).all()
    parties = list(db.execute(select(Party.id).where(Party.active.is_(True)).order_by(Party.id).limit(80)).scalars())
    users = [u.id for u in members(db, company, ("sales", "verkauf", "admin"))] \
        or [u.id for u in members(db, company)[:2]]
    if not parties or not users:
        return
    now = utcnow()
    for index in range(count):
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
