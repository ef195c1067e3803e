"""Segments and campaigns in the browser's requests: the live count, record rules, attribution,
panels, exports and escaping."""
import csv
import io

from sqlalchemy import select

from core.db import utcnow

from plugins.crm.campaigns import services
from plugins.crm.campaigns.models import CampaignRecipient
from plugins.crm.testing import company, lead, people
from core.testing import make_user

XSS = '<img src=x onerror="alert(1)">'


def login(app, client, username, roles):
    make_user(app, username, roles, f"{username} password 1")
    assert client.login(username, f"{username} password 1").status_code == 302
    return client


def user_id(app, username):
    from core.auth.models import User
    from core.db import session

    with app.app_context():
        return session.execute(select(User.id).where(User.username == username)).scalar_one()


def test_segment_form_counts_live_and_saves(app, client):
    from core.db import session

    web = login(app, client, "marketer", ["marketing"])
    with app.app_context():
        people(session)
        company(session, "Elbe Handel GmbH", country="DE", email="info@elbe.example")
        session.commit()
    form = web.get("/crm/segments/new").get_data(as_text=True)
    assert 'hx-get="/crm/segments/count"' in form and 'id="segment-count"' in form
    count = web.htmx("GET", "/crm/segments/count?include_parties=1&countries=DE").get_data(as_text=True)
    assert "<html" not in count and "1 address" in count
    assert "4 addresses" in web.htmx("GET", "/crm/segments/count?include_parties=1&tags=newsletter").get_data(
        as_text=True)
    assert "0 addresses" in web.htmx("GET", "/crm/segments/count?tags=newsletter").get_data(as_text=True)

    bad = web.post_form("/crm/segments/new", {"name": "Germans", "include_parties": "1", "countries": "Germany"})
    assert bad.status_code == 422 and 'id="e-countries"' in bad.get_data(as_text=True)
    saved = web.post_form("/crm/segments/new", {"name": "Germans", "include_parties": "1", "countries": "de"})
    assert saved.status_code == 303
    page = web.get(saved.headers["Location"]).get_data(as_text=True)
    assert "info@elbe.example" in page and "Fjord" not in page.split("Members")[1]
    assert "Germans" in web.get("/crm/segments").get_data(as_text=True)


def test_members_listed_obey_the_lead_record_rule(app, client):
    from core.auth import services as auth
    from core.db import session

    with app.app_context():
        # a role that reads campaigns but not every salesperson's leads
        role = auth.ensure_role(session, "campaign_viewer", "Campaign viewer", "")
        for permission in ("crm.campaign.read", "crm.lead.read"):
            auth.grant(session, role, permission)
        session.commit()
    make_user(app, "other", ["salesperson"], "other password 1")
    web = login(app, client, "seller", ["salesperson", "campaign_viewer"])
    seller, other = user_id(app, "seller"), user_id(app, "other")
    with app.app_context():
        lead(session, "Own Lead", "own@lead.example", owner_id=seller)
        lead(session, "Hidden Lead", "hidden@lead.example", owner_id=other)
        segment = services.create_segment(session, {"name": "Leads", "include_leads": True})
        session.commit()
        segment_id = segment.id
    page = web.get(f"/crm/segments/{segment_id}").get_data(as_text=True)
    assert "own@lead.example" in page and "hidden@lead.example" not in page
    assert "2 addresses" in page  # the count is the whole segment a send would reach
    assert "1 lead of another salesperson is in the segment but not listed." in page
    web.post("/logout", data={"csrf_token": web.csrf_token("/dashboard")})
    web = login(app, client, "marketer", ["marketing"])  # marketing sees every lead
    page = web.get(f"/crm/segments/{segment_id}").get_data(as_text=True)
    assert "own@lead.example" in page and "hidden@lead.example" in page


