"""Notifications about a company's record (a CRM ticket), on SQLite and PostgreSQL: no notification
reveals a record its recipient may not read.

1. A ticket of the main company reaches those who work there and read tickets; not one without the
   permission, nor one who works only in the other company, whatever permission they hold.
2. A user who works in both companies gets it while working in the other one.
3. A user taken off the company afterwards no longer sees the item's text or link.
"""
from __future__ import annotations

import pytest

from core import N_, in_company, notify
from core.notifications import services
from core.testing import factories
from plugins.crm.testing import ticket

READ = "crm.ticket.read"
MESSAGE = N_("You were given the ticket %(subject)s")


@pytest.fixture
def modules():
    return ("crm",)


def forget_permissions():
    """Drop the permission cache of this (long) app context, as a new request would."""
    from flask import g

    g.pop("kontor_permission_cache", None)


def test_only_those_who_may_read_the_ticket_in_its_company_are_told(db):
    main = factories.company(db)
    other = factories.group_company(db, "Tochter GmbH")
    agent = factories.user(db, "agent", permissions=[READ])
    clerk = factories.user(db, "clerk")  # works in the main company, may not read tickets
    outsider = factories.user(db, "outsider", permissions=[READ], companies=[other.id])
    both = factories.user(db, "both", permissions=[READ], companies=[other.id, main.id])  # currently in the other
    made = ticket(db, subject="Dented pallet")
    record = f"crm.ticket:{made.id}"
    db.commit()

    told = notify(db, "core.job_done", [agent, clerk, outsider, both], MESSAGE, {"subject": made.subject},
                  record=record, url=f"/crm/tickets/{made.id}")
    db.commit()
    assert sorted(n.user_id for n in told) == sorted([agent.id, both.id])
    assert {n.company_id for n in told} == {main.id}
    assert not services.may_read(db, outsider, record) and not services.may_read(db, clerk, record)

    # the other company's ticket is not the main company's users' to read
    with in_company(other.id):
        theirs = ticket(db, subject="Their pallet")
        db.commit()
    assert services.may_read(db, outsider, f"crm.ticket:{theirs.id}")
    assert not services.may_read(db, agent, f"crm.ticket:{theirs.id}")
    assert [n.user_id for n in notify(db, "core.job_done", [agent, outsider], MESSAGE, {"subject": "x"},
                                      record=f"crm.ticket:{theirs.id}")] == [outsider.id]
    assert not services.may_read(db, agent, f"crm.ticket:{theirs.id + 1000}")  # no such ticket


def test_a_user_taken_off_the_company_no_longer_sees_the_item(db):
    from core.company.services import remove_member

    main = factories.company(db)
    other = factories.group_company(db, "Tochter GmbH")
    agent = factories.user(db, "agent", permissions=[READ], companies=[main.id, other.id])
    made = ticket(db, subject="Dented pallet")
    db.commit()
    [note] = notify(db, "core.job_done", [agent], MESSAGE, {"subject": made.subject}, record=f"crm.ticket:{made.id}")
    db.commit()
    assert services.shown(db, agent, note)["text"] == "You were given the ticket Dented pallet"
    remove_member(db, main, agent)
    db.commit()
    forget_permissions()
    shown = services.shown(db, agent, note)
    assert shown["hidden"] and shown["text"] is None and shown["url"] is None
