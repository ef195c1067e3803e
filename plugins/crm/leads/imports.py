"""Importing leads from CSV: guess the column mapping, check every row, then insert in bulk.

The same functions serve the import pages (through a background job: :func:`plan_upload`, then
:func:`import_upload`), ``kontor crm import-leads`` and the benchmark.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from marshmallow import ValidationError
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from core import (CsvFile, current_company_id, gettext as _, KontorError, lazy_gettext as _l, map_rows, NotFound, Party, read_csv,
                  tags_named, User, utcnow, write_records)

from plugins.crm.leads import services
from plugins.crm.leads.matching import NameIndex, derived_columns, normalise_name
from plugins.crm.leads.models import Lead, LeadUpload, lead_tags
from plugins.crm.leads.models import STATUS_LABELS
from plugins.crm.leads.schemas import OPEN_STATUSES, LeadSchema

#: The lead fields a CSV column can fill, with their labels.
FIELDS = {
    "name": _l("Name"),
    "company_name": _l("Company"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "vat_id": _l("VAT id"),
    "source": _l("Source"),
    "status": _l("Status"),
    "owner": _l("Owner (user name)"),
    "tags": _l("Tags"),
    "notes": _l("Notes"),
}

# Header names (casefolded, in the platform's languages) each field is guessed from.
HEADER_GUESSES = {
    "name": ("name", "full name", "contact", "contact name", "contact person", "person", "navn", "kontaktperson",
             "imię i nazwisko", "nimi", "namn", "ansprechpartner"),
    "company_name": ("company", "company name", "organisation", "organization", "account", "firma", "virksomhed",
                     "firmanavn", "yritys", "företag", "unternehmen", "nazwa firmy"),
    "email": ("email", "e-mail", "mail", "email address", "e-mail address", "e-post", "sähköposti", "adres e-mail"),
    "phone": ("phone", "telephone", "tel", "mobile", "phone number", "telefon", "puhelin", "telefonnummer"),
    "vat_id": ("vat", "vat id", "vat number", "vat no", "cvr", "ust-idnr", "ustid", "nip", "y-tunnus",
               "momsnummer", "moms nr"),
    "source": ("source", "lead source", "kilde", "quelle", "źródło", "lähde", "källa"),
    "status": ("status", "lead status"),
    "owner": ("owner", "salesperson", "sales rep", "sælger", "verkäufer", "säljare", "myyjä"),
    "tags": ("tags", "tag", "labels", "etiketter", "schlagworte", "tagi"),
    "notes": ("notes", "note", "comment", "comments", "description", "bemærkninger", "notizen", "uwagi",
              "huomautukset", "anteckningar"),
}

CHUNK = 1000
#: Leads an import job inserts between two progress reports (each a commit it resumes from).
JOB_CHUNK = 200
#: The rows with problems an upload's plan keeps to show (the count is always complete).
MAX_PROBLEMS = 1000
#: How long an uploaded file waits between the import steps.
UPLOAD_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class RowProblem:
    """Why the row on ``line`` of the file cannot become a lead."""

    line: int
    field: str
    message: str


@dataclass
class ImportCheck:
    """A checked file: the rows that would become leads, the bad rows, and the possible duplicates."""

    total: int
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: dict[int, list[str]] = field(default_factory=dict)

    @property
    def bad_lines(self) -> list[int]:
        """The line numbers of rows with a problem."""
        return sorted({p.line for p in self.problems})


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    created: int
    skipped_invalid: int
    skipped_duplicates: int


def guess_mapping(csv_file) -> dict[str, str]:
    """A mapping field → header for the headers whose names say which field they hold."""
    return csv_file.guess_mapping(HEADER_GUESSES)


def parse_mapping_options(options: list[str], headers: list[str]) -> dict[str, str]:
    """``field=Header`` options (from the command line) as a mapping, checked against ``headers``."""
    mapping = {}
    for option in options:
        name, sep, header = option.partition("=")
        name, header = name.strip(), header.strip()
        if not sep or name not in FIELDS:
            raise KontorError(_("Map a field as field=Header; the fields are: %(fields)s.",
                                fields=", ".join(FIELDS)), field="map")
        if header not in headers:
            raise KontorError(_("The file has no column %(header)s.", header=header), field="map")
        mapping[name] = header
    return mapping


def check_mapping(mapping: dict[str, str], headers: list[str]) -> dict[str, str]:
    """``mapping`` without the fields left unmapped; refused when the name is unmapped or a column unknown."""
    mapping = {name: header for name, header in mapping.items() if name in FIELDS and header}
    if "name" not in mapping:
        raise KontorError(_("Choose the column that holds the name."), field="name")
    for name, header in mapping.items():
        if header not in headers:
            raise KontorError(_("The file has no column %(header)s.", header=header), field=name)
    return mapping


def _messages(errors: dict) -> list[tuple[str, str]]:
    found = []
    for name, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            found.append((name, str(message)))
    return found


class _Known:
    """The emails, VAT ids and names already in the database (and in the file so far)."""

    def __init__(self, db: Session, user):
        self.emails: dict[str, str] = {}
        self.vat_ids: dict[str, str] = {}
        self.names = NameIndex()
        leads = services.leads_query(user=user).where(Lead.merged_into_id.is_(None))
        for lead_id, name, email_key, vat_id, match_key in db.execute(
                leads.with_only_columns(Lead.id, Lead.name, Lead.email_key, Lead.vat_id, Lead.match_key)):
            self._add(_("lead %(id)s (%(name)s)", id=lead_id, name=name), email_key, vat_id, match_key)
        for party_id, name, email, vat_id in db.execute(
                select(Party.id, Party.name, Party.email, Party.vat_id).where(Party.active.is_(True))):
            self._add(_("party %(name)s", name=name), email.casefold(), vat_id, normalise_name(name))

    def _add(self, label: str, email: str, vat_id: str, key: str) -> None:
        if email:
            self.emails.setdefault(email, label)
        if vat_id:
            self.vat_ids.setdefault(vat_id, label)
        self.names.add(key, label)

    def check_and_add(self, line: int, clean: dict[str, Any]) -> list[str]:
        """What ``clean`` looks like a duplicate of; then it is remembered for later rows."""
        email, vat_id, key = clean["email"].casefold(), clean["vat_id"], clean["match_key"]
        found = []
        if email and email in self.emails:
            found.append(_("same email as %(other)s", other=self.emails[email]))
        if vat_id and vat_id in self.vat_ids:
            found.append(_("same VAT id as %(other)s", other=self.vat_ids[vat_id]))
        similar = self.names.find(key)
        if similar is not None:
            found.append(_("similar name to %(other)s", other=similar))
        self._add(_("line %(line)s", line=line), email, vat_id, key)
        return found


def check_rows(db: Session, rows: list[tuple[int, dict[str, str]]], *, user) -> ImportCheck:
    """Validate mapped rows ``(line, {field: text})`` and look for duplicates of each.

    A row is bad when a field fails validation (as on the lead form), its status or source is not
    one of the known ones, or its owner is not an active user ``user`` may give leads to.
    """
    check = ImportCheck(total=len(rows))
    schema = LeadSchema()
    owners = {u.username.casefold(): u.id for u in db.execute(select(User).where(User.active.is_(True))).scalars()}
    allowed_owners = None if services.sees_all_leads(user) else {user.id}
    known = _Known(db, user)
    for line, raw in rows:
        data = {key: value for key, value in raw.items() if key in FIELDS and key != "owner"}
        data["source"] = (data.get("source") or "import").strip().casefold()
        data["status"] = (data.get("status") or "new").strip().casefold()
        problems = []
        if data["status"] in STATUS_LABELS and data["status"] not in OPEN_STATUSES:
            problems.append(RowProblem(line, "status", _("An imported lead is new or contacted.")))
        owner_id = None
        owner_name = (raw.get("owner") or "").strip()
        if owner_name:
            owner_id = owners.get(owner_name.casefold())
            if owner_id is None or (allowed_owners is not None and owner_id not in allowed_owners):
                problems.append(RowProblem(line, "owner", _("There is no user %(name)s to own the lead.",
                                                            name=owner_name)))
        try:
            clean = schema.load(data)
        except ValidationError as exc:
            problems += [RowProblem(line, name, message) for name, message in _messages(exc.messages)]
        if problems:
            check.problems.extend(problems)
            continue
        clean["owner_id"] = owner_id
        clean["match_key"] = normalise_name(clean["company_name"] or clean["name"])[:200]
        duplicates = known.check_and_add(line, clean)
        if duplicates:
            check.duplicates[line] = duplicates
        check.rows.append((line, clean))
    return check


def import_checked(db: Session, check: ImportCheck, *, user, owner_id: int | None = None, valid_only: bool = False,
                   skip_duplicates: bool = False, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Insert the valid rows of ``check`` as leads, in bulk; audited like any other change.

    Nothing is imported from a file with bad rows unless ``valid_only``. Rows without an owner of
    their own get ``owner_id`` (for a salesperson who sees only their own leads: themselves).
    Possible duplicates are imported too unless ``skip_duplicates``.
    """
    if check.problems and not valid_only:
        raise KontorError(_("%(count)s rows have problems; nothing was imported.", count=len(check.bad_lines)),
                          field="valid_only", status=422)
    default_owner = services.check_owner(db, owner_id, user=user) if user is not None else owner_id
    rows = [(line, row) for line, row in check.rows if not (skip_duplicates and line in check.duplicates)]
    tag_ids = {tag.name.casefold(): tag.id for tag in _tags_for(db, rows)}
    created = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        created += _insert_chunk(db, chunk, default_owner, tag_ids)
        if progress is not None:
            progress(len(chunk))
    return ImportResult(created, len(check.bad_lines), len(check.rows) - len(rows))


