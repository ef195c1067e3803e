"""Segments and campaigns: who a campaign reaches, sending it in batches, and opting out.

A send first fixes its recipients (one row per address, unique per campaign; opted-out addresses
recorded as skipped), then mails them batch by batch through the core's mail service: each
recipient's message is queued in the mail log (record ``crm.campaign:<id>``) and the batch is
delivered over one connection. Each batch's claim is committed with its messages before any mail
goes out, so two senders never mail one recipient twice, and a recipient whose message was caught
going out by a dying worker is never mailed again: whether it left is unknown, and a second copy
is worse than none (see :func:`settle_interrupted`). Every address is checked against the opt-outs
again at the moment it is mailed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import (deliver_mail, gettext as _, KontorError, MailMessage, N_, NotFound, Party, queue_mail, Tag, tag_key,
                  Unavailable, User, utcnow)

from plugins.crm.access import every_owner, visible
from plugins.crm.campaigns import mailer
from plugins.crm.campaigns.config import mail_settings
from plugins.crm.campaigns.models import Campaign, CampaignRecipient, OptOut, Segment
from plugins.crm.leads.models import Lead, SOURCE_LABELS as LEAD_SOURCE_LABELS, STATUS_LABELS as LEAD_STATUS_LABELS
from plugins.crm.pipeline.models import Opportunity

PARTY_KINDS = ("company", "person")


def email_key(email: str) -> str:
    """An address as opt-outs and recipients compare it: trimmed and casefolded."""
    return (email or "").strip().casefold()


# -- opt-outs --


def is_opted_out(db: Session, email: str) -> bool:
    """Whether ``email`` unsubscribed (compared without regard to case)."""
    key = email_key(email)
    return bool(key) and db.execute(select(OptOut.id).where(OptOut.email_key == key)).first() is not None


def opt_out(db: Session, email: str, campaign_id: int | None = None) -> OptOut:
    """Record that ``email`` never wants a campaign again (a second call changes nothing)."""
    key = email_key(email)
    if not key:
        raise KontorError(_("Give an email address."), field="email", status=422)
    existing = db.execute(select(OptOut).where(OptOut.email_key == key)).scalar_one_or_none()
    if existing is not None:
        return existing
    table = Campaign.__table__  # the campaign of any company of the group: an unsubscribe holds for all
    if campaign_id is not None and db.execute(select(table.c.id).where(table.c.id == campaign_id)).first() is None:
        campaign_id = None
    row = OptOut(email_key=key, campaign_id=campaign_id)
    db.add(row)
    db.flush()
    return row


def opt_out_count(db: Session) -> int:
    """How many addresses opted out."""
    return db.execute(select(func.count()).select_from(OptOut)).scalar_one()


# -- segments --


def split_list(text: str) -> list[str]:
    """The items of a comma-separated list as a segment stores it (``"DK, de"`` → ``["DK", "de"]``)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _list_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return ",".join(dict.fromkeys(split_list(str(value or ""))))


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "on", "yes")


