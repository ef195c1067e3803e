"""Attachments on a party's page, through the panel and the API, on SQLite and PostgreSQL.

1. A clerk attaches a signed contract to a party: the panel lists it, the file downloads as it
   was uploaded, as an attachment with the type read from its bytes; the upload is audited.
2. Bad files change nothing: empty, too large (the error beside the field; a 422 naming ``file``).
3. Who may see what: no read permission is a 403, another company's record or file a 404.
4. Deleting removes the row (audited) and, after the commit, the stored file.
"""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import func, select

from core.attachments.models import Attachment
from core.attachments.sniff import sniff
from core.testing import factories

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def party_id(app):
    from core.db import session

    # in an app context of its own: requests made while one is pushed would share its session
    with app.app_context():
        party = factories.party(session, "Nordlys ApS")
        session.commit()
        return party.id


@pytest.fixture
def clerk(client_with):
    return client_with(permissions=["core.party.read", "core.party.write"])


def upload(client, party_id, data, name="contract.pdf", content_type="application/pdf"):
    return client.htmx("POST", f"/attachments/core.party/{party_id}",
                       data={"file": (io.BytesIO(data), name, content_type)})


def stored(app):
    from core.filestore import storage

    with app.app_context():
        return storage().keys("attachments")


def rows(app):
    from core.db import session

    with app.app_context():
        return session.scalars(select(Attachment).order_by(Attachment.id)).all()


def audit_actions(app, table="core_attachment"):
    from core.audit.models import AuditRecord
    from core.db import session

    with app.app_context():
        return session.scalars(select(AuditRecord.action).where(AuditRecord.table_name == table)
                               .order_by(AuditRecord.seq)).all()


def test_a_file_is_attached_listed_downloaded_and_audited(app, clerk, party_id):
    page = clerk.get(f"/parties/{party_id}").get_data(as_text=True)
    assert f'hx-get="/attachments/core.party/{party_id}"' in page  # the panel, loaded lazily

    answer = upload(clerk, party_id, PDF, name="Vertrag – unterschrieben.pdf")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Vertrag – unterschrieben.pdf" in html and 'name="file"' in html

    [attachment] = rows(app)
    assert (attachment.record_kind, attachment.record_id) == ("core.party", party_id)
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.key.startswith("attachments/") and "Vertrag" not in attachment.key
    assert stored(app) == [attachment.key]

    download = clerk.get(f"/attachments/{attachment.id}/download")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Vertrag%20%E2%80%93%20unterschrieben.pdf" in disposition

    listed = clerk.get(f"/attachments/core.party/{party_id}").get_data(as_text=True)
    assert f"/attachments/{attachment.id}/download" in listed
    assert audit_actions(app) == ["insert"]


def test_html_posing_as_an_image_is_stored_and_served_as_what_it_is(app, clerk, party_id):
    assert upload(clerk, party_id, HTML, name="logo.png", content_type="image/png").status_code == 200
    [attachment] = rows(app)
    assert attachment.content_type == "text/html"
    download = clerk.get(f"/attachments/{attachment.id}/download")
    assert download.headers["Content-Type"].startswith("text/html")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_empty_and_too_large_files_are_refused_beside_the_field(app, clerk, party_id):
    app.config["ATTACHMENT_MAX_SIZE"] = 1024
    empty = upload(clerk, party_id, b"")
    assert empty.status_code == 422
    assert re.search(r'<small id="e-file-\d+" class="field-error">The file is empty.</small>', empty.get_data(as_text=True))
    large = upload(clerk, party_id, b"x" * 1025, name="big.txt")
    assert large.status_code == 422
    assert "larger than 1 KiB" in large.get_data(as_text=True)
    assert rows(app) == [] and stored(app) == [] and audit_actions(app) == []


def test_reading_needs_the_records_read_permission_and_changing_its_write(app, client_with, clerk, party_id):
    assert upload(clerk, party_id, PDF).status_code == 200
    [attachment] = rows(app)
    outsider = client_with(permissions=["core.audit.read"])
    assert outsider.get(f"/attachments/core.party/{party_id}").status_code == 403
    assert outsider.get(f"/attachments/{attachment.id}/download").status_code == 403
    reader = client_with(permissions=["core.party.read"])
    panel = reader.get(f"/attachments/core.party/{party_id}").get_data(as_text=True)
    assert "contract.pdf" in panel and 'name="file"' not in panel and "Delete" not in panel
    assert upload(reader, party_id, PDF).status_code == 403
    assert reader.htmx("POST", f"/attachments/{attachment.id}/delete").status_code == 403
    assert len(rows(app)) == 1
    assert clerk.get("/attachments/crm.nothing/1").status_code == 404
    assert clerk.get(f"/attachments/core.party/{party_id + 1000}").status_code == 404


def test_another_companys_record_and_files_are_not_found(app, clerk, party_id):
    from core import in_company
    from core.db import session

    with app.app_context():
        other = factories.group_company(session)
        hidden = factories.party(session, "Only in the other company", companies=[other.id])
        session.commit()
        hidden_id, other_id = hidden.id, other.id
    assert upload(clerk, party_id, PDF).status_code == 200
    with app.app_context():
        with in_company(other_id):  # a file of the other company, on a party both share
            session.add(Attachment(record_kind="core.party", record_id=party_id, key="attachments/2026/12/other",
                                   filename="theirs.pdf", content_type="application/pdf", size=3, sha256="0" * 64))
            session.commit()
            theirs = session.scalar(select(Attachment.id).where(Attachment.filename == "theirs.pdf"))
    assert clerk.get(f"/attachments/core.party/{hidden_id}").status_code == 404
    assert clerk.get(f"/attachments/{theirs}/download").status_code == 404
    assert "theirs.pdf" not in clerk.get(f"/attachments/core.party/{party_id}").get_data(as_text=True)


