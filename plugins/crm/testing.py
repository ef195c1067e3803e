"""Factories of CRM records for tests: the CRM's own and those of modules that depend on it.

Each factory works in the caller's session and leaves committing to the caller; the business
records go through the CRM's services, as a person would have made them::

    from plugins.crm.testing import crm_user, opportunity, signed_in

    def test_a_deal_on_the_board(db, client):
        mads = crm_user(db, "mads")                       # a salesperson
        deal = opportunity(db, mads, stage="Proposal")
        db.commit()
        assert deal.title in signed_in(client, "mads").get("/crm/board").get_data(as_text=True)

The stage names are those installed with the CRM (New, Qualified, Proposal, Negotiation, Won,
Lost). For campaigns, :func:`configure_smtp` points the core's mail settings at the loopback SMTP
server of the core's test kit (``core.mail.testing.smtp_server``), which refuses addresses at
:data:`REFUSED_DOMAIN`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Party, User, create_party, create_user, save_mail_settings, session, tags_named, utcnow

from plugins.crm.activities import services as activities
from plugins.crm.activities.models import Activity
from plugins.crm.campaigns import services as campaigns
from plugins.crm.campaigns.models import Campaign, Segment
from plugins.crm.leads.models import Lead
from plugins.crm.pipeline import services as pipeline
from plugins.crm.pipeline.models import Opportunity, Stage
from plugins.crm.tickets import services as tickets
from plugins.crm.tickets.models import Ticket

#: The password of every user :func:`crm_user` makes.
PASSWORD = "correct horse battery"
#: When :func:`ticket` opens a ticket unless told.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
#: The title of the deal :func:`rival_deals` gives Sofie, which no other salesperson may see.
SECRET_DEAL = "Sofie secret deal"
#: Addresses at this domain are refused by :class:`Inbox` (a recipient the mail server does not know).
REFUSED_DOMAIN = "bounce.example"  # the one core.mail.testing's server refuses


# -- people and customers --


def crm_user(db: Session, username: str, roles=("salesperson",), password: str = PASSWORD) -> User:
    """A user with the CRM ``roles`` (``salesperson``, ``sales_manager``, ``service_agent``,
    ``marketing``… or any other role), made through the core's service."""
    found, _password = create_user(db, username, password=password, roles=list(roles))
    db.flush()
    return found


def signed_in(client, username: str, password: str = PASSWORD):
    """``client`` (the core's test client) signed in as ``username``; returns it.

    A test holding the ``db`` fixture shares its app context (and ``g``) with the requests; signing in
    renews the session, so the CSRF token and user cached in ``g`` are dropped with it.
    """
    from flask import g, has_app_context

    def forget():
        if has_app_context():
            for key in ("csrf_token", "_login_user", "kontor_permission_cache"):
                g.pop(key, None)

    forget()
    response = client.login(username, password)
    assert response.status_code == 302, f"{username} could not sign in"
    forget()
    return client


def party(db: Session, name: str = "Nordlys Handel ApS", **extra) -> Party:
    """A company party (``kind="person"`` in ``extra`` for a person), through the core's service."""
    return create_party(db, {"kind": "company", "name": name, **extra})


def company(db: Session, name: str = "Fjord Logistik ApS", **extra) -> Party:
    """A company party."""
    return party(db, name, **extra)


def person(db: Session, company_party: Party | None = None, name: str = "Mette Nielsen",
           email: str = "mette@fjord.example", **extra) -> Party:
    """A person, of ``company_party`` when given."""
    if company_party is not None:
        extra["company_id"] = company_party.id
    return create_party(db, {"kind": "person", "name": name, "email": email, **extra})


# -- leads, the pipeline and activities --


def lead(db: Session, name: str, email: str, owner_id: int | None = None, status: str = "new",
         source: str = "website", tags=(), **extra) -> Lead:
    """A lead in any ``status``, added as it stands (the import and the web form store leads the
    same way; a disqualified or converted one needs no history here)."""
    row = Lead(name=name, email=email, owner_id=owner_id, status=status, source=source, **extra)
    row.tags = tags_named(db, list(tags))
    db.add(row)
    db.flush()
    return row


def stage_named(db: Session, name: str) -> Stage:
    """The pipeline stage called ``name``."""
    return db.execute(select(Stage).where(Stage.name == name)).scalar_one()


def opportunity(db: Session, owner: User, title: str = "Fleet deal", revenue: str = "1000.00",
                customer: Party | None = None, stage: str | Stage | None = None, **extra) -> Opportunity:
    """An opportunity for ``customer`` (a new company by default) owned by ``owner``, in ``stage``
    (a stage or its name; the first open stage by default)."""
    if isinstance(stage, str):
        stage = stage_named(db, stage)
    return pipeline.create_opportunity(db, party=customer or party(db, f"Customer of {title}"), title=title,
                                       owner_id=owner.id, expected_revenue=Decimal(revenue), stage=stage, **extra)


