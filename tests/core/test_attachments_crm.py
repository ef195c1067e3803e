"""Attachments on the CRM's and accounting's record pages, and end to end with an S3 store.

1. A service agent attaches a photo to a ticket: the ticket page shows the panel, the file comes
   back as it went in; with ``KONTOR_STORAGE_URL`` naming a bucket, the bytes are in the bucket.
2. A ticket of another company is not found, nor are its files.
3. Every module registers its record kinds with the permissions of those records.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.attachments.models import Attachment
from core.testing import factories
from plugins.crm.testing import add_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def modules():
    return ("crm", "accounting")


@pytest.fixture(params=["folder", "s3"])
def storage_backend(request, settings):
    """The test's settings with files in a folder or in a bucket of a real S3 server (asked for before
    the app, which reads them once)."""
    if request.param == "s3":
        settings["STORAGE_URL"] = request.getfixturevalue("s3_storage_url")
    return request.param


@pytest.fixture
def agent(storage_backend, client_with):
    return client_with(permissions=["crm.ticket.read", "crm.ticket.write"])


def test_a_photo_attached_to_a_ticket_comes_back_whole(storage_backend, app, agent, s3_server_if_used):
    ticket_id = add_ticket(app, subject="Dented pallet", contact_email="mette@example.com")
    page = agent.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    assert f'hx-get="/attachments/crm.ticket/{ticket_id}"' in page
    answer = agent.htmx("POST", f"/attachments/crm.ticket/{ticket_id}",
                        data={"file": (io.BytesIO(PNG), "pallet.png", "image/png")})
    assert answer.status_code == 200 and "pallet.png" in answer.get_data(as_text=True)
    with app.app_context():
        from core.db import session

        attachment = session.scalars(select(Attachment)).one()
        key, attachment_id = attachment.key, attachment.id
    download = agent.get(f"/attachments/{attachment_id}/download")
    assert download.data == PNG and download.headers["Content-Type"] == "image/png"
    if storage_backend == "s3":
        server, prefix = s3_server_if_used
        body = server.client().get_object(Bucket=server.bucket, Key=f"{prefix}/{key}")["Body"].read()
        assert body == PNG


@pytest.fixture
def s3_server_if_used(storage_backend, settings, request):
    """The S3 server and the test's key prefix, when the test stores in S3."""
    if storage_backend != "s3":
        return None
    from urllib.parse import urlsplit

    return request.getfixturevalue("s3_server"), urlsplit(settings["STORAGE_URL"]).path.split("/", 2)[2]


def test_another_companys_ticket_and_its_files_are_not_found(app, client_with):
    from core import in_company
    from core.db import session

    with app.app_context():
        other = factories.group_company(session)
        session.commit()
        other_id = other.id
    with app.app_context(), in_company(other_id):
        from plugins.crm.tickets.services import create_ticket

        theirs = create_ticket(session, {"subject": "Theirs", "contact_email": "ole@example.com"})
        session.flush()
        session.add(Attachment(record_kind="crm.ticket", record_id=theirs.id, key="attachments/2026/12/theirs",
                               filename="theirs.png", content_type="image/png", size=1, sha256="0" * 64))
        session.flush()
        theirs_id, file_id = theirs.id, session.scalar(select(Attachment.id))
        session.commit()
    agent = client_with(permissions=["crm.ticket.read", "crm.ticket.write"])
    assert agent.get(f"/attachments/crm.ticket/{theirs_id}").status_code == 404
    assert agent.get(f"/attachments/{file_id}/download").status_code == 404
    upload = agent.htmx("POST", f"/attachments/crm.ticket/{theirs_id}", data={"file": (io.BytesIO(PNG), "x.png")})
    assert upload.status_code == 404


def test_the_modules_register_their_record_kinds(app):
    from core.attachments.registry import attachables

    with app.app_context():
        found = {kind: (a.model.__tablename__, a.read_permission, a.write_permission)
                 for kind, a in attachables().items()}
    assert found == {
        "core.party": ("core_party", "core.party.read", "core.party.write"),
        "crm.ticket": ("crm_ticket", "crm.ticket.read", "crm.ticket.write"),
        "crm.lead": ("crm_lead", "crm.lead.read", "crm.lead.write"),
        "crm.opportunity": ("crm_opportunity", "crm.opportunity.read", "crm.opportunity.write"),
        "accounting.invoice": ("accounting_invoice", "accounting.invoice.read", "accounting.invoice.write"),
    }
