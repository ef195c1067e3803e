"""Importing leads from CSV: upload → columns → preview → import, in the UI and from the command line."""
import io
import re

from sqlalchemy import func, select

from tests.conftest import WebClient, make_user

GOOD_AND_BAD = (
    "Navn;Firma;E-mail;Telefon;Tags;Kilde\n"
    "Mette Nielsen;Fjord Logistik ApS;mette@fjord.dk;+45 12 34 56 78;fleet;event\n"
    "Lars Jensen;Havnefront A/S;not-an-email;;;\n"
    "Anne Hansen;Skovbryn ApS;anne@skovbryn.dk;;solar, fleet;\n"
    "\n"
    ";Nameless ApS;x@nameless.dk;;;\n"
    "Jens Møller;Kystlinje I/S;jens@kystlinje.dk;;;carrier pigeon\n"
).encode("utf-8-sig")


def leads(app) -> list:
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        found = session.execute(select(Lead).order_by(Lead.id)).scalars().all()
        return [(lead.name, lead.source, lead.tag_names, lead.owner_id) for lead in found]


def upload(client, content: bytes, name="leads.csv"):
    token = client.csrf_token("/crm/leads/import")
    return client.post("/crm/leads/import", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def through_columns(client, content: bytes) -> str:
    """Upload ``content`` and accept the guessed columns; returns the preview page's path."""
    response = upload(client, content)
    assert response.status_code == 303
    columns = response.headers["Location"]
    page = client.get(columns).get_data(as_text=True)
    mapping = dict(re.findall(r'<select id="f-map_(\w+)" name="map_\w+"[^>]*>.*?<option value="([^"]*)" selected',
                              page, re.S))
    response = client.post_form(columns, {f"map_{k}": v for k, v in mapping.items()})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def test_columns_are_guessed_from_the_headers(admin_client):
    response = upload(admin_client, GOOD_AND_BAD)
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    for name, header in (("name", "Navn"), ("company_name", "Firma"), ("email", "E-mail"), ("phone", "Telefon"),
                         ("tags", "Tags"), ("source", "Kilde")):
        assert re.search(rf'id="f-map_{name}".*?<option value="{header}" selected', page, re.S), name
    assert "Mette Nielsen" in page  # the first rows are shown


def test_bad_rows_are_listed_and_block_the_import_until_valid_rows_are_chosen(admin_client, app):
    preview_path = through_columns(admin_client, GOOD_AND_BAD)
    preview = admin_client.get(preview_path).get_data(as_text=True)
    problems = re.search(r'<table class="striped" id="import-problems">(.*?)</table>', preview, re.S).group(1)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", problems)
    assert [(line, field) for line, field, _ in rows] == [("3", "Email"), ("6", "Name"), ("7", "Source")]
    run = preview_path.replace("/preview", "/run")
    refused = admin_client.post_form(run, {})
    assert refused.status_code == 422 and "nothing was imported" in refused.get_data(as_text=True)
    assert leads(app) == []
    done = admin_client.post_form(run, {"valid_only": "1"})
    assert done.status_code == 303
    imported = leads(app)
    assert [(name, source, tags) for name, source, tags, _owner in imported] == [
        ("Mette Nielsen", "event", ["fleet"]), ("Anne Hansen", "import", ["fleet", "solar"])]
    assert admin_client.get(preview_path).status_code == 404  # the upload is gone once imported


def test_a_clean_file_imports_whole_and_is_audited(admin_client, app):
    from core.audit.models import AuditRecord
    from core.db import session

    content = "name,company,email\nAino Laine,Revontuli Oy,aino@revontuli.fi\nMikko Korhonen,Saimaan Oy,m@saimaa.fi\n"
    preview_path = through_columns(admin_client, content.encode())
    assert "import-problems" not in admin_client.get(preview_path).get_data(as_text=True)
    assert admin_client.post_form(preview_path.replace("/preview", "/run"), {}).status_code == 303
    assert [name for name, *_ in leads(app)] == ["Aino Laine", "Mikko Korhonen"]
    with app.app_context():
        inserts = (select(func.count()).select_from(AuditRecord)
                   .where(AuditRecord.table_name == "crm_lead", AuditRecord.action == "insert"))
        count = session.execute(inserts).scalar_one()
    assert count == 2


def test_duplicates_are_flagged_in_the_preview_and_can_be_left_out(admin_client, app):
    from core.db import session
    from plugins.crm.leads import services

    with app.app_context():
        services.create_lead(session, {"name": "Mette Nielsen", "email": "METTE@fjord.dk"}, user=None)
        session.commit()
    content = ("name,email,company\nM. Nielsen,mette@fjord.dk,\nOla Berg,ola@polar.no,Polar Energi AS\n"
               "Ola Berg,ola2@polar.no,Polar Energi\n").encode()
    preview_path = through_columns(admin_client, content)
    preview = admin_client.get(preview_path).get_data(as_text=True)
    duplicates = re.search(r'id="import-duplicates">(.*?)</table>', preview, re.S).group(1)
    assert re.findall(r"<tr><td>(\d+)</td>", duplicates) == ["2", "4"]
    assert "same email as lead" in duplicates and "similar name to line 3" in duplicates
    assert admin_client.post_form(preview_path.replace("/preview", "/run"), {"skip_duplicates": "1"}).status_code == 303
    assert [name for name, *_ in leads(app)] == ["Mette Nielsen", "Ola Berg"]


def test_unreadable_or_empty_files_are_refused_beside_the_field(admin_client):
    for content in (b"", b"name,email\n", b"\x00\x01binary"):
        response = upload(admin_client, content)
        assert response.status_code == 422 and 'id="e-file"' in response.get_data(as_text=True)


def test_mapping_needs_the_name_column(admin_client):
    response = upload(admin_client, b"Who,Mail\nAnna,anna@x.dk\n")
    columns = response.headers["Location"]
    refused = admin_client.post_form(columns, {"map_email": "Mail"})
    assert refused.status_code == 422 and 'id="e-map_name"' in refused.get_data(as_text=True)


def test_an_upload_belongs_to_its_uploader(admin_client, dispatcher, app):
    response = upload(admin_client, GOOD_AND_BAD)
    columns = response.headers["Location"]
    _, password = make_user(app, "maria", ["marketing"])
    other = WebClient(dispatcher)
    other.login("maria", password)
    assert other.get(columns).status_code == 404


def test_a_salesperson_may_not_import(dispatcher, app):
    _, password = make_user(app, "sam", ["salesperson"])
    client = WebClient(dispatcher)
    client.login("sam", password)
    assert client.get("/crm/leads/import").status_code == 403


def test_the_command_refuses_bad_files_and_imports_valid_rows_on_request(kontor, app, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(GOOD_AND_BAD)
    refused = kontor("crm", "import-leads", str(path))
    assert refused.exit_code != 0 and "line 3: email" in refused.output and "nothing was imported" in refused.output
    assert leads(app) == []
    make_user(app, "sam", ["salesperson"])
    done = kontor("crm", "import-leads", str(path), "--map", "name=Navn", "--map", "company_name=Firma",
                  "--valid-only", "--owner", "sam")
    assert done.exit_code == 0, done.output
    assert "2 leads imported" in done.output
    assert {owner for *_, owner in leads(app)} != {None}


def test_the_command_names_a_wrong_mapping(kontor, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Navn\nAnna\n")
    result = kontor("crm", "import-leads", str(path), "--map", "name=Missing")
    assert result.exit_code != 0 and "no column Missing" in result.output


def test_script_in_a_csv_file_is_shown_escaped(admin_client):
    xss = '<script>alert("x")</script>'
    content = f'name,email,notes\n{xss},bad,{xss}\nAnna,anna@x.dk,{xss}\n'.encode()
    preview_path = through_columns(admin_client, content)
    columns = preview_path.replace("/preview", "/columns")
    for path in (columns, preview_path):
        page = admin_client.get(path).get_data(as_text=True)
        assert xss not in page and "&lt;script&gt;" in page, path
