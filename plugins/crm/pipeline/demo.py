"""Demo opportunities for every company of the group: deals across every stage and owner, in the
company's currency and in euros."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Party, utcnow

from plugins.crm import timeline
from plugins.crm.companies import each_company, members
from plugins.crm.pipeline import services

OPPORTUNITIES = 40
PRODUCTS = [
    ("Fleet tracking rollout", 180000, 900000), ("Solar carport installation", 250000, 1400000),
    ("Annual service agreement", 24000, 120000), ("Warehouse racking upgrade", 60000, 420000),
    ("ERP integration project", 90000, 650000), ("Office furniture refresh", 35000, 210000),
    ("Cold-chain sensors pilot", 15000, 80000), ("Training programme 2027", 12000, 60000),
    ("Spare parts framework deal", 40000, 300000), ("Website and webshop relaunch", 45000, 260000),
    ("Heat pump replacement", 70000, 380000), ("Forklift lease renewal", 50000, 240000),
]
LOST_REASONS = ["Price too high", "Chose a competitor", "Project postponed", "No decision maker", "Price too high"]


def load(db: Session, progress) -> None:
    """Add the demo opportunities of every company (forty for the first, twenty for the others)."""
    for number, company in enumerate(each_company(db)):
        _load_company(db, progress, company, OPPORTUNITIES if number == 0 else OPPORTUNITIES // 2, seed=41 + number)


def _load_company(db: Session, progress, company, count: int, *, seed: int) -> None:
    """Opportunities of ``company`` (each on a demo party, owned by its demo salespeople in turn)."""
    rng = random.Random(seed)
    stages = services.list_stages(db)
    if not stages:
        return
    parties = list(db.execute(select(Party.id).where(Party.active.is_(True), Party.kind == "company")
                              .order_by(Party.id).limit(60)).scalars())
    if not parties:
        return
    owners = [u.id for u in sorted(members(db, company, ("sales", "verkauf", "admin")),
                                   key=lambda u: u.username, reverse=True)] \
        or [u.id for u in members(db, company)[:2]]
    if not owners:
        return
    home = company.base_currency
    today = date.today()
    for index in range(count):
        product, low, high = PRODUCTS[index % len(PRODUCTS)]
        party_id = parties[(index * 7) % len(parties)]
        name = db.get(Party, party_id).name
        currency = "EUR" if index % 3 == 0 else home
        amount = Decimal(rng.randrange(low, high, 500)) / (Decimal(7) if currency == "EUR" and home != "EUR" else 1)
        stage = stages[index % len(stages)]
        opportunity = services.create_opportunity(
            db, party=party_id, title=f"{product} – {name}"[:200], owner_id=owners[index % len(owners)],
            expected_revenue=amount.quantize(Decimal("1")), currency=currency,
            expected_close=today + timedelta(days=rng.randint(-60, 180)),
            stage=stages[0] if stage.is_lost else stage)
        if stage.is_lost:
            services.change_stage(db, opportunity, stage, lost_reason=LOST_REASONS[index % len(LOST_REASONS)])
        if stage.is_closed:
            opportunity.closed_at = utcnow() - timedelta(days=rng.randint(0, 150))
        if index % 4 == 0:
            timeline.record(db, "note", title=rng.choice([
                "Customer asked for a revised quote with volume discount.",
                "Decision meeting moved to next month.",
                "Sent reference cases from two similar projects.",
                "Technical questions answered by the engineering team.",
            ]), party_id=party_id, opportunity_id=opportunity.id, user_id=opportunity.owner_id)
        progress(1)
    db.flush()