def clean_segment(db: Session, data: dict, segment: Segment | None = None) -> dict:
    """The fields of a segment from ``data``, checked (a list is a comma-separated text or a list)."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise KontorError(_("Name the segment."), field="name", status=422)
    if len(name) > 120:
        raise KontorError(_("At most %(n)s characters.", n=120), field="name", status=422)
    clash = db.execute(select(Segment.id).where(func.lower(Segment.name) == name.lower())).scalar()
    if clash is not None and (segment is None or clash != segment.id):
        raise KontorError(_("There is a segment with this name already."), field="name", status=422)
    clean = {
        "name": name,
        "include_parties": _truthy(data.get("include_parties")),
        "include_leads": _truthy(data.get("include_leads")),
        "tags": _list_text(data.get("tags")),
        "countries": _list_text(data.get("countries")).upper(),
        "party_kind": str(data.get("party_kind") or "").strip(),
        "lead_statuses": _list_text(data.get("lead_statuses")),
        "lead_sources": _list_text(data.get("lead_sources")),
    }
    if not (clean["include_parties"] or clean["include_leads"]):
        raise KontorError(_("Choose parties, leads or both."), field="include_parties", status=422)
    if clean["party_kind"] not in ("", *PARTY_KINDS):
        raise KontorError(_("Choose companies, people or both."), field="party_kind", status=422)
    for code in split_list(clean["countries"]):
        if len(code) != 2 or not code.isalpha():
            raise KontorError(_("Give countries as two-letter codes such as DK, SE."), field="countries",
                              status=422)
    for status in split_list(clean["lead_statuses"]):
        if status not in LEAD_STATUS_LABELS:
            raise KontorError(_("Unknown lead status: %(value)s.", value=status), field="lead_statuses", status=422)
    for source in split_list(clean["lead_sources"]):
        if source not in LEAD_SOURCE_LABELS:
            raise KontorError(_("Unknown lead source: %(value)s.", value=source), field="lead_sources", status=422)
    for key, limit in (("tags", 500), ("countries", 200), ("lead_statuses", 200), ("lead_sources", 500)):
        if len(clean[key]) > limit:
            raise KontorError(_("At most %(n)s characters.", n=limit), field=key, status=422)
    return clean


def create_segment(db: Session, data: dict) -> Segment:
    """Save a new segment from ``data`` (see :func:`clean_segment`)."""
    segment = Segment(**clean_segment(db, data))
    db.add(segment)
    db.flush()
    return segment


def update_segment(db: Session, segment: Segment, data: dict) -> Segment:
    """Change a segment's filter; campaigns already sent keep the recipients they had."""
    for key, value in clean_segment(db, data, segment).items():
        setattr(segment, key, value)
    db.flush()
    return segment


def get_segment(db: Session, segment_id: int) -> Segment:
    """The segment with ``segment_id``; :class:`NotFound` when there is none."""
    segment = db.get(Segment, segment_id)
    if segment is None:
        raise NotFound(_("There is no segment %(id)s.", id=segment_id))
    return segment


def list_segments(db: Session) -> list[Segment]:
    """Every segment, by name."""
    return list(db.execute(select(Segment).order_by(func.lower(Segment.name), Segment.id)).scalars())


def delete_segment(db: Session, segment: Segment) -> None:
    """Remove a segment no campaign uses."""
    used = db.execute(select(func.count()).select_from(Campaign).where(Campaign.segment_id == segment.id)).scalar_one()
    if used:
        raise KontorError(_("Campaigns use this segment; it cannot be removed."), field="name", status=409)
    db.delete(segment)
    db.flush()


@dataclass(frozen=True)
class Member:
    """One address a segment reaches."""

    email: str
    name: str
    company: str
    party_id: int | None = None
    lead_id: int | None = None

    @property
    def key(self) -> str:
        return email_key(self.email)


def _party_members(db: Session, spec: Segment) -> Iterable[Member]:
    if not spec.include_parties:
        return []
    company = Party.__table__.alias("company")
    stmt = (select(Party.id, Party.name, Party.email, Party.kind, company.c.name)
            .outerjoin(company, company.c.id == Party.company_id)
            .where(Party.active.is_(True), Party.email != "", Party.merged_into_id.is_(None)))
    if spec.party_kind:
        stmt = stmt.where(Party.kind == spec.party_kind)
    countries = split_list(spec.countries)
    if countries:
        stmt = stmt.where(Party.country.in_([c.upper() for c in countries]))
    tags = [tag_key(t) for t in split_list(spec.tags)]
    if tags:
        stmt = stmt.where(Party.tags.any(Tag.name_key.in_(tags)))
    stmt = stmt.order_by(Party.name_key, Party.id)
    return [Member(email=row[2], name=row[1], company=(row[4] or "") if row[3] == "person" else row[1],
                   party_id=row[0]) for row in db.execute(stmt)]


