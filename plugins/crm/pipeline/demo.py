"""Demo opportunities for every company of the group: deals across every stage and owner, in the
company's currency and in euros, some asking for a discount; and the approval rule "Discounts over
10 %" (approved by a sales manager), with one deal's request waiting for a decision."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Party, acting_as, gettext as _, save_approval_rule, utcnow

from plugins.crm import timeline
from plugins.crm.companies import each_company, members
from plugins.crm.defaults import in_company_language
from plugins.crm.permissions import SALES_MANAGER
from plugins.crm.pipeline import approvals, services

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
#: The discount (percent) asked on every fourth open deal, in turn.
DISCOUNTS = (Decimal("15"), Decimal("5"), Decimal("12.5"), Decimal("8"))


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
    discounted = []
    for index in range(count):
        product, low, high = PRODUCTS[index % len(PRODUCTS)]
        party_id = parties[(index * 7) % len(parties)]
        name = db.get(Party, party_id).name
        currency = "EUR" if index % 3 == 0 else home
        amount = Decimal(rng.randrange(low, high, 500)) / (Decimal(7) if currency == "EUR" and home != "EUR" else 1)
        stage = stages[index % len(stages)]
        discount = DISCOUNTS[(index // 4) % len(DISCOUNTS)] if index % 4 == 1 and not stage.is_closed else None
        opportunity = services.create_opportunity(
            db, party=party_id, title=f"{product} – {name}"[:200], owner_id=owners[index % len(owners)],
            expected_revenue=amount.quantize(Decimal("1")), currency=currency,
            expected_close=today + timedelta(days=rng.randint(-60, 180)),
            stage=stages[0] if stage.is_lost else stage, discount=discount)
        if discount:
            discounted.append(opportunity)
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
    _discount_rule(db, company, next((o for o in discounted if o.discount > 10), None))


def _discount_rule(db: Session, company, first) -> None:
    """The rule "Discounts over 10 %", named in the company's language and set by its admin, and the
    request of ``first``, a deal it applies to, asked by its owner (a sales manager has one waiting)."""
    admins = members(db, company, ("admin",))
    if not admins:
        return
    with acting_as(admins[0]), in_company_language(db):
        save_approval_rule(db, None, {"kind": approvals.KIND, "name": _("Discounts over %(percent)s", percent="10 %"),
                                      "condition": "discount > 0.10",
                                      "steps": [{"approver": "role", "role": SALES_MANAGER}]})
    approvers = [u for u in members(db, company) if u.id != getattr(first, "owner_id", None)
                 and SALES_MANAGER in {role.name for role in u.roles}]
    if first is not None and approvers:
        with acting_as(first.owner), in_company_language(db):
            approvals.ask(db, first, note=_("The customer orders for three years."))
