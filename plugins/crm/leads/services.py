"""Leads: create, change, list, find duplicates, merge, qualify and disqualify.

Every function that reads or changes leads on someone's behalf takes ``user``: the record rules of
:mod:`plugins.crm.access` then decide which leads exist for them. ``user=None`` is the system itself
(a command, the web-to-lead form), which sees every lead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from sqlalchemy import Select, exists, func, inspect as sa_inspect, or_, select, update
from sqlalchemy.orm import Session

from core import (company_member_ids, create_party, current_company_id, gettext as _, has_permission, hooks, InvalidInput, keyset_page, KontorError,
                  load_input, N_, NotFound, Page, Party, record_event, Tag, tag_key, tags_named, User, utcnow)

from plugins.crm import access
from plugins.crm.leads.matching import normalise_name, similar
from plugins.crm.leads.models import Lead, SOURCE_LABELS, STATUS_LABELS, lead_tags
from plugins.crm.leads.schemas import LeadSchema
from plugins.crm.permissions import LEAD_READ_ALL

#: The sort keys of lead lists (``-`` prefix for descending).
SORT_KEYS = {"created": Lead.created_at, "name": Lead.name_key, "company": Lead.company_name, "status": Lead.status}

#: Fields a merge copies into the kept lead when it has them empty.
MERGE_FILLS = ("company_name", "email", "phone", "vat_id", "owner_id", "party_id", "campaign_id")

#: The columns of a lead export, in order.
EXPORT_COLUMNS = ("id", "name", "company_name", "email", "phone", "vat_id", "source", "status", "owner", "tags",
                  "created_at", "notes")


@dataclass(frozen=True)
class Duplicate:
    """A record that may be the same as a lead being entered: another lead, or a party."""

    kind: str  # "lead" | "party"
    id: int
    name: str
    reason: str


# -- Reading --


def _visible(stmt: Select, user) -> Select:
    return stmt if user is None else access.visible(stmt, "lead", Lead.owner_id, user=user)


def sees_all_leads(user) -> bool:
    """Whether ``user`` sees every lead (the system, or a holder of crm.lead.read_all)."""
    return user is None or has_permission(LEAD_READ_ALL, user=user)


def leads_query(*, user, q: str = "", status: str = "", source: str = "", owner_id: str = "",
                tag: str = "") -> Select:
    """The leads ``user`` may see that match a search (name, company, email) and filters.

    ``owner_id`` is a user id, or ``"none"`` for unassigned leads.
    """
    stmt = _visible(select(Lead), user)
    if q.strip():
        stmt = stmt.where(Lead.search_text.contains(q.strip().casefold(), autoescape=True))
    if status:
        stmt = stmt.where(Lead.status == status)
    if source:
        stmt = stmt.where(Lead.source == source)
    if owner_id == "none":
        stmt = stmt.where(Lead.owner_id.is_(None))
    elif owner_id:
        stmt = stmt.where(Lead.owner_id == int(owner_id))
    if tag:
        stmt = stmt.where(exists().where(lead_tags.c.lead_id == Lead.id, lead_tags.c.tag_id == Tag.id,
                                         Tag.name_key == tag_key(tag)))
    return stmt


def list_leads(db: Session, *, user, q: str = "", status: str = "", source: str = "", owner_id: str = "",
               tag: str = "", sort: str = "-created", after: str | None = None, limit: int = 50) -> Page:
    """One keyset page of the leads ``user`` may see, filtered and sorted (``-`` for descending)."""
    filters = {"status": status, "source": source, "owner_id": owner_id, "tag": tag}
    stmt = leads_query(user=user, q=q, **filters)
    return keyset_page(db, stmt, sort_keys=SORT_KEYS, id_column=Lead.id, sort=sort, cursor=after, size=limit,
                       query=q, filters={k: v for k, v in filters.items() if v})


def export_rows(db: Session, *, user, sort: str = "-created", **filters) -> Iterator[dict[str, Any]]:
    """Every lead of a filtered list as plain values, in list order (for CSV/XLSX export)."""
    key = sort.lstrip("-")
    column = SORT_KEYS.get(key, Lead.created_at)
    order = (column.desc(), Lead.id.desc()) if sort.startswith("-") else (column.asc(), Lead.id.asc())
    stmt = leads_query(user=user, **filters).order_by(*order).execution_options(yield_per=500)
    for lead in db.execute(stmt).scalars():
        yield {
            "id": lead.id, "name": lead.name, "company_name": lead.company_name, "email": lead.email,
            "phone": lead.phone, "vat_id": lead.vat_id, "source": str(SOURCE_LABELS.get(lead.source, lead.source)),
            "status": str(STATUS_LABELS.get(lead.status, lead.status)), "owner": lead.owner_name,
            "tags": ", ".join(lead.tag_names),
            "created_at": lead.created_at, "notes": lead.notes,
        }


def lead_tags_in_use(db: Session) -> list[Tag]:
    """The tags some lead carries, by name (for the tag filter)."""
    stmt = select(Tag).where(exists().where(lead_tags.c.tag_id == Tag.id)).order_by(Tag.name)
    return list(db.execute(stmt).scalars())


def get_lead(db: Session, lead_id: int, *, user) -> Lead:
    """The lead ``lead_id`` if ``user`` may see it; :class:`NotFound` otherwise (others' leads do not exist)."""
    lead = db.get(Lead, lead_id)
    if lead is None or (user is not None and not access.may_see(lead, "lead", user=user)):
        raise NotFound(_("There is no lead %(id)s.", id=lead_id))
    return lead


def owner_choices(db: Session, *, user) -> list[tuple[int, str]]:
    """(id, name) of the users a lead may be given to by ``user``: every active user of the current
    company, or only themselves."""
    if not sees_all_leads(user):
        return [(user.id, user.full_name or user.username)]
    users = db.execute(select(User).where(User.active.is_(True),
                                          User.id.in_(company_member_ids(current_company_id(db))))
                       .order_by(User.username)).scalars()
    return [(u.id, u.full_name or u.username) for u in users]


def user_by_name(db: Session, username: str) -> User | None:
    """The active user called ``username`` (ignoring case), or None."""
    return db.execute(select(User).where(func.lower(User.username) == username.strip().lower(),
                                         User.active.is_(True))).scalar_one_or_none()


def leads_of_party(db: Session, party_id: int, *, user, limit: int = 10) -> list[Lead]:
    """The leads ``user`` may see that were converted into or linked to party ``party_id``, newest first."""
    stmt = _visible(select(Lead).where(Lead.party_id == party_id), user)
    return list(db.execute(stmt.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit)).scalars())