def _lead_query(spec: Segment):
    stmt = select(Lead).where(Lead.email != "", Lead.merged_into_id.is_(None))
    statuses = split_list(spec.lead_statuses)
    if statuses:
        stmt = stmt.where(Lead.status.in_(statuses))
    sources = split_list(spec.lead_sources)
    if sources:
        stmt = stmt.where(Lead.source.in_(sources))
    tags = [tag_key(t) for t in split_list(spec.tags)]
    if tags:
        stmt = stmt.where(Lead.tags.any(Tag.name_key.in_(tags)))
    return stmt.order_by(Lead.name_key, Lead.id)


def _lead_members(db: Session, spec: Segment, user=None) -> Iterable[Member]:
    if not spec.include_leads:
        return []
    stmt = _lead_query(spec)
    if user is not None:
        stmt = visible(stmt, "lead", Lead.owner_id, user=user)
    stmt = stmt.with_only_columns(Lead.id, Lead.name, Lead.email, Lead.company_name)
    return [Member(email=row[2], name=row[1], company=row[3] or "", lead_id=row[0]) for row in db.execute(stmt)]


def members(db: Session, spec: Segment, *, user=None) -> list[Member]:
    """The addresses ``spec`` reaches, each once (parties before leads).

    With ``user``, only the leads that user may see are listed (the lead record rule); a send
    always goes to the whole segment.
    """
    found: dict[str, Member] = {}
    if user is None:
        with every_owner():  # the whole segment, whoever owns its leads
            leads = _lead_members(db, spec)
    else:
        leads = _lead_members(db, spec, user)
    for member in [*_party_members(db, spec), *leads]:
        if member.key and member.key not in found:
            found[member.key] = member
    return list(found.values())


@dataclass(frozen=True)
class SegmentCount:
    """The live count of a segment: addresses reached, and how many of them opted out."""

    total: int
    opted_out: int

    @property
    def reachable(self) -> int:
        return self.total - self.opted_out


def count(db: Session, spec: Segment) -> SegmentCount:
    """How many addresses ``spec`` reaches, and how many of them opted out."""
    keys = [m.key for m in members(db, spec)]
    opted = 0
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        opted += db.execute(select(func.count()).select_from(OptOut).where(OptOut.email_key.in_(chunk))).scalar_one()
    return SegmentCount(len(keys), opted)


def preview_segment(data: dict) -> Segment:
    """An unsaved segment from a form being edited (for the live count); lenient about the name."""
    return Segment(name="", include_parties=_truthy(data.get("include_parties")),
                   include_leads=_truthy(data.get("include_leads")), tags=_list_text(data.get("tags")),
                   countries=_list_text(data.get("countries")).upper(),
                   party_kind=str(data.get("party_kind") or "") if data.get("party_kind") in PARTY_KINDS else "",
                   lead_statuses=_list_text(data.get("lead_statuses")),
                   lead_sources=_list_text(data.get("lead_sources")))


# -- campaigns --


def get_campaign(db: Session, campaign_id: int) -> Campaign:
    """The campaign with ``campaign_id``; :class:`NotFound` when there is none."""
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("There is no campaign %(id)s.", id=campaign_id))
    return campaign


def campaign_choices(db: Session) -> list[tuple[int, str]]:
    """Every campaign as (id, name), newest first: the choices when attributing a lead or a deal."""
    rows = db.execute(select(Campaign.id, Campaign.name).order_by(Campaign.created_at.desc(), Campaign.id.desc()))
    return [(row[0], row[1]) for row in rows]


def list_campaigns(db: Session, *, q: str = "", status: str = "") -> list[Campaign]:
    """The campaigns, newest first, matching a search in the name and a status."""
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if q.strip():
        stmt = stmt.where(func.lower(Campaign.name).contains(q.strip().casefold(), autoescape=True))
    if status:
        stmt = stmt.where(Campaign.status == status)
    return list(db.execute(stmt).scalars().unique())