def test_campaign_page_shows_attributed_leads_and_opportunities_within_the_rules(app, client):
    from core.db import session
    from plugins.crm.pipeline import services as pipeline

    make_user(app, "other", ["salesperson"], "other password 1")
    web = login(app, client, "boss", ["sales_manager"])
    other = user_id(app, "other")
    with app.app_context():
        segment = services.create_segment(session, {"name": "All", "include_parties": True})
        found = services.create_campaign(session, {"name": "Fair invitation", "segment_id": segment.id,
                                                   "subject": "Come", "body": "Hi"})
        lead(session, "Visible Lead", "v@lead.example", owner_id=other, campaign_id=found.id)
        pipeline.create_opportunity(session, party=company(session, "Deal Co"), title="Fair deal",
                                    owner_id=other, campaign_id=found.id)
        session.commit()
        campaign_id = found.id
        assert (campaign_id, "Fair invitation") in services.campaign_choices(session)
    page = web.get(f"/crm/campaigns/{campaign_id}").get_data(as_text=True)
    # a sales manager sees every lead and opportunity
    assert "Fair deal" in page and "Visible Lead" in page
    assert '<dd class="attributed-opportunities">1</dd>' in page
    web.post("/logout", data={"csrf_token": web.csrf_token("/dashboard")})
    web = login(app, client, "marketer", ["marketing"])  # every lead, but not others' opportunities
    page = web.get(f"/crm/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Visible Lead" in page and "Fair deal" not in page
    assert '<dd class="attributed-opportunities">0</dd>' in page and '<dd class="attributed-leads">1</dd>' in page


def test_the_attribution_foreign_keys_exist(app):
    from sqlalchemy import inspect

    from core.db import session

    with app.app_context():
        inspector = inspect(session.get_bind())
        for table in ("crm_lead", "crm_opportunity"):
            keys = {(tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in inspector.get_foreign_keys(table)}
            assert (("campaign_id",), "crm_campaign") in keys, table


def test_party_panel_and_merge(app, admin_client):
    from core.db import session
    from core.parties.services import merge_parties

    with app.app_context():
        firm, mette, jens, ghost = people(session)
        segment = services.create_segment(session, {"name": "Newsletter", "include_parties": True,
                                                    "tags": "newsletter"})
        found = services.create_campaign(session, {"name": "Autumn letter", "segment_id": segment.id,
                                                   "subject": "Hi", "body": "Hi {{name}}"})
        services.start_send(session, found, now=utcnow())
        services.opt_out(session, "jens@fjord.example")
        session.commit()
        jens_id, mette_id = jens.id, mette.id
    panel = admin_client.get(f"/parties/{jens_id}").get_data(as_text=True)
    assert "Autumn letter" in panel and "Queued" in panel and "Unsubscribed" in panel
    with app.app_context():
        merge_parties(session, session.get(type(jens), jens_id), session.get(type(jens), mette_id),
                      on_merging=app.extensions["kontor"].pm.hook.party_merging)
        session.commit()
        owners = session.execute(select(CampaignRecipient.party_id).where(
            CampaignRecipient.email_key == "jens@fjord.example")).scalar_one()
        assert owners == mette_id


def test_recipients_export_from_the_campaign_page_with_its_status_filter(app, admin_client):
    from core.db import session

    with app.app_context():
        people(session)
        segment = services.create_segment(session, {"name": "Newsletter", "include_parties": True,
                                                    "tags": "newsletter"})
        found = services.create_campaign(session, {"name": "Winter letter", "segment_id": segment.id,
                                                   "subject": "Hi", "body": "Hi {{name}}"})
        services.opt_out(session, "jens@fjord.example")
        services.start_send(session, found, now=utcnow())
        session.commit()
        path, stem = f"/crm/campaigns/{found.id}", f"campaign-{found.id}-recipients"
    page = admin_client.get(path).get_data(as_text=True)
    assert f'href="{path}?format=csv"' in page and f'href="{path}?format=xlsx"' in page
    everyone = admin_client.get(f"{path}?format=csv")
    assert everyone.headers["Content-Disposition"] == f'attachment; filename="{stem}.csv"'
    rows = list(csv.reader(io.StringIO(everyone.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Email", "Name", "Company", "Status", "Reason", "Sent"]
    assert {row[3] for row in rows[1:]} == {"Queued", "Skipped"} and len(rows) > 2
    filtered = admin_client.get(f"{path}?recipient_status=skipped")
    assert f'href="{path}?recipient_status=skipped&amp;format=csv"' in filtered.get_data(as_text=True)
    skipped = admin_client.get(f"{path}?recipient_status=skipped&format=csv").get_data(as_text=True)
    assert [row[0] for row in csv.reader(io.StringIO(skipped.lstrip("\ufeff")))][1:] == ["jens@fjord.example"]
    assert admin_client.get(f"{path}?format=xlsx").data[:2] == b"PK"
    assert admin_client.get(f"{path}?format=pdf").status_code == 422
    assert admin_client.get(f"{path}/recipients.csv").status_code == 404


def test_campaign_list_form_export_and_escaping(app, client):
    from core.db import session

    web = login(app, client, "marketer", ["marketing"])
    with app.app_context():
        segment = services.create_segment(session, {"name": XSS, "include_parties": True})
        session.commit()
        segment_id = segment.id
    bad = web.post_form("/crm/campaigns/new", {"name": "Oops", "segment_id": str(segment_id),
                                              "subject": "Hi", "body": "Dear {{ user.password }}"})
    assert bad.status_code == 422 and 'id="e-body"' in bad.get_data(as_text=True)
    made = web.post_form("/crm/campaigns/new", {"name": "=cmd|' /C calc'!A0", "segment_id": str(segment_id),
                                               "subject": XSS, "body": XSS})
    assert made.status_code == 303
    campaign_path = made.headers["Location"]
    for path in (campaign_path, "/crm/campaigns", "/crm/segments", f"/crm/segments/{segment_id}"):
        html = web.get(path).get_data(as_text=True)
        assert XSS not in html and "&lt;img src=x" in html, path
    exported = web.get("/crm/campaigns?format=csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert web.get("/crm/campaigns?format=xlsx").data[:2] == b"PK"
    assert web.get("/crm/campaigns?format=pdf").status_code == 422
    assert web.get("/crm/campaigns/export.csv").status_code == 404  # the list's own URL exports
    listing = web.get("/crm/campaigns?status=draft").get_data(as_text=True)
    assert 'href="/crm/campaigns?sort=-created&amp;status=draft&amp;format=csv"' in listing
    edited = web.post_form(campaign_path + "/edit", {"name": "Renamed", "segment_id": str(segment_id),
                                                     "subject": "Hi {{name}}", "body": "Hello"})
    assert edited.status_code == 303 and "Renamed" in web.get(campaign_path).get_data(as_text=True)
    copy = web.post_form(campaign_path + "/duplicate", {})
    assert copy.status_code == 303 and "Renamed (copy)" in web.get(copy.headers["Location"]).get_data(as_text=True)


def test_opt_outs_page_and_permissions(app, client):
    web = login(app, client, "marketer", ["marketing"])
    bad = web.post_form("/crm/opt-outs", {"email": "nope"})
    assert bad.status_code == 422 and 'id="e-email"' in bad.get_data(as_text=True)
    assert web.post_form("/crm/opt-outs", {"email": "Asked@Phone.example"}).status_code == 303
    assert "asked@phone.example" in web.get("/crm/opt-outs").get_data(as_text=True)
    web.post("/logout", data={"csrf_token": web.csrf_token("/dashboard")})
    web = login(app, client, "boss", ["sales_manager"])  # reads campaigns, cannot build or send them
    assert web.get("/crm/campaigns").status_code == 200
    assert web.get("/crm/campaigns/new").status_code == 403
    assert web.post_form("/crm/opt-outs", {"email": "x@y.example"}).status_code == 403
    web.post("/logout", data={"csrf_token": web.csrf_token("/dashboard")})
    web = login(app, client, "agent", ["service_agent"])
    assert web.get("/crm/campaigns").status_code == 403

