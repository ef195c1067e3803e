"""Demo tickets for every company of the group: about two dozen each, in every status, a few of them
past their service level, assigned to the people of that company."""
from __future__ import annotations

import random
from datetime import timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Party, utcnow

from plugins.crm.companies import each_company, members
from plugins.crm.tickets import services

SUBJECTS = [
    "Invoice shows the wrong VAT rate", "Delivery arrived damaged", "Cannot sign in to the customer portal",
    "Request for a copy of the contract", "Order confirmation never arrived", "Wrong item in the shipment",
    "Question about payment terms", "Update our billing address", "Spare parts for the 2024 model",
    "Late delivery to the Aarhus warehouse", "Credit note for returned goods", "Training session for new staff",
    "Price list for next year", "Warranty claim on pump unit", "Change of contact person",
]
REPLIES = [
    "Thank you for telling us. We are looking into it and will come back to you today.",
    "We have sent a replacement; you will receive the tracking number by email.",
    "Could you send us the order number and a photo of the damage?",
]
NOTES = ["Checked with the warehouse: the pallet was damaged in transit.", "Customer is a key account: call back."]
#: (status, hours ago created, priority, replied) — a mix on time, about to breach and breached.
PLAN = [
    ("new", 1, "urgent", False), ("new", 30, "high", False), ("new", 3, "normal", False),
    ("new", 50, "normal", False), ("new", 0.5, "low", False), ("open", 6, "high", True),
    ("open", 60, "high", True), ("open", 20, "normal", True), ("open", 130, "normal", True),
    ("open", 10, "urgent", True), ("open", 2, "low", True), ("waiting", 40, "normal", True),
    ("waiting", 100, "low", True), ("waiting", 5, "high", True), ("resolved", 70, "normal", True),
    ("resolved", 30, "high", True), ("resolved", 200, "low", True), ("resolved", 12, "urgent", True),
    ("closed", 300, "normal", True), ("closed", 400, "low", True), ("closed", 150, "high", True),
    ("closed", 90, "normal", True), ("open", 7, "urgent", True), ("new", 9, "urgent", False),
    ("waiting", 26, "normal", True),
]


def load(db: Session, progress: Callable[[int], None]) -> None:
    """Add the demo tickets of every company of the group."""
    for number, company in enumerate(each_company(db)):
        _load_company(db, progress, members(db, company), PLAN if number == 0 else PLAN[::2], seed=4 + number,
                      offset=number * 7)


def _load_company(db: Session, progress: Callable[[int], None], users, plan, *, seed: int, offset: int) -> None:
    """The tickets of the current company for the demo parties, assigned to the people who work in it."""
    rng = random.Random(seed)
    companies = list(db.execute(select(Party).where(Party.kind == "company", Party.active.is_(True))
                                .order_by(Party.id).limit(40)).scalars())
    now = utcnow()
    for index, (status, hours_ago, priority, replied) in enumerate(plan):
        party = companies[(index + offset) % len(companies)] if companies else None
        people = services.people_of(db, party) if party else []
        created = now - timedelta(hours=hours_ago)
        data = {"subject": SUBJECTS[index % len(SUBJECTS)], "priority": priority,
                "description": "Hello,\n\nplease help us with this as soon as you can.\n\nBest regards",
                "party_id": party.id if party else None, "contact_id": people[0].id if people else None,
                "contact_email": "" if party else f"customer{index}@example.com",
                "assignee_id": rng.choice(users).id if users and index % 4 else None}
        ticket = services.create_ticket(db, data, now=created)
        step = timedelta(hours=hours_ago) / 4
        if replied:
            # late answers on a few tickets, so that the SLA page has something to show
            answered = created + (step * 3 if index % 3 == 0 else step / 4)
            services.add_message(db, ticket, "reply", REPLIES[index % len(REPLIES)], now=answered)
            if index % 2:
                services.add_message(db, ticket, "note", NOTES[index % len(NOTES)], now=answered)
        if status == "waiting":
            services.change_status(db, ticket, "waiting", now=created + step * 2)
        if status in ("resolved", "closed"):
            services.change_status(db, ticket, "resolved", now=created + step * 3)
        if status == "closed":
            services.change_status(db, ticket, "closed", now=created + step * 3.5)
        progress(1)