def _clean_campaign(db: Session, data: dict, campaign: Campaign | None) -> dict:
    clean: dict[str, Any] = {}
    if "name" in data or campaign is None:
        name = str(data.get("name") or "").strip()
        if not name:
            raise KontorError(_("Name the campaign."), field="name", status=422)
        if len(name) > 120:
            raise KontorError(_("At most %(n)s characters.", n=120), field="name", status=422)
        clean["name"] = name
    if "segment_id" in data or campaign is None:
        value = data.get("segment_id")
        if value in (None, ""):
            clean["segment_id"] = None
        else:
            try:
                segment = db.get(Segment, int(value)) if 0 < int(value) < 2**31 else None
            except (TypeError, ValueError):
                segment = None
            if segment is None:
                raise KontorError(_("Choose a segment."), field="segment_id", status=422)
            clean["segment_id"] = segment.id
    if "subject" in data or campaign is None:
        subject = " ".join(str(data.get("subject") or "").split())
        if len(subject) > 200:
            raise KontorError(_("At most %(n)s characters.", n=200), field="subject", status=422)
        mailer.check_placeholders(subject, "subject")
        clean["subject"] = subject
    if "body" in data or campaign is None:
        body = str(data.get("body") or "").replace("\r\n", "\n")
        if len(body) > 100_000:
            raise KontorError(_("At most %(n)s characters.", n=100_000), field="body", status=422)
        mailer.check_placeholders(body, "body")
        clean["body"] = body
    return clean


def create_campaign(db: Session, data: dict, *, user_id: int | None = None) -> Campaign:
    """A draft campaign from ``data`` (name, segment_id, subject, body)."""
    campaign = Campaign(status="draft", created_by_id=user_id, **_clean_campaign(db, data, None))
    db.add(campaign)
    db.flush()
    return campaign


def update_campaign(db: Session, campaign: Campaign, data: dict) -> Campaign:
    """Change a draft; a campaign being sent or sent is kept as it went out."""
    if campaign.status != "draft":
        raise KontorError(_("Only a draft can be changed; duplicate the campaign to send it again."),
                          field="status", status=409)
    for key, value in _clean_campaign(db, data, campaign).items():
        setattr(campaign, key, value)
    db.flush()
    return campaign


def duplicate_campaign(db: Session, campaign: Campaign, *, user_id: int | None = None) -> Campaign:
    """A new draft with the campaign's segment, subject and body."""
    copy = Campaign(name=_("%(name)s (copy)", name=campaign.name)[:120], segment_id=campaign.segment_id,
                    subject=campaign.subject, body=campaign.body, status="draft", created_by_id=user_id)
    db.add(copy)
    db.flush()
    return copy


def _ready(campaign: Campaign) -> None:
    if campaign.segment_id is None:
        raise KontorError(_("Choose a segment."), field="segment_id", status=422)
    if not campaign.subject.strip():
        raise KontorError(_("Write a subject."), field="subject", status=422)
    if not campaign.body.strip():
        raise KontorError(_("Write the message."), field="body", status=422)
    mailer.check_placeholders(campaign.subject, "subject")
    mailer.check_placeholders(campaign.body, "body")