def opportunities_of(db: Session, lead: Lead, *, user) -> list:
    """The opportunities opened from ``lead`` that ``user`` may see."""
    from plugins.crm.pipeline.models import Opportunity

    stmt = select(Opportunity).where(Opportunity.lead_id == lead.id)
    if user is not None:
        stmt = access.visible(stmt, "opportunity", Opportunity.owner_id, user=user)
    return list(db.execute(stmt.order_by(Opportunity.id)).scalars())


def open_lead_count(db: Session, *, user) -> int:
    """How many open leads (new or contacted) ``user`` may see."""
    stmt = _visible(select(func.count()).select_from(Lead).where(Lead.status.in_(("new", "contacted"))), user)
    return db.execute(stmt).scalar_one()


# -- Creating and changing --


def check_owner(db: Session, owner_id: int | None, *, user, current: int | None = None) -> int | None:
    """The owner a lead gets: a salesperson who sees only their own leads keeps them their own."""
    if not sees_all_leads(user):
        if owner_id not in (None, user.id) and owner_id != current:
            raise KontorError(_("You can give leads only to yourself."), field="owner_id", status=422)
        return owner_id if owner_id is not None else (current or user.id)
    if owner_id is not None and owner_id != current:
        owner = db.get(User, owner_id)
        if owner is None or not owner.active:
            raise KontorError(_("Choose an active user."), field="owner_id", status=422)
    return owner_id


def _check_campaign(db: Session, campaign_id: int | None) -> None:
    if campaign_id is None:
        return
    table = Lead.metadata.tables.get("crm_campaign")
    if table is None or db.execute(select(table.c.id).where(table.c.id == campaign_id,
                                                            table.c.company_id == current_company_id(db))).first() is None:
        raise KontorError(_("Choose an existing campaign."), field="campaign_id", status=422)


