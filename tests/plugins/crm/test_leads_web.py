"""The lead pages through real HTTP: create, validate, list, duplicates, merge, qualify, disqualify,
export; the CSV import (upload, columns, preview, import, and from the command line); and web-to-lead,
a public form post without login or CSRF token, guarded by a honeypot and a rate limit."""
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.testing import WebClient, make_user
from tests.plugins.crm.lead_import_kit import through_columns, upload


XSS = '<script>alert("x")</script>'


def add_lead(app, owner: str | None = None, **data):
    """Create a lead through the service, as ``owner`` (a user name) would; returns its id."""
    from core.auth.models import User
    from core.db import session
    from plugins.crm.leads import services

    with app.app_context():
        user = session.execute(select(User).where(User.username == owner)).scalar_one() if owner else None
        lead = services.create_lead(session, {"name": "Lead", **data}, user=user)
        if owner:
            lead.owner_id = user.id
        session.commit()
        return lead.id


def read_lead(app, lead_id):
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        lead = session.get(Lead, lead_id)
        session.expunge(lead) if lead else None
        return lead


def lead_count(app) -> int:
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        return session.execute(select(func.count()).select_from(Lead)).scalar_one()


def signed_in(dispatcher, app, name, roles):
    _, password = make_user(app, name, roles)
    client = WebClient(dispatcher)
    assert client.login(name, password).status_code == 302
    return client


# -- Creating and editing --


def test_create_a_lead_from_the_form(admin_client, app):
    page = admin_client.get("/crm/leads/new")
    assert page.status_code == 200 and 'name="company_name"' in page.get_data(as_text=True)
    response = admin_client.post_form("/crm/leads/new", {
        "name": "Mette Nielsen", "company_name": "Fjord Logistik ApS", "email": "mette@fjord.dk",
        "phone": "+45 12 34 56 78", "source": "event", "status": "new", "owner_id": "", "tags": "fleet, solar",
        "notes": "Met at the fair"})
    assert response.status_code == 303
    lead_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    detail = admin_client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Mette Nielsen" in detail and "Fjord Logistik ApS" in detail and "fleet" in detail
    assert "hx-get=\"/crm/timeline" in detail  # the timeline slot loads lazily