def start_send(db: Session, campaign: Campaign, *, user_id: int | None = None,
               now: datetime | None = None) -> "Progress":
    """Fix the recipients of a draft and mark it sending; opted-out addresses are recorded skipped."""
    if campaign.status != "draft":
        raise KontorError(_("This campaign was sent already; duplicate it to send it again."), field="status",
                          status=409)
    _ready(campaign)
    now = now or utcnow()
    found = members(db, campaign.segment)
    if not found:
        raise KontorError(_("The segment reaches no one with an email address."), field="segment_id", status=422)
    opted = _opted_out_keys(db, [m.key for m in found])
    db.add_all(CampaignRecipient(
        campaign_id=campaign.id, party_id=m.party_id, lead_id=m.lead_id, email=m.email.strip(), email_key=m.key,
        name=m.name[:200], company=m.company[:200],
        status="skipped" if m.key in opted else "queued",
        reason=_("Unsubscribed") if m.key in opted else "",
    ) for m in found)
    campaign.status, campaign.started_at, campaign.sent_by_id = "sending", now, user_id
    db.flush()
    return progress(db, campaign)


def _opted_out_keys(db: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(db.execute(select(OptOut.email_key).where(OptOut.email_key.in_(chunk))).scalars())
    return found


@dataclass(frozen=True)
class Progress:
    """How far a campaign's send has come."""

    total: int
    queued: int
    sent: int
    failed: int
    skipped: int
    status: str

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.done) // self.total

    @property
    def finished(self) -> bool:
        return self.status == "sent"


def progress(db: Session, campaign: Campaign) -> Progress:
    """The recipients of ``campaign`` counted by status."""
    counts = dict(db.execute(select(CampaignRecipient.status, func.count()).where(
        CampaignRecipient.campaign_id == campaign.id).group_by(CampaignRecipient.status)).all())
    return Progress(total=sum(counts.values()), queued=counts.get("queued", 0) + counts.get("sending", 0),
                    sent=counts.get("sent", 0), failed=counts.get("failed", 0), skipped=counts.get("skipped", 0),
                    status=campaign.status)


def record_of(campaign: Campaign) -> str:
    """The record the campaign's messages (in the core's mail log) and its send jobs carry."""
    return f"crm.campaign:{campaign.id}"


def _interrupted() -> str:
    return _("The send stopped while this message was going out; it is not sent again, so that no one gets it twice.")


def _settle(db: Session, campaign: Campaign, recipient: CampaignRecipient, message: MailMessage,
            sent_at: datetime | None) -> None:
    """Write on ``recipient`` what became of its message; one still queued (put off) leaves it claimed."""
    if message.status == "sent":
        recipient.status, recipient.reason, recipient.sent_at = "sent", "", sent_at or message.sent_at
        record_sent(db, campaign, recipient)
    elif message.status == "failed":
        recipient.status, recipient.reason, recipient.sent_at = "failed", (message.error or "")[:500], None
    elif message.status == "sending":  # caught going out: whether it left is unknown
        recipient.status, recipient.reason, recipient.sent_at = "failed", _interrupted(), None


def settle_interrupted(db: Session, campaign: Campaign) -> list[tuple[CampaignRecipient, MailMessage]]:
    """Settle the recipients a sender claimed and did not finish; returns those whose message is
    still queued, to be delivered again.

    Called when the campaign's send job starts (again): one job sends a campaign, so a claim still
    open then belongs to an attempt that stopped. Each recipient's message in the mail log says
    what became of it: sent or failed is written on the recipient; queued (put off by the server,
    or never handed over) is delivered again; *sending* (the worker died while it went out) is
    recorded failed and not sent again, and so is a claim without a message: a send is at most
    once per recipient.
    """
    claimed = list(db.execute(select(CampaignRecipient).where(
        CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "sending")
        .order_by(CampaignRecipient.id)).scalars())
    messages: dict[str, MailMessage] = {}
    for start in range(0, len(claimed), 500):
        chunk = [r.email for r in claimed[start:start + 500]]
        for message in db.execute(select(MailMessage).where(MailMessage.record == record_of(campaign),
                                                            MailMessage.to_address.in_(chunk))
                                  .order_by(MailMessage.id)).scalars():
            messages[message.to_address] = message  # the newest, should there be two
    pending = []
    for recipient in claimed:
        message = messages.get(recipient.email)
        if message is None:
            recipient.status, recipient.reason = "failed", _interrupted()
        elif message.status == "queued":
            pending.append((recipient, message))
        else:
            _settle(db, campaign, recipient, message, None)
    db.flush()
    return pending


