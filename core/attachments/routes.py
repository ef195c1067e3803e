"""The Attachments panel of a record page: list, upload, download and delete (thin views over the services)."""
from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from core.attachments import services
from core.attachments.registry import attachables
from core.db import session as db
from core.errors import KontorError
from core.i18n import gettext as _
from core.security import signed_in
from core.filestore import storage
from core.filestore.download import send_stored
from core.web.shell import is_partial_request, render
from core.web.transaction import redirect_to, transaction

# Each view checks the record's own read or write permission in the services: the permission
# depends on the kind of record, so the views are declared for any signed-in user.
bp = Blueprint("attachments", __name__, url_prefix="/attachments")


def _panel(target: services.Target, errors: dict | None = None, status: int = 200):
    html = render("attachments/page.html", "attachments/_panel.html", target=target,
                  attachments=services.list_attachments(db, target), errors=errors or {},
                  max_size=services.human_size(current_app.config["ATTACHMENT_MAX_SIZE"]),
                  title=_("Attachments"))
    return html, status


def _upload() -> tuple[bytes, str]:
    """The uploaded file's bytes (read up to one byte past the limit) and its name."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return b"", ""
    return upload.stream.read(current_app.config["ATTACHMENT_MAX_SIZE"] + 1), upload.filename


@bp.get("/<kind>/<int:record_id>")
@signed_in
def panel(kind: str, record_id: int):
    return _panel(services.find_target(db, attachables(), kind, record_id))


@bp.post("/<kind>/<int:record_id>")
@signed_in
def upload(kind: str, record_id: int):
    target = services.find_target(db, attachables(), kind, record_id)
    data, filename = _upload()

    def refused(exc: KontorError):
        if exc.status in (403, 404):
            raise exc  # not the input's fault: the error page
        return _panel(target, exc.as_errors(), 422)  # the panel, with the error beside the field

    with transaction(on_refusal=refused):
        if not filename:
            raise KontorError(_("Choose a file to attach."), field="file")
        services.attach(db, target, data, filename, max_size=current_app.config["ATTACHMENT_MAX_SIZE"])
    if is_partial_request():
        return _panel(target)
    return redirect_to(url_for("attachments.panel", kind=kind, record_id=record_id))


@bp.get("/<int:attachment_id>/download")
@signed_in
def download(attachment_id: int):
    attachment, _target = services.get_attachment(db, attachables(), attachment_id)
    return send_stored(storage(), attachment.key, attachment.filename, attachment.content_type, attachment.size)


@bp.post("/<int:attachment_id>/delete")
@signed_in
def delete(attachment_id: int):
    attachment, target = services.get_attachment(db, attachables(), attachment_id)
    with transaction():
        services.remove(db, target, attachment)
    if is_partial_request():
        return _panel(target)
    return redirect_to(url_for("attachments.panel", kind=target.kind, record_id=target.record_id))