def test_validation_errors_sit_beside_the_field_with_422_and_nothing_is_saved(admin_client, app):
    response = admin_client.post_form("/crm/leads/new", {"name": "", "email": "nope", "phone": "ring me",
                                                          "vat_id": "DK1", "source": "other"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("name", "email", "phone", "vat_id"):
        assert f'id="e-{name}"' in page, name
    assert lead_count(app) == 0


def test_edit_a_lead_with_htmx(admin_client, app):
    lead_id = add_lead(app, name="Lars Jensen")
    response = admin_client.htmx("POST", f"/crm/leads/{lead_id}/edit", data={
        "name": "Lars Jensen", "company_name": "Havnefront A/S", "source": "referral", "status": "contacted",
        "owner_id": "", "tags": "", "notes": "", "email": "", "phone": "", "vat_id": ""})
    assert response.status_code == 200 and "Havnefront A/S" in response.get_data(as_text=True)
    assert read_lead(app, lead_id).status == "contacted"
    bad = admin_client.htmx("POST", f"/crm/leads/{lead_id}/edit", data={"name": "", "source": "referral"})
    assert bad.status_code == 422 and 'id="e-name"' in bad.get_data(as_text=True)


def test_a_closed_lead_keeps_its_status_when_its_details_are_edited(admin_client, app):
    lead_id = add_lead(app, name="Ola Berg")
    admin_client.post_form(f"/crm/leads/{lead_id}/disqualify", {"reason": "No budget"})
    form = admin_client.get(f"/crm/leads/{lead_id}/edit").get_data(as_text=True)
    assert 'name="status"' not in form
    response = admin_client.post_form(f"/crm/leads/{lead_id}/edit", {"name": "Ola Berg", "phone": "+47 22 33 44 55",
                                                                     "source": "other", "owner_id": ""})
    assert response.status_code == 303
    lead = read_lead(app, lead_id)
    assert (lead.status, lead.phone) == ("disqualified", "+47 22 33 44 55")


# -- Listing --


def test_list_search_filters_and_sort(admin_client, app):
    make_user(app, "sam", ["salesperson"])
    add_lead(app, name="Anna Müller", company_name="Hanse Kontor GmbH", source="event", tags=["fair"])
    add_lead(app, "sam", name="Piotr Nowak", company_name="Bałtycka Energia", source="website", status="contacted")
    add_lead(app, name="Aino Laine", email="aino@revontuli.fi", source="referral")

    def names(query):
        page = admin_client.get(f"/crm/leads{query}").get_data(as_text=True)
        return [n for n in ("Anna Müller", "Piotr Nowak", "Aino Laine") if n in page]

    assert names("") == ["Anna Müller", "Piotr Nowak", "Aino Laine"]
    assert names("?q=revontuli") == ["Aino Laine"]
    assert names("?q=hanse") == ["Anna Müller"]
    assert names("?status=contacted") == ["Piotr Nowak"]
    assert names("?source=event") == ["Anna Müller"]
    assert names("?tag=fair") == ["Anna Müller"]
    assert names("?owner_id=none") == ["Anna Müller", "Aino Laine"]
    page = admin_client.get("/crm/leads?sort=name").get_data(as_text=True)
    assert page.index("Aino Laine") < page.index("Anna Müller") < page.index("Piotr Nowak")
    partial = admin_client.htmx("GET", "/crm/leads?q=nowak").get_data(as_text=True)
    assert "Piotr Nowak" in partial and "<html" not in partial


def test_keyset_pages(admin_client, app):
    size = app.config["PAGE_SIZE"]
    for index in range(size + 3):
        add_lead(app, name=f"Lead {index:03d}")
    last = f"Lead {size + 2:03d}"
    first = admin_client.get("/crm/leads?sort=name").get_data(as_text=True)
    assert "Lead 000" in first and last not in first
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin_client.get(next_url).get_data(as_text=True)
    assert last in second and "Lead 000" not in second


def test_export_csv_and_xlsx_follow_filters_and_neutralise_formulas(admin_client, app):
    add_lead(app, name="=HYPERLINK(\"http://evil\")", source="event", notes="+1 555", company_name="@SUM(A1)")
    add_lead(app, name="Other", source="website")
    response = admin_client.get("/crm/leads?format=csv&source=event")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2  # the header and the one filtered lead
    values = dict(zip(rows[0], rows[1]))
    assert values["Name"].startswith("'=") and values["Company"].startswith("'@") and values["Notes"] == "'+1 555"
    xlsx = admin_client.get("/crm/leads?format=xlsx&source=event")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [c.value for c in sheet[2]]
    assert "'=HYPERLINK(\"http://evil\")" in cells and sheet.max_row == 2
    assert admin_client.get("/crm/leads?format=pdf").status_code == 422
    assert admin_client.get("/crm/leads/export?format=csv").status_code == 404  # the list's own URL exports


def test_the_export_buttons_follow_the_filters_of_an_htmx_refresh(admin_client):
    page = admin_client.get("/crm/leads").get_data(as_text=True)
    assert 'id="lead-export"' in page and 'href="/crm/leads?sort=-created&amp;format=xlsx"' in page
    refreshed = admin_client.get("/crm/leads?source=event&q=fair", headers={"HX-Request": "true"})
    html = refreshed.get_data(as_text=True)
    assert '<div id="lead-export" class="export-buttons" role="group"' in html and 'hx-swap-oob="true"' in html
    assert 'href="/crm/leads?q=fair&amp;sort=-created&amp;source=event&amp;format=csv"' in html


# -- Duplicates and merging --


def test_duplicate_warning_then_create_anyway(admin_client, app):
    existing = add_lead(app, name="Anna Müller", email="anna@hanse.de")
    form = {"name": "A. Müller", "email": "ANNA@hanse.de", "source": "other", "status": "new", "owner_id": ""}
    warned = admin_client.post_form("/crm/leads/new", form)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 200 and "This lead may already exist" in page
    assert f"/crm/leads/{existing}" in page and "same email" in page and lead_count(app) == 1
    created = admin_client.post_form("/crm/leads/new", {**form, "decision": "create"})
    assert created.status_code == 303 and lead_count(app) == 2


def test_duplicate_warning_then_merge_into_the_existing_lead(admin_client, app):
    existing = add_lead(app, name="Anna Müller", email="anna@hanse.de", tags=["fair"])
    form = {"name": "Anna Müller", "email": "anna@hanse.de", "phone": "+49 40 123456", "tags": "fleet",
            "source": "other", "status": "new", "owner_id": ""}
    merged = admin_client.post_form("/crm/leads/new", {**form, "decision": f"merge:{existing}"})
    assert merged.status_code == 303 and merged.headers["Location"].endswith(f"/crm/leads/{existing}")
    lead = read_lead(app, existing)
    assert lead_count(app) == 1 and lead.phone == "+49 40 123456"


def test_duplicate_of_a_party_offers_linking(admin_client, app):
    from core.db import session
    from core.parties.services import create_party

    with app.app_context():
        party_id = create_party(session, {"kind": "company", "name": "Polar Energi AS", "vat_id": "DK12345678"}).id
        session.commit()
    form = {"name": "Ola", "company_name": "Polar Energi", "source": "other", "status": "new", "owner_id": ""}
    warned = admin_client.post_form("/crm/leads/new", form).get_data(as_text=True)
    assert f'value="link:{party_id}"' in warned
    created = admin_client.post_form("/crm/leads/new", {**form, "decision": f"link:{party_id}"})
    lead_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert read_lead(app, lead_id).party_id == party_id


def test_merge_two_leads_from_the_lead_page(admin_client, app):
    keep = add_lead(app, name="Anna Müller", company_name="Hanse Kontor GmbH")
    dup = add_lead(app, name="Anna Mueller", company_name="Hanse Kontor", email="anna@hanse.de")
    page = admin_client.get(f"/crm/leads/{dup}/merge").get_data(as_text=True)
    assert f'value="{keep}"' in page
    bad = admin_client.post_form(f"/crm/leads/{dup}/merge", {"into": "abc"})
    assert bad.status_code == 422 and 'id="e-into"' in bad.get_data(as_text=True)
    response = admin_client.post_form(f"/crm/leads/{dup}/merge", {"into": str(keep)})
    assert response.status_code == 303
    assert read_lead(app, keep).email == "anna@hanse.de"
    assert read_lead(app, dup).merged_into_id == keep
    assert "merged into" in admin_client.get(f"/crm/leads/{dup}").get_data(as_text=True)


# -- Qualifying and disqualifying --


def test_qualify_creating_a_party(admin_client, app):
    from core.db import session
    from core.parties.models import Party

    lead_id = add_lead(app, name="Mette Nielsen", company_name="Fjord Logistik ApS", email="mette@fjord.dk")
    assert admin_client.get(f"/crm/leads/{lead_id}/qualify").status_code == 200
    bad = admin_client.post_form(f"/crm/leads/{lead_id}/qualify", {"party_choice": "new", "expected_revenue": "lots"})
    assert bad.status_code == 422 and 'id="e-expected_revenue"' in bad.get_data(as_text=True)
    response = admin_client.post_form(f"/crm/leads/{lead_id}/qualify", {
        "party_choice": "new", "title": "Fleet renewal", "expected_revenue": "25000", "currency": "EUR"})
    assert response.status_code == 303
    lead = read_lead(app, lead_id)
    assert lead.status == "qualified"
    with app.app_context():
        assert session.get(Party, lead.party_id).name == "Fjord Logistik ApS"
    detail = admin_client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Fleet renewal" in detail and "Fjord Logistik ApS" in detail


def test_qualify_linking_an_existing_party_found_with_the_picker(admin_client, app):
    from core.db import session
    from core.parties.services import create_party

    with app.app_context():
        party_id = create_party(session, {"kind": "company", "name": "Nordstern AG", "city": "Hamburg"}).id
        session.commit()
    lead_id = add_lead(app, name="Felix Weber")
    options = admin_client.htmx("GET", "/crm/leads/party-options?party_q=nordstern").get_data(as_text=True)
    assert f'value="{party_id}"' in options
    missing = admin_client.post_form(f"/crm/leads/{lead_id}/qualify", {"party_choice": ""})
    assert missing.status_code == 422 and 'id="e-party_id"' in missing.get_data(as_text=True)
    response = admin_client.post_form(f"/crm/leads/{lead_id}/qualify", {
        "party_choice": str(party_id), "title": "Solar roof"})
    assert response.status_code == 303
    assert read_lead(app, lead_id).party_id == party_id


def test_disqualify_needs_a_reason(admin_client, app):
    lead_id = add_lead(app, name="Ola Berg")
    empty = admin_client.post_form(f"/crm/leads/{lead_id}/disqualify", {"reason": ""})
    assert empty.status_code == 422 and 'id="e-reason"' in empty.get_data(as_text=True)
    assert read_lead(app, lead_id).status == "new"
    done = admin_client.post_form(f"/crm/leads/{lead_id}/disqualify", {"reason": "Chose a competitor"})
    assert done.status_code == 303
    lead = read_lead(app, lead_id)
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "Chose a competitor")
    assert admin_client.post_form(f"/crm/leads/{lead_id}/reopen", {}).status_code == 303
    assert read_lead(app, lead_id).status == "contacted"


# -- Escaping --


def test_script_in_every_text_field_is_shown_escaped(admin_client, app):
    lead_id = add_lead(app, name=XSS, company_name=XSS, notes=XSS, tags=[XSS[:60]], source="event")
    for path in (f"/crm/leads/{lead_id}", "/crm/leads", f"/crm/leads/{lead_id}/edit", f"/crm/leads/{lead_id}/qualify",
                 f"/crm/leads/{lead_id}/merge", f"/crm/leads/{lead_id}/disqualify", "/crm/leads?q=script"):
        page = admin_client.get(path).get_data(as_text=True)
        assert XSS not in page, path
        assert "&lt;script&gt;" in page, path
    invalid = admin_client.post_form("/crm/leads/new", {"name": XSS, "email": XSS, "phone": XSS, "vat_id": XSS,
                                                        "source": "other"}).get_data(as_text=True)
    assert XSS not in invalid and "&lt;script&gt;" in invalid


# -- Who sees what --


@pytest.fixture
def two_salespeople(dispatcher, app):
    sam = signed_in(dispatcher, app, "sam", ["salesperson", "staff"])  # staff: may open party pages
    make_user(app, "sue", ["salesperson"])
    mine = add_lead(app, "sam", name="Sam Customer", email="sam@customer.dk")
    theirs = add_lead(app, "sue", name="Sue Secret", email="secret@customer.dk", company_name="Secret Corp")
    return sam, mine, theirs


def test_a_salesperson_never_meets_another_salespersons_lead(two_salespeople, app):
    sam, mine, theirs = two_salespeople
    listing = sam.get("/crm/leads").get_data(as_text=True)
    assert "Sam Customer" in listing and "Sue Secret" not in listing
    assert "Sue Secret" not in sam.get("/crm/leads?q=secret").get_data(as_text=True)
    assert "Sue Secret" not in sam.get("/crm/leads?format=csv").get_data(as_text=True)
    for path in (f"/crm/leads/{theirs}", f"/crm/leads/{theirs}/edit", f"/crm/leads/{theirs}/fields",
                 f"/crm/leads/{theirs}/qualify", f"/crm/leads/{theirs}/disqualify", f"/crm/leads/{theirs}/merge"):
        assert sam.get(path).status_code == 404, path
    for path, data in ((f"/crm/leads/{theirs}/edit", {"name": "Hijacked"}),
                       (f"/crm/leads/{theirs}/disqualify", {"reason": "mine now"}),
                       (f"/crm/leads/{theirs}/qualify", {"party_choice": "new"}),
                       (f"/crm/leads/{mine}/merge", {"into": str(theirs)}),
                       (f"/crm/leads/{theirs}/merge", {"into": str(mine)})):
        assert sam.post_form(path, data).status_code in (404, 422), path
    lead = read_lead(app, theirs)
    assert (lead.name, lead.status) == ("Sue Secret", "new")
    warned = sam.post_form("/crm/leads/new", {"name": "X", "email": "secret@customer.dk", "source": "other"})
    assert "Sue Secret" not in warned.get_data(as_text=True)


def test_a_salesperson_cannot_give_a_lead_to_someone_else(two_salespeople, app):
    from core.auth.models import User
    from core.db import session

    sam, mine, _ = two_salespeople
    with app.app_context():
        sue_id = session.execute(select(User.id).where(User.username == "sue")).scalar_one()
    response = sam.post_form(f"/crm/leads/{mine}/edit", {"name": "Sam Customer", "source": "other", "status": "new",
                                                         "owner_id": str(sue_id)})
    assert response.status_code == 422 and 'id="e-owner_id"' in response.get_data(as_text=True)


def test_the_party_panel_lists_only_visible_leads(two_salespeople, app):
    from core.db import session
    from core.parties.services import create_party
    from plugins.crm.leads.models import Lead

    sam, mine, theirs = two_salespeople
    with app.app_context():
        party_id = create_party(session, {"kind": "company", "name": "Shared Customer A/S"}).id
        for lead_id in (mine, theirs):
            session.get(Lead, lead_id).party_id = party_id
        session.commit()
    page = sam.get(f"/parties/{party_id}").get_data(as_text=True)
    assert "Sam Customer" in page and "Sue Secret" not in page


def test_the_dashboard_counts_open_leads(admin_client, app):
    for name in ("One", "Two"):
        add_lead(app, name=name)
    closed = add_lead(app, name="Three")
    admin_client.post_form(f"/crm/leads/{closed}/disqualify", {"reason": "Gone"})
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<p class="widget-figure">2</p>\s*<p><a href="/crm/leads\?status=new"', page)


# -- Importing leads from CSV: upload, columns, preview, import; and the command line --


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
    again = admin_client.get(preview_path)  # once imported, the upload shows what its import did
    assert again.status_code == 303 and again.headers["Location"].endswith("/status")
    result = admin_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "2 leads imported; 3 bad rows and 0 possible duplicates left out." in result
    assert re.findall(r"<tr><td>(\d+)</td>", result.split('id="import-problems"')[1]) == ["3", "6", "7"]


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


# -- Web-to-lead: a public form post, guarded by a honeypot and a rate limit --


FORM = {"name": "Freja Lund", "company": "Nordlys ApS", "email": "freja@nordlys.dk", "phone": "+45 11 22 33 44",
        "message": "Please call me about solar panels."}


def web_leads(app):
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        return [(l.name, l.company_name, l.source, l.notes, l.owner_id)
                for l in session.execute(select(Lead).order_by(Lead.id)).scalars()]


def set_settings(app, **values):
    from core.db import session
    from core.company.services import update_settings
    from plugins.crm.leads.webform import SETTINGS

    with app.app_context():
        update_settings(session, SETTINGS, {f"crm.web_to_lead_{k}": v for k, v in values.items()})
        session.commit()


def test_an_anonymous_visitor_creates_a_lead_without_a_csrf_token(client, app):
    response = client.post("/crm/web-to-lead", data=FORM)
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/web-to-lead/thanks")
    assert web_leads(app) == [("Freja Lund", "Nordlys ApS", "website", "Please call me about solar panels.", None)]
    assert "Thank you" in client.get("/crm/web-to-lead/thanks").get_data(as_text=True)


def test_the_owner_comes_from_the_setting(client, app):
    owner_id, _ = make_user(app, "sam", ["salesperson"])
    set_settings(app, owner="sam")
    client.post("/crm/web-to-lead", data=FORM)
    assert web_leads(app)[0][4] == owner_id


def test_a_filled_honeypot_is_accepted_silently_and_creates_nothing(client, app):
    response = client.post("/crm/web-to-lead", data={**FORM, "website": "http://spam.example"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/web-to-lead/thanks")
    assert web_leads(app) == []


def test_bad_input_is_refused_and_creates_nothing(client, app):
    response = client.post("/crm/web-to-lead", data={**FORM, "email": "nope", "name": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "email" in page and "name" in page
    assert web_leads(app) == []


def test_submissions_are_limited_per_client_address(client, app):
    set_settings(app, limit="3")
    for index in range(3):
        assert client.post("/crm/web-to-lead", data={**FORM, "name": f"Visitor {index}"}).status_code == 303
    refused = client.post("/crm/web-to-lead", data={**FORM, "name": "One too many"})
    assert refused.status_code == 429
    other_address = client.post("/crm/web-to-lead", data={**FORM, "name": "Elsewhere"},
                                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other_address.status_code == 303
    assert [name for name, *_ in web_leads(app)] == ["Visitor 0", "Visitor 1", "Visitor 2", "Elsewhere"]


def test_the_limit_is_kept_in_the_database_across_workers(settings, app):
    """Two dispatchers (as two worker processes would be) share one count."""
    from core.wsgi import Dispatcher
    from core.testing import WebClient

    set_settings(app, limit="2")
    first, second = WebClient(Dispatcher(settings)), WebClient(Dispatcher(settings))
    assert first.post("/crm/web-to-lead", data=FORM).status_code == 303
    assert second.post("/crm/web-to-lead", data=FORM).status_code == 303
    assert first.post("/crm/web-to-lead", data=FORM).status_code == 429
    assert second.post("/crm/web-to-lead", data=FORM).status_code == 429


def test_next_is_followed_only_to_allowed_addresses(client, app):
    set_settings(app, redirects="https://www.example.com/thanks https://shop.example.org")
    allowed = client.post("/crm/web-to-lead", data={**FORM, "next": "https://www.example.com/thanks"})
    assert allowed.headers["Location"] == "https://www.example.com/thanks"
    whole_site = client.post("/crm/web-to-lead", data={**FORM, "next": "https://shop.example.org/any/page"})
    assert whole_site.headers["Location"] == "https://shop.example.org/any/page"
    for bad in ("https://evil.example.net/", "https://www.example.com/other", "//evil.example.net",
                "javascript:alert(1)", "https://www.example.com.evil.net/thanks"):
        response = client.post("/crm/web-to-lead", data={**FORM, "next": bad})
        assert response.headers["Location"].endswith("/crm/web-to-lead/thanks"), bad


def test_other_crm_pages_still_need_the_csrf_token(admin_client):
    response = admin_client.post("/crm/leads/new", data={"name": "No token"})
    assert response.status_code == 400