def resume_send(db: Session, campaign: Campaign, config=None, *, now: datetime | None = None) -> int:
    """Settle the claims an earlier attempt left (:func:`settle_interrupted`) and deliver again the
    messages still queued, batch by batch; returns how many. Commits; raises :class:`Unavailable`
    (after writing the outcomes) when the mail server cannot be reached."""
    pending = settle_interrupted(db, campaign)
    db.commit()
    if not pending:
        return 0
    config = config or mail_settings(db)
    size = max(1, config.batch_size)
    for start in range(0, len(pending), size):
        _deliver(db, campaign, pending[start:start + size], config, now or utcnow())
    return len(pending)


def _claim(db: Session, campaign: Campaign, config, *, secret: str, base_url: str,
           now: datetime) -> list[tuple[CampaignRecipient, MailMessage]]:
    """Take the next batch of queued recipients for this sender, queue each one's message in the
    core's mail log (opted-out addresses are skipped), and commit the claim with the messages."""
    batch = list(db.execute(
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "queued")
        .order_by(CampaignRecipient.id).limit(max(1, config.batch_size)).with_for_update(skip_locked=True)
    ).scalars())
    opted = _opted_out_keys(db, [r.email_key for r in batch])
    claimed = []
    for recipient in batch:
        if recipient.email_key in opted:
            recipient.status, recipient.reason = "skipped", _("Unsubscribed")
            continue
        letter = letter_for(campaign, recipient, secret=secret, base_url=base_url)
        try:
            message = queue_mail(db, recipient.email, letter.subject, letter.body, to_name=recipient.name,
                                 headers=mailer.unsubscribe_headers(letter.unsubscribe_url),
                                 record=record_of(campaign), config=config)
        except KontorError as exc:  # an address or a subject the mail service refuses: nothing to send
            recipient.status, recipient.reason = "failed", exc.message[:500]
            continue
        recipient.status, recipient.claimed_at = "sending", now
        claimed.append((recipient, message))
    db.flush()
    # A batch commits on purpose: the claim must be visible to the other senders (and survive a crash
    # mid-batch, so that the recipient is never mailed twice) before any mail leaves.
    db.commit()
    return claimed


def _deliver(db: Session, campaign: Campaign, claimed: list[tuple[CampaignRecipient, MailMessage]], config,
             now: datetime) -> None:
    """Send the claimed recipients' messages over one connection and write each outcome on its recipient."""
    outcome = deliver_mail(db, [message for _recipient, message in claimed], config)
    for recipient, message in claimed:
        _settle(db, campaign, recipient, message, now)
    db.commit()  # the outcomes are kept whatever happens next (chunked on purpose)
    if outcome.unreachable:
        raise Unavailable(_("The mail server could not be reached: %(error)s", error=outcome.error), field="smtp")


def send_batch(db: Session, campaign: Campaign, *, secret: str, base_url: str, config=None,
               now: datetime | None = None) -> Progress:
    """Mail the next batch of a sending campaign through the core's mail service and record each
    recipient's outcome.

    Commits (the claim with the queued messages before mailing, the outcomes after). When no
    recipient is left the campaign becomes sent. A recipient the server refuses is recorded failed,
    with the reply; one it puts off (4xx) stays claimed until :func:`resume_send` delivers it
    again; the server being unreachable raises :class:`Unavailable` after the outcomes are written.
    """
    if campaign.status == "draft":
        raise KontorError(_("Start sending the campaign first."), field="status", status=409)
    if campaign.status == "sent":
        return progress(db, campaign)
    config = config or mail_settings(db)
    if not base_url:
        raise KontorError(_("Set the address of this Kontor (for unsubscribe links) under Administration → Mail."),
                          field="site_url", status=409)
    now = now or utcnow()
    claimed = _claim(db, campaign, config, secret=secret, base_url=base_url, now=now)
    if claimed:
        _deliver(db, campaign, claimed, config, now)
    remaining = db.execute(select(func.count()).select_from(CampaignRecipient).where(
        CampaignRecipient.campaign_id == campaign.id,
        CampaignRecipient.status.in_(("queued", "sending")))).scalar_one()
    if not remaining and campaign.status != "sent":
        db.refresh(campaign)
        if campaign.status == "sending":
            campaign.status, campaign.finished_at = "sent", now
    db.commit()
    return progress(db, campaign)


