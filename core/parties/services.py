"""Parties: create, change, find, list, de-duplicate and merge companies and people."""
from __future__ import annotations

from typing import Any, Callable, Iterable

from sqlalchemy import Select, exists, func, insert, or_, select, text, true
from sqlalchemy.orm import Session

from core.audit.recorder import record_event, write_records
from core.db import utcnow
from core.errors import KontorError, NotFound
from core.i18n import gettext
from core.parties.models import Party, Tag, party_tags, search_text, tag_key
from core.parties.schemas import PartySchema, load, normalise_vat_id
from core.web.listing import Page, keyset_page

#: The sort keys of party lists (each backed by an index).
SORT_KEYS = {"name": Party.name_key, "created": Party.created_at, "city": Party.city}

#: Fields a merge copies from the retired party when the kept one has them empty.
MERGE_FILLS = ("email", "phone", "website", "vat_id", "tax_id", "country", "notes", "company_id")
ADDRESS = ("street", "postal_code", "city")


def name_key(name: str) -> str:
    """The sort and search key of a name: casefolded, so ``Æble`` and ``æble`` sort together."""
    return name.casefold()


def get_party(db: Session, party_id: int) -> Party:
    """The party with ``party_id``; :class:`NotFound` when there is none."""
    party = db.get(Party, party_id)
    if party is None:
        raise NotFound(gettext("There is no party %(id)s.", id=party_id))
    return party


def tags_named(db: Session, names: Iterable[str]) -> list[Tag]:
    """The tags with these names (matched ignoring case), created when missing.

    One indexed query finds every existing tag, whatever the number of names; a name given twice
    (in any case) is one tag.
    """
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(tag_key(name), name.strip())
    wanted.pop("", None)
    if not wanted:
        return []
    found = {tag.name_key: tag for tag in db.execute(select(Tag).where(Tag.name_key.in_(wanted))).scalars()}
    for key, name in wanted.items():
        if key not in found:
            found[key] = Tag(name=name, name_key=key)
            db.add(found[key])
    return [found[key] for key in wanted]


def _check_company(db: Session, party: Party | None, company_id: int | None) -> None:
    if company_id is None:
        return
    company = db.get(Party, company_id)
    if company is None or company.kind != "company" or not company.active:
        raise KontorError(gettext("Choose an active company."), field="company_id", status=422)
    if party is not None and company.id == party.id:
        raise KontorError(gettext("A party cannot belong to itself."), field="company_id", status=422)


def _apply(db: Session, party: Party, data: dict[str, Any]) -> None:
    company_id = data.get("company_id", party.company_id)
    if data.get("kind", party.kind) == "company" and company_id is not None:
        raise KontorError(gettext("Only a person belongs to a company."), field="company_id", status=422)
    if company_id != party.company_id:
        _check_company(db, party, company_id)
    tags = data.pop("tags", None)
    for key, value in data.items():
        setattr(party, key, value)
    if "name" in data:
        party.name_key = name_key(party.name)
    if tags is not None:
        party.tags = tags_named(db, tags)


def create_party(db: Session, data: dict[str, Any]) -> Party:
    """Validate ``data`` (see :class:`PartySchema`) and add a new party; raises on bad input.

    Tags are given by name and created on demand. ``companies`` (ids) restricts the party to those
    companies of the group; by default the whole group shares it.
    """
    clean = load(PartySchema(), data)
    companies = clean.pop("company_ids", None)
    party = Party(name=clean["name"], name_key=name_key(clean["name"]))
    _apply(db, party, clean)
    db.add(party)
    db.flush()
    if companies:
        set_party_companies(db, party, companies)
    return party


def update_party(db: Session, party: Party, data: dict[str, Any], *, partial: bool = True) -> Party:
    """Validate ``data`` and change ``party``; with ``partial`` only the fields given change.

    ``companies`` changes the companies the party is restricted to (empty: the whole group) when
    given; left out, they stay.
    """
    clean = load(PartySchema(), data, partial=partial)
    companies = clean.pop("company_ids", None)
    if partial:
        clean = {key: value for key, value in clean.items() if key in data}
    _apply(db, party, clean)
    db.flush()
    if companies is not None:
        set_party_companies(db, party, companies)
    return party


