"""JSON endpoints of attachments under /api/v1/attachments (the same services as the panel).

Upload is ``multipart/form-data`` with the fields ``record`` (``crm.ticket:5``) and ``file``.
"""
from __future__ import annotations

from flask import Blueprint, current_app, request
from marshmallow import fields

from core.api.base import API_PREFIX, ApiError, documented, json_response, load_query
from core.api.schema import Schema
from core.attachments import services
from core.attachments.registry import attachables
from core.db import session as db
from core.i18n import gettext as _
from core.security import signed_in
from core.filestore import storage
from core.filestore.download import send_stored
from core.web.transaction import transaction

bp = Blueprint("api_attachments", __name__, url_prefix=f"{API_PREFIX}/attachments")


class AttachmentSchema(Schema):
    """An attachment as the API shows it (the file itself is at ``/api/v1/attachments/<id>/content``)."""

    id = fields.Integer(dump_only=True)
    record = fields.String(dump_only=True, metadata={"description": "The record, as kind:id (crm.ticket:5)."})
    filename = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True, metadata={"description": "Read from the bytes, not from the upload."})
    size = fields.Integer(dump_only=True)
    sha256 = fields.String(dump_only=True)
    uploaded_by = fields.Function(lambda a: a.uploaded_by.username if a.uploaded_by else None, dump_only=True)
    uploaded_at = fields.DateTime(dump_only=True)


class RecordQuerySchema(Schema):
    """The record whose attachments are listed."""

    record = fields.String(required=True, metadata={"description": "kind:id, e.g. crm.ticket:5"})


schema = AttachmentSchema()


def _target(reference: str):
    kind, record_id = services.parse_reference(reference)
    return services.find_target(db, attachables(), kind, record_id)


@bp.get("")
@signed_in
@documented("List a record's attachments (needs the record's read permission)", response=AttachmentSchema,
            many=True, query=RecordQuerySchema)
def list_attachments():
    target = _target(load_query(RecordQuerySchema())["record"])
    return json_response({"items": schema.dump(services.list_attachments(db, target), many=True)})


@bp.post("")
@signed_in
@documented("Attach a file to a record: multipart/form-data with record (kind:id) and file (needs the record's "
            "write permission)", response=AttachmentSchema, status=201)
def upload():
    upload = request.files.get("file")
    reference = request.form.get("record", "")
    errors = {}
    if not reference:
        errors["record"] = [_("Name a record as kind:id, e.g. crm.ticket:5.")]
    if upload is None or not upload.filename:
        errors["file"] = [_("Send the file as the multipart field file.")]
    if errors:
        raise ApiError(422, "Validation failed", "Some fields are invalid.", errors)
    target = _target(reference)
    data = upload.stream.read(current_app.config["ATTACHMENT_MAX_SIZE"] + 1)
    with transaction():
        attachment = services.attach(db, target, data, upload.filename,
                                     max_size=current_app.config["ATTACHMENT_MAX_SIZE"])
    return json_response(schema.dump(attachment), 201)


@bp.get("/<int:attachment_id>")
@signed_in
@documented("Get an attachment's details", response=AttachmentSchema)
def get_attachment(attachment_id: int):
    attachment, _target = services.get_attachment(db, attachables(), attachment_id)
    return json_response(schema.dump(attachment))


@bp.get("/<int:attachment_id>/content")
@signed_in
@documented("Download an attachment's file (as an attachment, with the content type read from its bytes)")
def content(attachment_id: int):
    attachment, _target = services.get_attachment(db, attachables(), attachment_id)
    return send_stored(storage(), attachment.key, attachment.filename, attachment.content_type, attachment.size)


@bp.delete("/<int:attachment_id>")
@signed_in
@documented("Delete an attachment (needs the record's write permission)", status=204)
def delete(attachment_id: int):
    attachment, target = services.get_attachment(db, attachables(), attachment_id)
    with transaction():
        services.remove(db, target, attachment)
    return "", 204