def has_queued(db: Session, campaign: Campaign) -> bool:
    """Whether recipients of ``campaign`` wait to be claimed by a sender."""
    found = db.execute(select(CampaignRecipient.id).where(
        CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "queued").limit(1)).first()
    return found is not None


def put_off(db: Session, campaign: Campaign) -> int:
    """How many of the campaign's messages the mail server put off (queued in the mail log, to go again)."""
    return db.execute(select(func.count()).select_from(MailMessage).where(
        MailMessage.record == record_of(campaign), MailMessage.status == "queued")).scalar_one()


def mail_log(db: Session, campaign: Campaign) -> dict[str, int]:
    """The campaign's messages in the core's mail log, counted by status (queued, sending, sent, failed)."""
    return dict(db.execute(select(MailMessage.status, func.count()).where(MailMessage.record == record_of(campaign))
                           .group_by(MailMessage.status)).all())


def unsubscribe_url(base_url: str, secret: str, email: str, campaign_id: int | None) -> str:
    """The absolute unsubscribe link of ``email``."""
    return f"{base_url.rstrip('/')}/crm/unsubscribe/{mailer.make_token(secret, email_key(email), campaign_id)}"


def letter_for(campaign: Campaign, recipient: CampaignRecipient | Member, *, secret: str, base_url: str,
               subject_prefix: str = "") -> mailer.Letter:
    """The message ``recipient`` gets: placeholders filled, an unsubscribe link always included."""
    link = unsubscribe_url(base_url, secret, recipient.email, campaign.id)
    values = {"name": recipient.name, "company": recipient.company, "unsubscribe_url": link}
    body = mailer.fill(campaign.body, values)
    if "unsubscribe_url" not in mailer.PLACEHOLDER.findall(campaign.body):
        body = body.rstrip("\n") + "\n\n-- \n" + _("Unsubscribe: %(url)s", url=link) + "\n"
    subject = mailer.fill(campaign.subject, {**values, "unsubscribe_url": ""})
    return mailer.Letter(to_email=recipient.email, to_name=recipient.name, subject=subject_prefix + subject,
                         body=body, unsubscribe_url=link)


def send_test(db: Session, campaign: Campaign, address: str, *, secret: str, base_url: str,
              config=None) -> MailMessage:
    """Mail the campaign to ``address`` alone, filled in for the segment's first member, through the
    core's mail service (logged under ``crm.campaign:<id>:test``; no recipient is recorded). Commits
    the message; Unavailable beside ``test_address`` when the server does not take it."""
    address = (address or "").strip()
    if not mailer.EMAIL_ADDRESS.match(address):
        raise KontorError(_("Enter an email address such as name@example.com."), field="test_address", status=422)
    _ready(campaign)
    config = config or mail_settings(db)
    found = members(db, campaign.segment)[:1]
    sample = found[0] if found else Member(email=address, name=_("Test recipient"), company=_("Test company"))
    sample = Member(email=address, name=sample.name, company=sample.company)
    letter = letter_for(campaign, sample, secret=secret, base_url=base_url, subject_prefix=_("[Test] "))
    try:
        message = queue_mail(db, address, letter.subject, letter.body,
                             headers=mailer.unsubscribe_headers(letter.unsubscribe_url),
                             record=f"{record_of(campaign)}:test", config=config)
    except KontorError as exc:
        raise KontorError(exc.message, field="test_address", status=422) from None
    deliver_mail(db, [message], config, max_attempts=1)  # someone waits for the answer: no later attempt
    if message.status != "sent":
        raise Unavailable(_("The mail server refused the test message: %(reason)s", reason=message.error),
                          field="test_address")
    return message


