"""Attachments: list, add and remove the files of a record, by the record's own permissions.

A record is reached only through ``session.get(model, id)``, so the company scope and the record
rules decide whether it exists for the actor; an attachment of a record the actor cannot read is
not found either. The bytes go to the storage service before the row is committed (and are
removed again if the transaction rolls back); a removed attachment's bytes go after the commit.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import current_actor
from core.attachments.models import Attachment
from core.attachments.sniff import sniff
from core.contrib import Attachable
from core.errors import Forbidden, InvalidInput, NotFound
from core.i18n import gettext as _
from core.i18n import number
from core.security import has_permission
from core.filestore import delete_after_commit, delete_on_rollback, new_key, storage

#: ``crm.ticket:5``: a record as the API names it.
RECORD_REFERENCE = re.compile(r"^([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*):([1-9][0-9]{0,9})$")
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Target:
    """A record that takes attachments, loaded for the actor, with what may be done to it."""

    attachable: Attachable
    record: Any

    @property
    def kind(self) -> str:
        return self.attachable.kind

    @property
    def record_id(self) -> int:
        return self.record.id

    @property
    def can_write(self) -> bool:
        """Whether the actor may upload and delete the record's files."""
        return has_permission(self.attachable.write_permission)


def parse_reference(reference: str, field: str = "record") -> tuple[str, int]:
    """``("crm.ticket", 5)`` from ``"crm.ticket:5"``; :class:`InvalidInput` naming ``field`` otherwise."""
    match = RECORD_REFERENCE.match(reference or "")
    if not match or int(match.group(2)) > MAX_ID:
        raise InvalidInput(_("Name a record as kind:id, e.g. crm.ticket:5."), field=field)
    return match.group(1), int(match.group(2))


def find_target(db: Session, attachables: Mapping[str, Attachable], kind: str, record_id: int) -> Target:
    """The record ``kind`` ``record_id`` if the actor may read it and its files.

    :class:`NotFound` for a kind that takes no attachments or a record the actor cannot see (another
    company's, one a record rule hides); :class:`Forbidden` without the kind's read permission.
    """
    attachable = attachables.get(kind)
    if attachable is None:
        raise NotFound(_("Records of kind %(kind)s take no attachments.", kind=kind))
    if not has_permission(attachable.read_permission):
        raise Forbidden(_("You may not see the files of this record."))
    record = db.get(attachable.model, record_id) if 0 < record_id <= MAX_ID else None
    if record is None:
        raise NotFound(_("There is no %(kind)s %(id)s.", kind=kind, id=record_id))
    return Target(attachable, record)


def list_attachments(db: Session, target: Target) -> list[Attachment]:
    """The record's attachments, newest first."""
    return list(db.scalars(select(Attachment)
                           .where(Attachment.record_kind == target.kind, Attachment.record_id == target.record_id)
                           .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))


def get_attachment(db: Session, attachables: Mapping[str, Attachable], attachment_id: int) -> tuple[Attachment, Target]:
    """The attachment ``attachment_id`` and its record, if the actor may read that record (else
    :class:`NotFound` or :class:`Forbidden`, as :func:`find_target`)."""
    attachment = db.get(Attachment, attachment_id) if 0 < attachment_id <= MAX_ID else None
    if attachment is None:
        raise NotFound(_("There is no attachment %(id)s.", id=attachment_id))
    return attachment, find_target(db, attachables, attachment.record_kind, attachment.record_id)


def clean_filename(name: str) -> str:
    """The name to show for an uploaded file: its last path segment, without control characters."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip().strip(".")
    return name[:255] or _("file")


def _may_change(target: Target) -> None:
    if not target.can_write:
        raise Forbidden(_("You may not change the files of this record."))


def attach(db: Session, target: Target, data: bytes, filename: str, *, max_size: int, store=None) -> Attachment:
    """Attach ``data`` (a file named ``filename`` by its uploader) to the record.

    Refused, naming ``file``, when empty or larger than ``max_size`` bytes; the content type is
    read from the bytes. The file is stored at once and removed again if the transaction rolls back.
    """
    _may_change(target)
    if not data:
        raise InvalidInput(_("The file is empty."), field="file")
    if len(data) > max_size:
        raise InvalidInput(_("The file is larger than %(size)s, the most an attachment may be.",
                             size=human_size(max_size)), field="file")
    store = store or storage()
    name = clean_filename(filename)
    actor = current_actor()
    attachment = Attachment(record_kind=target.kind, record_id=target.record_id, key=new_key("attachments"),
                            filename=name, content_type=sniff(data, name), size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=getattr(actor, "id", None))
    store.put(attachment.key, data, attachment.content_type)
    delete_on_rollback(db, store, attachment.key)
    db.add(attachment)
    db.flush()
    return attachment


def remove(db: Session, target: Target, attachment: Attachment, store=None) -> None:
    """Delete ``attachment`` (audited); its stored file goes once the deletion is committed."""
    _may_change(target)
    delete_after_commit(db, store or storage(), attachment.key)
    db.delete(attachment)
    db.flush()


def human_size(size: int) -> str:
    """A size for people in their locale: ``10 MiB``, ``1,5 KiB``, ``12 B`` (binary units, one
    decimal below ten)."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = Decimal(size) / factor
            digits = 0 if value >= 10 or value == int(value) else 1
            return f"{number(value.quantize(Decimal(1).scaleb(-digits)), digits)} {unit}"
    return f"{size} B"