def clean_lead_data(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """``data`` validated by :class:`LeadSchema`; :class:`InvalidInput` names every bad field."""
    clean = load_input(LeadSchema(), data, partial=partial)
    if partial:
        clean = {key: value for key, value in clean.items() if key in data}
    return clean


def create_lead(db: Session, data: dict[str, Any], *, user, party_id: int | None = None) -> Lead:
    """Validate ``data`` and add a lead owned by the chosen owner (a salesperson: themselves).

    ``party_id`` links the lead to a party it is known to belong to (a duplicate found on entry).
    """
    clean = clean_lead_data(data)
    clean["owner_id"] = check_owner(db, clean.get("owner_id"), user=user)
    _check_campaign(db, clean.get("campaign_id"))
    if party_id is not None:
        party = db.get(Party, party_id)
        if party is None or not party.active:
            raise KontorError(_("Choose an active party."), field="party_id", status=422)
        clean["party_id"] = party_id
    tags = clean.pop("tags", [])
    lead = Lead(**clean)
    lead.tags = tags_named(db, tags)
    db.add(lead)
    db.flush()
    return lead


def update_lead(db: Session, lead: Lead, data: dict[str, Any], *, user, partial: bool = True) -> Lead:
    """Validate ``data`` and change ``lead``; with ``partial`` only the fields given change.

    Only an open lead changes status here; qualifying and disqualifying are acts of their own.
    """
    clean = clean_lead_data(data, partial=partial)
    if not lead.is_open:
        if data.get("status") and data["status"] != lead.status:
            raise KontorError(_("A qualified or disqualified lead keeps its status; reopen it first."),
                              field="status", status=409)
        clean.pop("status", None)
    if "owner_id" in clean:
        clean["owner_id"] = check_owner(db, clean["owner_id"], user=user, current=lead.owner_id)
    if "campaign_id" in clean and clean["campaign_id"] != lead.campaign_id:
        _check_campaign(db, clean["campaign_id"])
    tags = clean.pop("tags", None)
    for key, value in clean.items():
        setattr(lead, key, value)
    if tags is not None:
        lead.tags = tags_named(db, tags)
    db.flush()
    return lead


# -- Duplicates and merging --


def find_duplicates(db: Session, data: dict[str, Any] | Lead, *, user, exclude_id: int | None = None,
                    limit: int = 10) -> list[Duplicate]:
    """Leads ``user`` may see and active parties that look like ``data``: the same email (ignoring
    case), the same VAT id, or a similar name (legal suffixes dropped, word order ignored)."""
    get = (lambda k: getattr(data, k, "") or "") if isinstance(data, Lead) else (lambda k: data.get(k) or "")
    email, vat_id = get("email").strip().casefold(), get("vat_id").strip().upper()
    name = get("company_name") or get("name")
    key = normalise_name(name)
    found: dict[tuple[str, int], Duplicate] = {}

    def note(kind: str, record_id: int, label: str, reason: str) -> None:
        found.setdefault((kind, record_id), Duplicate(kind, record_id, label, reason))

    def lead_label(lead: Lead) -> str:
        return f"{lead.name} ({lead.company_name})" if lead.company_name else lead.name

    leads = _visible(select(Lead).where(Lead.merged_into_id.is_(None)), user)
    if exclude_id is not None:
        leads = leads.where(Lead.id != exclude_id)
    parties = select(Party).where(Party.active.is_(True))
    same = [(Lead.email_key == email, func.lower(Party.email) == email, _("same email")) if email else None,
            (Lead.vat_id == vat_id, Party.vat_id == vat_id, _("same VAT id")) if vat_id else None]
    for lead_rule, party_rule, reason in filter(None, same):
        for lead in db.execute(leads.where(lead_rule).order_by(Lead.id).limit(limit)).scalars():
            note("lead", lead.id, lead_label(lead), reason)
        for party in db.execute(parties.where(party_rule).order_by(Party.id).limit(limit)).scalars():
            note("party", party.id, party.name, reason)
    if key:
        # narrowed in SQL to rows sharing a word with the name, then compared with difflib
        words = [w for w in key.split() if len(w) >= 3] or [key]
        plain = [w for w in re.split(r"\W+", name.casefold()) if len(w) >= 3] or words
        candidates = leads.where(or_(*(Lead.match_key.contains(w, autoescape=True) for w in words)))
        for lead in db.execute(candidates.order_by(Lead.id).limit(500)).scalars():
            if similar(key, lead.match_key):
                note("lead", lead.id, lead_label(lead), _("similar name"))
        candidates = parties.where(or_(*(Party.name_key.contains(w, autoescape=True) for w in {*words, *plain})))
        for party in db.execute(candidates.order_by(Party.id).limit(500)).scalars():
            if similar(key, normalise_name(party.name)):
                note("party", party.id, party.name, _("similar name"))
    return list(found.values())[:limit]


def _join_tags(target: Lead, tags: Iterable[Tag]) -> None:
    known = {tag.id for tag in target.tags}
    target.tags = list(target.tags) + [tag for tag in tags if tag.id not in known]


def _join_notes(first: str, second: str) -> str:
    if not second or second in first:
        return first
    return f"{first}\n\n{second}" if first else second


def merge_data_into(db: Session, target: Lead, data: dict[str, Any], *, user) -> Lead:
    """Merge what was entered for a new lead into the existing lead ``target`` instead of adding one:
    empty fields are filled, tags joined and notes appended."""
    clean = clean_lead_data(data)
    if not target.is_open:
        raise KontorError(_("Only an open lead takes in a duplicate."), field="merge_into", status=409)
    for key in MERGE_FILLS:
        if key in clean and not getattr(target, key) and clean[key]:
            setattr(target, key, clean[key] if key != "owner_id" else check_owner(db, clean[key], user=user))
    target.notes = _join_notes(target.notes, clean.get("notes", ""))
    _join_tags(target, tags_named(db, clean.get("tags", [])))
    db.flush()
    record_event(db, "crm.lead.merged", module="crm", table_name="crm_lead", record_id=target.id,
                 changes={"merged_input": clean.get("name", ""), "into": target.id})
    return target


def _lead_reference_tables(db: Session):
    """The CRM tables other than the lead's own that point at a lead (activities, timeline …)."""
    existing = set(sa_inspect(db.connection()).get_table_names())
    for table in Lead.metadata.sorted_tables:
        if (table.name.startswith("crm_") and table.name not in ("crm_lead", "crm_lead_tag")
                and "lead_id" in table.c and table.name in existing):
            yield table


def merge_leads(db: Session, source: Lead, target: Lead, *, user) -> Lead:
    """Merge the duplicate lead ``source`` into ``target``; returns ``target``.

    Empty fields of ``target`` are filled from ``source``, tags joined, notes appended, and every
    CRM record pointing at ``source`` (activities, timeline entries, opportunities) moves to
    ``target``. ``source`` is then disqualified as merged. Both must be leads ``user`` may see.
    """
    for lead in (source, target):
        get_lead(db, lead.id, user=user)
    if source.id == target.id:
        raise KontorError(_("A lead cannot be merged into itself."), field="into", status=422)
    if source.merged_into_id is not None or not source.is_open:
        raise KontorError(_("Only an open lead can be merged into another."), field="into", status=409)
    if target.merged_into_id is not None:
        raise KontorError(_("Choose a lead that was not merged away."), field="into", status=422)
    for key in MERGE_FILLS:
        if not getattr(target, key) and getattr(source, key):
            setattr(target, key, getattr(source, key))
    target.notes = _join_notes(target.notes, source.notes)
    _join_tags(target, source.tags)
    moved = {}
    for table in _lead_reference_tables(db):
        result = db.execute(update(table).where(table.c.lead_id == source.id).values(lead_id=target.id))
        if result.rowcount:
            moved[table.name] = result.rowcount
    source.status = "disqualified"
    source.disqualify_reason = _("Merged into lead %(id)s", id=target.id)
    source.merged_into_id = target.id
    db.flush()
    record_event(db, "crm.lead.merged", module="crm", table_name="crm_lead", record_id=source.id,
                 changes={"merged_into_id": [None, target.id], "source": source.name, "target": target.name,
                          "moved": moved})
    _timeline(db, title=N_("Lead %(source)s merged into this lead"), args={"source": source.name}, lead_id=target.id,
              user=user)
    return target


# -- Qualifying and disqualifying --


def _timeline(db: Session, *, title: str, args: dict | None = None, body: str = "", lead_id: int,
              party_id: int | None = None, opportunity_id: int | None = None, user=None) -> None:
    """A timeline event about a lead; ``title`` is a message marked with N_, shown translated."""
    from plugins.crm import timeline

    timeline.record(db, "lead", title=title, title_args=args or {}, body=body, lead_id=lead_id, party_id=party_id,
                    opportunity_id=opportunity_id, user_id=getattr(user, "id", None))


def _party_from_lead(db: Session, lead: Lead) -> Party:
    """A new party for ``lead``: its company (with the lead as a person of it), or the person alone."""
    tags = lead.tag_names
    if not lead.company_name:
        return create_party(db, {"kind": "person", "name": lead.name, "email": lead.email, "phone": lead.phone,
                                 "vat_id": lead.vat_id, "tags": tags})
    company = create_party(db, {"kind": "company", "name": lead.company_name, "vat_id": lead.vat_id,
                                "tags": tags})
    if lead.name and lead.name.casefold() != lead.company_name.casefold():
        create_party(db, {"kind": "person", "name": lead.name, "email": lead.email, "phone": lead.phone,
                          "company_id": company.id})
    else:
        company.email, company.phone = lead.email, lead.phone
    return company


def convert_lead(db: Session, lead: Lead, *, user, party_id: int | None = None, create_party: bool = False,
                 title: str = "", expected_revenue=None, currency: str = "", expected_close=None):
    """Qualify ``lead``: link party ``party_id`` or create one from the lead, open an opportunity for
    it, and mark the lead qualified. Returns ``(opportunity, party)``.

    Calls the ``crm_lead_converted`` hook in the same transaction; a hook that raises fails it all.
    """
    from plugins.crm.pipeline.services import create_opportunity

    if not lead.is_open:
        raise KontorError(_("Only an open lead can be qualified."), field="status", status=409)
    owner_id = lead.owner_id or getattr(user, "id", None)
    if owner_id is None:
        raise KontorError(_("Give the lead an owner before qualifying it."), field="owner_id", status=422)
    if party_id is not None:
        party = db.get(Party, party_id)
        if party is None or not party.active:
            raise KontorError(_("Choose an active party."), field="party_id", status=422)
    elif create_party:
        try:
            party = _party_from_lead(db, lead)
        except InvalidInput as exc:
            raise KontorError(_("The lead cannot become a party: %(problem)s", problem=exc.message),
                              field="party_id", status=422) from None
    else:
        raise KontorError(_("Create a new party or choose an existing one."), field="party_id", status=422)
    opportunity = create_opportunity(
        db, party=party, title=title.strip() or (lead.company_name or lead.name),
        owner_id=owner_id, expected_revenue=expected_revenue,
        currency=currency or None, expected_close=expected_close, lead_id=lead.id, campaign_id=lead.campaign_id)
    lead.status = "qualified"
    lead.party_id = party.id
    lead.converted_at = utcnow()
    db.flush()
    _timeline(db, title=N_("Lead qualified: opportunity %(title)s"), args={"title": opportunity.title}, lead_id=lead.id,
              party_id=party.id, opportunity_id=opportunity.id, user=user)
    hooks().crm_lead_converted(lead=lead, opportunity=opportunity, party=party, session=db)
    return opportunity, party


def disqualify_lead(db: Session, lead: Lead, reason: str, *, user) -> Lead:
    """Disqualify ``lead`` for ``reason`` (required)."""
    reason = (reason or "").strip()
    if not reason:
        raise KontorError(_("Say why the lead is disqualified."), field="reason", status=422)
    if len(reason) > 500:
        raise KontorError(_("A reason has at most 500 characters."), field="reason", status=422)
    if not lead.is_open:
        raise KontorError(_("Only an open lead can be disqualified."), field="reason", status=409)
    lead.status = "disqualified"
    lead.disqualify_reason = reason
    db.flush()
    _timeline(db, title=N_("Lead disqualified"), body=reason, lead_id=lead.id, user=user)
    return lead


def reopen_lead(db: Session, lead: Lead, *, user) -> Lead:
    """Put a disqualified lead back to work (a merged-away or qualified lead stays as it is)."""
    if lead.status != "disqualified" or lead.merged_into_id is not None:
        raise KontorError(_("Only a disqualified lead can be reopened."), field="status", status=409)
    lead.status = "contacted"
    lead.disqualify_reason = ""
    db.flush()
    _timeline(db, title=N_("Lead reopened"), lead_id=lead.id, user=user)
    return lead


def repoint_party(db: Session, source_id: int, target_id: int) -> None:
    """Leads linked to party ``source_id`` now link to ``target_id`` (the parties were merged), whoever owns them."""
    with access.every_owner():
        for lead in db.execute(select(Lead).where(Lead.party_id == source_id)).scalars():
            lead.party_id = target_id
        db.flush()