def record_sent(db: Session, campaign: Campaign, recipient: CampaignRecipient):
    """Note on the recipient's party or lead timeline that the campaign reached them (the event, if any)."""
    if recipient.party_id is None and recipient.lead_id is None:
        return None
    from plugins.crm import timeline

    return timeline.record(db, "campaign", title=N_("Campaign sent: %(name)s"), title_args={"name": campaign.name},
                           body=mailer.fill(campaign.subject, {"name": recipient.name, "company": recipient.company,
                                                                "unsubscribe_url": ""}),
                           party_id=recipient.party_id, lead_id=recipient.lead_id, campaign_id=campaign.id)


def recipients(db: Session, campaign: Campaign, *, status: str = "", after_id: int = 0,
               limit: int = 50) -> list[CampaignRecipient]:
    """A page of a campaign's recipients, in the order they are mailed."""
    stmt = (select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id,
                                            CampaignRecipient.id > after_id)
            .order_by(CampaignRecipient.id).limit(limit))
    if status:
        stmt = stmt.where(CampaignRecipient.status == status)
    return list(db.execute(stmt).scalars())


def campaigns_of_party(db: Session, party_id: int, *, limit: int = 10) -> list[tuple[Campaign, CampaignRecipient]]:
    """The campaigns a party was sent (or meant to be sent), newest first, with its recipient row."""
    stmt = (select(Campaign, CampaignRecipient).join(CampaignRecipient, CampaignRecipient.campaign_id == Campaign.id)
            .where(CampaignRecipient.party_id == party_id)
            .order_by(Campaign.started_at.desc(), Campaign.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in db.execute(stmt).unique()]


def attributed(db: Session, campaign: Campaign, user) -> dict[str, Any]:
    """The leads and opportunities attributed to ``campaign`` that ``user`` may see, and their counts."""
    leads = visible(select(Lead).where(Lead.campaign_id == campaign.id), "lead", Lead.owner_id, user=user)
    deals = visible(select(Opportunity).where(Opportunity.campaign_id == campaign.id), "opportunity",
                    Opportunity.owner_id, user=user)
    return {
        "leads": list(db.execute(leads.order_by(Lead.created_at.desc()).limit(50)).scalars().unique()),
        "lead_count": db.execute(select(func.count()).select_from(leads.subquery())).scalar_one(),
        "opportunities": list(db.execute(deals.order_by(Opportunity.created_at.desc()).limit(50)).scalars().unique()),
        "opportunity_count": db.execute(select(func.count()).select_from(deals.subquery())).scalar_one(),
    }


def move_party(db: Session, source_id: int, target_id: int) -> None:
    """Point campaign recipients from party ``source_id`` to ``target_id`` (a party merge)."""
    db.execute(update(CampaignRecipient).where(CampaignRecipient.party_id == source_id)
               .values(party_id=target_id))


def sender_name(db: Session, user_id: int | None) -> str:
    """Who started a send, as people read it."""
    user = db.get(User, user_id) if user_id else None
    return (user.full_name or user.username) if user else ""


def search_opt_outs(db: Session, q: str = "", *, limit: int = 100) -> list[OptOut]:
    """Opted-out addresses containing ``q``, newest first."""
    stmt = select(OptOut).order_by(OptOut.created_at.desc(), OptOut.id.desc()).limit(limit)
    if q.strip():
        stmt = stmt.where(OptOut.email_key.contains(email_key(q), autoescape=True))
    return list(db.execute(stmt).scalars())