def set_party_companies(db: Session, party: Party, company_ids: Iterable[int]) -> None:
    """Restrict ``party`` to the companies ``company_ids`` of the group (empty: shared by the whole
    group, the default). Each must be a company of the group; the change is audited.

    A restricted party is seen only where one of its companies is in scope (the core's parties
    record rule), on every path.
    """
    from core.company.models import Company, party_companies

    wanted = sorted({int(c) for c in company_ids})
    known = set(db.execute(select(Company.id).where(Company.id.in_(wanted))).scalars())
    if set(wanted) - known:
        raise KontorError(gettext("Choose companies of the group."), field="companies", status=422)
    before = sorted(db.execute(select(party_companies.c.company_id)
                               .where(party_companies.c.party_id == party.id)).scalars())
    if before == wanted:
        return
    db.execute(party_companies.delete().where(party_companies.c.party_id == party.id))
    if wanted:
        db.execute(party_companies.insert(), [{"party_id": party.id, "company_id": c} for c in wanted])
    db.expire(party, ["restricted_to"])
    record_event(db, "core.party.companies", table_name="core_party", record_id=party.id,
                 changes={"companies": [before, wanted]})


def restricted_party_condition(companies: Iterable[int], *, entity=Party):
    """The parties visible where ``companies`` are in scope: those shared by the group (no company
    named) and those restricted to one of ``companies``."""
    from core.company.models import party_companies

    restricted = party_companies.c.party_id == entity.id
    return or_(~exists().where(restricted),
               exists().where(restricted, party_companies.c.company_id.in_(list(companies))))


def search_condition(q: str):
    """Rows whose name, email, VAT id or city contain ``q``, ignoring case."""
    q = q.strip()
    found = Party.search_text.contains(q.casefold(), autoescape=True)
    vat = normalise_vat_id(q).casefold()
    if vat and vat != q.casefold():  # "DK 1234 5678" finds DK12345678
        found = or_(found, Party.search_text.contains(vat, autoescape=True))
    return found


def parties_query(*, q: str = "", kind: str = "", tag: str = "", country: str = "", active: str = "1") -> Select:
    """The parties matching a search and filters (``active``: "1", "0" or "all")."""
    stmt = select(Party)
    if active in ("1", "0"):
        stmt = stmt.where(Party.active == (active == "1"))
    if q.strip():
        stmt = stmt.where(search_condition(q))
    if kind:
        stmt = stmt.where(Party.kind == kind)
    if country:
        stmt = stmt.where(Party.country == country.upper())
    if tag:
        stmt = stmt.where(exists().where(party_tags.c.party_id == Party.id, party_tags.c.tag_id == Tag.id,
                                         Tag.name_key == tag_key(tag)))
    return stmt


def list_parties(db: Session, *, q: str = "", sort: str = "name", after: str | None = None, limit: int = 25,
                 kind: str = "", tag: str = "", country: str = "", active: str = "1") -> Page:
    """One keyset page of parties, sorted by name, created or city (``-`` for descending)."""
    filters = {"kind": kind, "tag": tag, "country": country, "active": "" if active == "1" else active}
    stmt = parties_query(q=q, kind=kind, tag=tag, country=country, active=active)
    return keyset_page(db, stmt, sort_keys=SORT_KEYS, id_column=Party.id, sort=sort, cursor=after,
                       size=limit, query=q, filters={k: v for k, v in filters.items() if v})


def search_parties(db: Session, q: str, *, limit: int = 20, kind: str = "") -> list[Party]:
    """Active parties whose name, email, VAT id or city contain ``q``, by name."""
    stmt = parties_query(q=q, kind=kind).order_by(Party.name_key, Party.id).limit(limit)
    return list(db.execute(stmt).scalars())


def people_of(db: Session, company: Party) -> list[Party]:
    """The active people who belong to ``company``, by name."""
    stmt = select(Party).where(Party.company_id == company.id, Party.active == true()).order_by(Party.name_key, Party.id)
    return list(db.execute(stmt).scalars())


def overview(db: Session, *, newest: int = 5, countries: int = 6) -> dict[str, Any]:
    """Counts of active companies and people, the parties per country, and the newest parties."""
    active = Party.active == true()
    kinds = dict(db.execute(select(Party.kind, func.count()).where(active).group_by(Party.kind)).all())
    per_country = db.execute(
        select(Party.country, func.count().label("n")).where(active, Party.country != "")
        .group_by(Party.country).order_by(func.count().desc(), Party.country).limit(countries)
    ).all()
    latest = db.execute(select(Party).where(active).order_by(Party.created_at.desc(), Party.id.desc()).limit(newest))
    return {
        "companies": kinds.get("company", 0),
        "people": kinds.get("person", 0),
        "per_country": [(row.country, row.n) for row in per_country],
        "newest": list(latest.scalars()),
    }


def all_tags(db: Session) -> list[Tag]:
    """Every tag, by name."""
    return list(db.execute(select(Tag).order_by(Tag.name)).scalars())