def rival_deals(db: Session) -> dict:
    """Two salespeople on one customer: Mads (staff) with his own deal, Sofie with :data:`SECRET_DEAL`
    and a lost deal of the same name plus " lost"; and a sales manager, ``boss``. Returns the deals
    ``mine`` and ``theirs``, the ``customer`` and ``sofie``."""
    mads = crm_user(db, "mads", ["salesperson", "staff"])
    sofie = crm_user(db, "sofie", ["salesperson"])
    crm_user(db, "boss", ["sales_manager", "staff"])
    customer = party(db, "Shared Customer A/S")
    mine = opportunity(db, mads, title="Mads own deal", customer=customer, expected_close="2027-01-10")
    theirs = opportunity(db, sofie, title=SECRET_DEAL, customer=customer, expected_close="2027-01-20")
    lost = opportunity(db, sofie, title=SECRET_DEAL + " lost", customer=customer)
    pipeline.change_stage(db, lost, stage_named(db, "Lost"), lost_reason="Secret reason")
    return {"mine": mine, "theirs": theirs, "customer": customer, "sofie": sofie}


def activity(db: Session, user: User, subject: str = "Call back", kind: str = "call", **data) -> Activity:
    """An activity planned by ``user`` (assigned to them unless ``assignee_id`` says otherwise), linked
    to what ``data`` names (``party_id``, ``lead_id``, ``opportunity_id``; ``due_at``, ``done``…)."""
    return activities.create_activity(db, {"kind": kind, "subject": subject, "assignee_id": user.id, **data},
                                      user=user)


def planned_activity(db: Session, assignee: User, subject: str = "Call back", due: datetime | None = None,
                     **links) -> Activity:
    """A call ``assignee`` plans for themselves, due at ``due``, about what ``links`` names
    (``opportunity_id``, ``lead_id`` …; a new party named after the subject when left out)."""
    links = links or {"party_id": party(db, f"Party {subject}").id}
    return activities.create_activity(db, {"kind": "call", "subject": subject, "due_at": due, "assignee_id": assignee.id,
                                           **links}, user=assignee)


# -- tickets --


def add_ticket(app, hours_ago: int = 0, **data) -> int:
    """A ticket created ``hours_ago`` hours ago, straight through the service, in an app context of
    ``app`` and committed there (for tests that also make requests); its id."""
    with app.app_context():
        made = tickets.create_ticket(session, {"subject": "Help", **data}, now=utcnow() - timedelta(hours=hours_ago))
        session.commit()
        return made.id


def ticket(db: Session, *, now: datetime = T0, priority: str = "normal", subject: str = "Delivery arrived damaged",
           **extra) -> Ticket:
    """A ticket opened at ``now`` for ``party`` (a new company unless given); ``extra`` as the
    ticket form takes it (``contact_id``, ``assignee_id``, ``description``…)."""
    customer = extra.pop("party", None) or company(db, f"Customer {subject} {now.isoformat()} {priority}")
    return tickets.create_ticket(db, {"subject": subject, "priority": priority, "party_id": customer.id, **extra},
                                 now=now)


# -- campaigns --


def people(db: Session, tag: str = "newsletter") -> tuple[Party, Party, Party, Party]:
    """A company and three of its people tagged ``tag``: (company, Mette, Jens, Ghost). Mette's
    address is capitalised; Ghost's is at :data:`REFUSED_DOMAIN`, so the server refuses it."""
    firm = company(db, "Fjord Logistik ApS", country="DK", email="info@fjord.example", tags=[tag])
    mette = person(db, firm, "Mette Nielsen", "Mette@Fjord.example")
    jens = person(db, firm, "Jens Hansen", "jens@fjord.example")
    ghost = person(db, firm, "Ghost Writer", f"ghost@{REFUSED_DOMAIN}")
    for one in (mette, jens, ghost):
        one.tags = tags_named(db, [tag])
    db.flush()
    return firm, mette, jens, ghost


def segment(db: Session, name: str = "Newsletter", tag: str = "newsletter", **data) -> Segment:
    """A segment of the parties tagged ``tag`` (``data`` for the other criteria)."""
    return campaigns.create_segment(db, {"name": name, "include_parties": True, "tags": tag, **data})


def campaign(db: Session, segment: Segment, body: str = "Hello {{name}} of {{company}}!\nBye: {{ unsubscribe_url }}",
             **extra) -> Campaign:
    """A draft campaign to ``segment``."""
    data = {"name": "Spring news", "segment_id": segment.id, "subject": "News for {{name}}", "body": body, **extra}
    return campaigns.create_campaign(db, data)


def campaign_with_recipients(db: Session, tag: str = "newsletter", **extra) -> tuple[Campaign, list[Party]]:
    """A draft campaign to a segment of :func:`people` tagged ``tag``: (campaign, its four recipients:
    the company and its three people)."""
    members = list(people(db, tag))
    return campaign(db, segment(db, f"Tagged {tag}", tag), **extra), members


# -- a real SMTP server --


def configure_smtp(db: Session, port: int, batch_size: int = 2, site_url: str = "") -> None:
    """Point the core's mail settings (campaigns and ticket replies use them) at the loopback server on ``port``."""
    save_mail_settings(db, {
        "core.mail.smtp_host": "127.0.0.1", "core.mail.smtp_port": str(port), "core.mail.smtp_security": "none",
        "core.mail.sender_name": "News", "core.mail.sender_address": "news@nordlys.example",
        "core.mail.batch_size": str(batch_size), "core.mail.site_url": site_url,
    })