def plan_upload(db: Session, upload: LeadUpload, *, user, valid_only: bool = False,
                skip_duplicates: bool = False) -> dict[str, Any]:
    """Check ``upload`` once and fix which of its lines its import inserts (the upload's plan).

    Refused, like :func:`import_checked`, when rows have problems and not ``valid_only``. Once
    fixed, the plan stays: importing leads changes what looks like a duplicate, and a job that
    runs again must insert the same lines as the first.
    """
    if upload.plan is not None:
        return upload.plan
    check = check_file(db, upload.content, upload_mapping(upload), user=user)
    if check.problems and not valid_only:
        raise KontorError(_("%(count)s rows have problems; nothing was imported.", count=len(check.bad_lines)),
                          field="valid_only", status=422)
    lines = [line for line, _row in check.rows if not (skip_duplicates and line in check.duplicates)]
    upload.plan = {"lines": lines, "total": check.total, "skipped_invalid": len(check.bad_lines),
                   "skipped_duplicates": len(check.rows) - len(lines),
                   "problems": [[p.line, p.field, str(p.message)] for p in check.problems[:MAX_PROBLEMS]]}
    upload.done = upload.created = 0
    db.flush()
    return upload.plan


def import_upload(db: Session, upload: LeadUpload, *, user, owner_id: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Insert the planned lines of ``upload`` (see :func:`plan_upload`) that are not imported yet.

    Works in chunks of :data:`JOB_CHUNK` and counts each chunk on the upload in the same
    transaction as its leads; ``progress(done, total)`` after each chunk is where the caller commits
    (a job's progress does). Run again, it resumes after the last committed chunk, and once the
    upload is finished it inserts nothing.
    """
    plan = upload.plan
    if plan is None:
        raise KontorError(_("Check the file before importing it."), field="file", status=409)
    lines = plan["lines"]
    if upload.finished_at is None and upload.done < len(lines):
        default_owner = services.check_owner(db, owner_id, user=user) if user is not None else owner_id
        rows = dict(check_file(db, upload.content, upload_mapping(upload), user=user).rows)
        while upload.done < len(lines):
            chunk = [(line, rows[line]) for line in lines[upload.done:upload.done + JOB_CHUNK] if line in rows]
            if chunk:
                upload.created += _insert_chunk(db, chunk, default_owner,
                                                {t.name.casefold(): t.id for t in _tags_for(db, chunk)})
            upload.done = min(len(lines), upload.done + JOB_CHUNK)
            db.flush()
            if progress is not None:
                progress(upload.done, len(lines))
    if upload.finished_at is None:
        upload.finished_at, upload.content = utcnow(), b""  # the file has served its purpose
        db.flush()
    return upload_result(upload)


def upload_result(upload: LeadUpload) -> ImportResult:
    """What the import of ``upload`` did so far."""
    plan = upload.plan or {}
    return ImportResult(upload.created, plan.get("skipped_invalid", 0), plan.get("skipped_duplicates", 0))


def upload_problems(upload: LeadUpload) -> list[RowProblem]:
    """The rows of ``upload`` left out for a problem (at most :data:`MAX_PROBLEMS`)."""
    return [RowProblem(line, name, message) for line, name, message in (upload.plan or {}).get("problems", [])]


def _tags_for(db: Session, rows: list[tuple[int, dict[str, Any]]]):
    names = {}
    for _line, row in rows:
        for name in row["tags"]:
            names.setdefault(name.casefold(), name)
    tags = tags_named(db, names.values())
    db.flush()
    return tags


def _insert_chunk(db: Session, chunk: list[tuple[int, dict[str, Any]]], default_owner: int | None,
                  tag_ids: dict[str, int]) -> int:
    now = utcnow()
    company_id = current_company_id(db)  # a bulk insert bypasses the flush that gives new leads their company
    values = []
    for _line, row in chunk:
        value = {key: row[key] for key in ("name", "company_name", "email", "phone", "vat_id", "source", "status",
                                           "notes")}
        value.update(owner_id=row["owner_id"] or default_owner, created_at=now, updated_at=now, company_id=company_id,
                     disqualify_reason="", campaign_id=None, party_id=None, merged_into_id=None, converted_at=None,
                     **derived_columns(row["name"], row["company_name"], row["email"],
                                       match_key=row.get("match_key")))
        values.append(value)
    ids = _reserve_ids(db, len(values))
    for pk, value in zip(ids, values):
        value["id"] = pk
    db.execute(insert(Lead.__table__), values)
    links = [{"lead_id": pk, "tag_id": tag_ids[name.casefold()]}
             for pk, (_line, row) in zip(ids, chunk) for name in row["tags"]]
    if links:
        db.execute(insert(lead_tags), links)
    # a bulk insert bypasses the ORM flush the audit log listens to: write the same records here
    audited = [key for key in values[0] if key not in Lead.__audit_exclude__ and key != "id"]
    write_records(db, [
        {"action": "insert", "module": "crm", "table_name": "crm_lead", "record_id": pk,
         "changes": {**{key: [None, value[key]] for key in audited},
                     "tags": [None, sorted(row["tags"], key=str.casefold)]}}
        for pk, value, (_line, row) in zip(ids, values, chunk)
    ])
    return len(ids)


def _reserve_ids(db: Session, count: int) -> list[int]:
    """``count`` new lead ids, taken before the insert so that it is one plain executemany."""
    if db.get_bind().dialect.name == "postgresql":
        stmt = text("SELECT nextval(pg_get_serial_sequence('crm_lead', 'id')) FROM generate_series(1, :n)")
        return sorted(db.execute(stmt, {"n": count}).scalars())
    # SQLite: the write lock is held from here to the insert, so max(id) cannot move meanwhile
    # (over the table itself: ids are taken among every company's leads)
    start = db.execute(select(func.coalesce(func.max(Lead.__table__.c.id), 0))).scalar_one() + 1
    return list(range(start, start + count))


# -- The uploaded file between the steps of the import pages --


def store_upload(db: Session, content: bytes, filename: str, *, user) -> LeadUpload:
    """Keep an uploaded file for the next steps (and drop uploads older than a day)."""
    db.execute(delete(LeadUpload).where(LeadUpload.created_at < utcnow() - UPLOAD_LIFETIME))
    upload = LeadUpload(token=secrets.token_hex(16), user_id=user.id, filename=filename[:200], content=content)
    db.add(upload)
    db.flush()
    return upload


def get_upload(db: Session, token: str, *, user) -> LeadUpload:
    """The upload ``token`` of ``user``; :class:`core.NotFound` when it is not theirs or has expired."""
    upload = db.execute(select(LeadUpload).where(LeadUpload.token == token)).scalar_one_or_none()
    if upload is None or upload.user_id != user.id or upload.created_at < utcnow() - UPLOAD_LIFETIME:
        raise NotFound(_("This upload has expired; upload the file again."))
    return upload


def upload_mapping(upload: LeadUpload) -> dict[str, str]:
    """The column mapping chosen for ``upload`` (empty until chosen)."""
    return json.loads(upload.mapping) if upload.mapping else {}


def set_upload_mapping(upload: LeadUpload, mapping: dict[str, str]) -> None:
    """Remember the column mapping chosen for ``upload``."""
    upload.mapping = json.dumps(mapping)


def read_file(content: bytes) -> CsvFile:
    """The CSV file in ``content``; refused (field ``file``) when it cannot be read or holds no leads."""
    csv_file = read_csv(content)
    if not csv_file.rows:
        raise KontorError(_("The file has a header row but no leads."), field="file")
    return csv_file


def check_file(db: Session, content: bytes, mapping: dict[str, str], *, user) -> ImportCheck:
    """Read, map and check a CSV file in one go."""
    csv_file = read_file(content)
    return check_rows(db, map_rows(csv_file, check_mapping(mapping, csv_file.headers)), user=user)