def test_deleting_removes_the_row_and_then_the_stored_file(app, clerk, party_id):
    assert upload(clerk, party_id, PDF).status_code == 200
    [attachment] = rows(app)
    answer = clerk.htmx("POST", f"/attachments/{attachment.id}/delete")
    assert answer.status_code == 200 and "No files attached." in answer.get_data(as_text=True)
    assert rows(app) == [] and stored(app) == []
    assert audit_actions(app) == ["insert", "delete"]
    assert clerk.get(f"/attachments/{attachment.id}/download").status_code == 404


def test_an_upload_whose_transaction_fails_leaves_no_stored_file(app, party_id):
    from core import acting_as
    from core.attachments import services
    from core.attachments.registry import attachables
    from core.db import session
    from core.filestore import storage

    with app.test_request_context():
        admin = factories.user(session, roles=["admin"])
        session.commit()
        with acting_as(admin):
            target = services.find_target(session, attachables(), "core.party", party_id)
            services.attach(session, target, PDF, "a.pdf", max_size=1024)
            assert len(storage().keys("attachments")) == 1
            session.rollback()
        assert storage().keys("attachments") == []
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


# -- the API --


def test_the_api_uploads_lists_downloads_and_deletes(app, api, party_id):
    answer = api.post("/api/v1/attachments", data={"record": f"core.party:{party_id}",
                                                   "file": (io.BytesIO(b"a;b\n1;2\n"), "rows.csv", "text/plain")})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    made = answer.get_json()
    assert made["record"] == f"core.party:{party_id}" and made["content_type"] == "text/csv"
    assert made["filename"] == "rows.csv" and made["size"] == 8 and made["uploaded_by"] == "admin"
    listed = api.get(f"/api/v1/attachments?record=core.party:{party_id}").get_json()["items"]
    assert [item["id"] for item in listed] == [made["id"]]
    content = api.get(f"/api/v1/attachments/{made['id']}/content")
    assert content.data == b"a;b\n1;2\n" and content.headers["Content-Type"].startswith("text/csv")
    assert content.headers["Content-Disposition"] == "attachment; filename=\"rows.csv\"; filename*=UTF-8''rows.csv"
    assert api.delete(f"/api/v1/attachments/{made['id']}").status_code == 204
    assert api.get(f"/api/v1/attachments/{made['id']}").status_code == 404
    assert rows(app) == [] and stored(app) == []


def test_api_errors_are_problems_naming_the_field(app, api, api_with, party_id):
    app.config["ATTACHMENT_MAX_SIZE"] = 10
    large = api.post("/api/v1/attachments", data={"record": f"core.party:{party_id}",
                                                  "file": (io.BytesIO(b"x" * 11), "big.bin")})
    assert large.status_code == 422 and large.mimetype == "application/problem+json"
    assert "file" in large.get_json()["errors"]
    missing = api.post("/api/v1/attachments", data={"record": "party 5"})
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"file"}
    bad = api.post("/api/v1/attachments", data={"record": "party 5", "file": (io.BytesIO(b"x"), "x.txt")})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"record"}
    assert api.get("/api/v1/attachments").get_json()["errors"].keys() == {"record"}
    assert api.get("/api/v1/attachments?record=core.party:99999").status_code == 404
    outsider = api_with(permissions=["core.audit.read"])
    assert outsider.get(f"/api/v1/attachments?record=core.party:{party_id}").status_code == 403
    assert rows(app) == [] and stored(app) == []


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/attachments"])
    assert "delete" in paths["/api/v1/attachments/{attachment_id}"]
    assert "get" in paths["/api/v1/attachments/{attachment_id}/content"]


@pytest.mark.parametrize("data, name, expected", [
    (PDF, "x", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "x", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "x", "image/jpeg"),
    (b"GIF89a\x01\x00", "x", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "x", "image/webp"),
    (b"plain words\n", "notes.txt", "text/plain"),
    (b"a,b\n1,2\n", "table.CSV", "text/csv"),
    (HTML, "logo.png", "text/html"),
    (b"  <svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "image/svg+xml"),
    (b"\x00\x01\x02binary", "x.txt", "application/octet-stream"),
    (b"\xff\xfe not utf-8 \xff", "x.txt", "application/octet-stream"),
])
def test_the_content_type_is_read_from_the_bytes(data, name, expected):
    assert sniff(data, name) == expected


def test_office_files_are_told_apart_inside_their_zip():
    import zipfile

    def zipped(entries):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in entries:
                archive.writestr(name, content)
        return buffer.getvalue()

    odt = zipped([("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")])
    docx = zipped([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w/>")])
    xlsx = zipped([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>")])
    assert sniff(odt) == "application/vnd.oasis.opendocument.text"
    assert sniff(docx) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniff(xlsx) == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert sniff(zipped([("a.txt", "a")])) == "application/zip"
    assert sniff(b"PK\x03\x04broken") == "application/octet-stream"


def test_a_user_without_any_role_is_refused_by_the_record(api_with, party_id):
    roleless = api_with()
    answer = roleless.get(f"/api/v1/attachments?record=core.party:{party_id}")
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    upload = roleless.post("/api/v1/attachments", data={"record": f"core.party:{party_id}",
                                                        "file": (io.BytesIO(PDF), "a.pdf")})
    assert upload.status_code == 403