def find_duplicates(db: Session, party: Party, *, limit: int = 20) -> list[Party]:
    """Other active parties that are likely the same: same email, VAT id or name (ignoring case)."""
    same = [Party.name_key == party.name_key]
    if party.email:
        same.append(func.lower(Party.email) == party.email.lower())
    if party.vat_id:
        same.append(Party.vat_id == party.vat_id)
    stmt = (select(Party).where(Party.id != party.id, Party.active == true(), Party.kind == party.kind, or_(*same))
            .order_by(Party.name_key, Party.id).limit(limit))
    return list(db.execute(stmt).scalars())


def merge_parties(db: Session, source: Party, target: Party,
                  on_merging: Callable[..., Any] | None = None) -> Party:
    """Merge the duplicate ``source`` into ``target`` and retire ``source``; returns ``target``.

    ``on_merging(source=, target=, session=)`` lets modules repoint their references first (pass
    the plugin manager's ``party_merging`` hook). Then people of ``source`` move to ``target``,
    tags are joined, empty fields of ``target`` are filled from ``source``, and ``source`` becomes
    inactive with ``merged_into_id`` set. Every change is audited; a raising hook changes nothing
    (the caller rolls back).
    """
    _check_mergeable(source, target)
    if on_merging is not None:
        on_merging(source=source, target=target, session=db)
    for person in db.execute(select(Party).where(Party.company_id == source.id)).scalars():
        person.company_id = target.id
    for earlier in db.execute(select(Party).where(Party.merged_into_id == source.id)).scalars():
        earlier.merged_into_id = target.id
    known = {tag.id for tag in target.tags}
    target.tags = list(target.tags) + [tag for tag in source.tags if tag.id not in known]
    for key in MERGE_FILLS:
        if not getattr(target, key) and getattr(source, key):
            setattr(target, key, getattr(source, key))
    if not any(getattr(target, key) for key in ADDRESS):
        for key in ADDRESS:
            setattr(target, key, getattr(source, key))
    source.active = False
    source.merged_into_id = target.id
    db.flush()
    record_event(db, "core.party.merged", table_name="core_party", record_id=source.id,
                 changes={"merged_into_id": [None, target.id], "source": source.name, "target": target.name})
    return target


def _check_mergeable(source: Party, target: Party) -> None:
    if source.id == target.id:
        raise KontorError(gettext("A party cannot be merged into itself."), field="into", status=422)
    if not source.active or source.merged_into_id is not None:
        raise KontorError(gettext("This party is no longer active."), field="into", status=409)
    if not target.active:
        raise KontorError(gettext("Choose an active party to keep."), field="into", status=422)
    if source.kind != target.kind:
        raise KontorError(gettext("A company merges only into a company, a person only into a person."),
                          field="into", status=422)


def bulk_create_parties(db: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many parties at once (data loaders, benchmarks); returns their ids in order.

    Each row is validated like :func:`create_party` (tags are not taken here), then all rows go
    in one executemany INSERT, without building ORM objects. Because that bypasses the ORM flush
    the audit log listens to, one audit record per party (an ``insert`` with every column's value,
    the same shape as the automatic ones) is written in bulk through ``write_records``: the audit
    stays complete. Give a few thousand rows per call.
    """
    if not rows:
        return []
    schema = PartySchema()
    now = utcnow()
    values = []
    for index, row in enumerate(rows):
        try:
            clean = load(schema, row)
        except KontorError as exc:
            raise KontorError(f"row {index}: {exc.message}", field=exc.field, status=422) from None
        clean.pop("tags", None)
        clean.pop("company_ids", None)
        clean.update(name_key=name_key(clean["name"]), merged_into_id=None, created_at=now, updated_at=now,
                     search_text=search_text(clean["name"], clean.get("email"), clean.get("vat_id"), clean.get("city")))
        values.append(clean)
    ids = _reserve_ids(db, len(values))
    for pk, row in zip(ids, values):
        row["id"] = pk
    db.execute(insert(Party.__table__), values)
    write_records(db, [
        {"action": "insert", "table_name": "core_party", "record_id": pk,
         "changes": {key: [None, value] for key, value in row.items() if key not in Party.__audit_exclude__}}
        for pk, row in zip(ids, values)
    ])
    return ids


def _reserve_ids(db: Session, count: int) -> list[int]:
    """``count`` new party ids, taken before the insert so it needs no RETURNING round trips."""
    if db.get_bind().dialect.name == "postgresql":
        stmt = text("SELECT nextval(pg_get_serial_sequence('core_party', 'id')) FROM generate_series(1, :n)")
        return sorted(db.execute(stmt, {"n": count}).scalars())
    # SQLite: the write lock is held from here to the insert, so max(id) cannot move meanwhile
    start = db.execute(select(func.coalesce(func.max(Party.id), 0))).scalar_one() + 1
    return list(range(start, start + count))
