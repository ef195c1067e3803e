"""Campaigns sent to a real SMTP server (aiosmtpd on 127.0.0.1): placeholders, batches, failures and
opt-outs, the signed unsubscribe link, and the pages, API and command that drive a send."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from core import mail_messages
from core.errors import KontorError

from plugins.crm.activities.models import TimelineEvent
from plugins.crm.campaigns import mailer, services
from plugins.crm.campaigns.models import Campaign, CampaignRecipient
from core.mail.testing import free_port
from plugins.crm.testing import REFUSED_DOMAIN, campaign, company, configure_smtp, lead, people

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)
SECRET = "test-secret"
BASE = "http://kontor.test"


def send_all(db, found: Campaign, port: int, batch_size: int = 2) -> list[services.Progress]:
    """Send ``found`` batch by batch through the core's mail settings pointed at ``port``; the progress
    after each batch."""
    configure_smtp(db, port, batch_size=batch_size)
    steps = []
    while True:
        steps.append(services.send_batch(db, found, secret=SECRET, base_url=BASE, now=T0))
        if steps[-1].finished:
            return steps


# -- placeholders --


def test_placeholders_are_plain_substitution():
    values = {"name": "Ada {{company}}", "company": "<Nordlys>", "unsubscribe_url": "http://u"}
    assert mailer.fill("Hi {{name}} at {{ company }}: {{unsubscribe_url}}", values) == \
        "Hi Ada {{company}} at <Nordlys>: http://u"
    assert mailer.unknown_placeholders("{{name}} {{ config.SECRET_KEY }} {{7*7}}") == ["config.SECRET_KEY", "7*7"]


def test_unknown_placeholders_are_refused_beside_the_field(db):
    segment = services.create_segment(db, {"name": "All", "include_parties": True})
    for field_name, data in (("body", {"body": "Hi {{ self.__class__ }}"}), ("subject", {"subject": "{{7*7}}"})):
        with pytest.raises(KontorError) as exc:
            services.create_campaign(db, {"name": "Bad", "segment_id": segment.id, **data})
        assert exc.value.field == field_name
        assert "Unknown placeholder" in exc.value.message
    assert db.execute(select(Campaign)).first() is None


# -- segments --


def test_segment_members_over_parties_and_leads(db):
    from core.auth.services import create_user

    owner, _ = create_user(db, "seller", password="correct horse battery", roles=["salesperson"])
    other, _ = create_user(db, "other", password="correct horse battery", roles=["salesperson"])
    db.flush()
    firm, mette, jens, ghost = people(db)
    company(db, "Elbe Handel GmbH", country="DE", email="info@elbe.example", tags=["newsletter"])
    lead(db, "Own Lead", "own@lead.example", owner_id=owner.id, tags=["newsletter"])
    lead(db, "Other Lead", "other@lead.example", owner_id=other.id, status="contacted", tags=["newsletter"])
    lead(db, "Jens again", "JENS@fjord.example", owner_id=owner.id, tags=["newsletter"])  # a duplicate address
    lead(db, "Lost Lead", "lost@lead.example", owner_id=owner.id, status="disqualified", tags=["newsletter"])

    danes = services.create_segment(db, {"name": "Danes", "include_parties": True, "countries": "dk",
                                         "party_kind": "company"})
    assert [m.email for m in services.members(db, danes)] == ["info@fjord.example"]
    tagged = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "include_leads": True,
                                          "tags": "Newsletter", "lead_statuses": ["new", "contacted"]})
    emails = [m.email for m in services.members(db, tagged)]
    assert sorted(emails) == sorted(["info@elbe.example", "info@fjord.example", f"ghost@{REFUSED_DOMAIN}",
                                     "jens@fjord.example", "Mette@Fjord.example", "own@lead.example",
                                     "other@lead.example"])
    assert services.count(db, tagged).total == 7
    # the lead record rule when listing: a salesperson sees their own leads only
    assert "other@lead.example" not in [m.email for m in services.members(db, tagged, user=owner)]
    websites = services.create_segment(db, {"name": "Web", "include_leads": True, "lead_sources": "website",
                                            "lead_statuses": "contacted"})
    assert [m.name for m in services.members(db, websites)] == ["Other Lead"]


def test_segment_tags_match_whatever_the_case_on_both_backends(db):
    company(db, "Øresund Shipping A/S", country="DK", email="ship@oresund.example", tags=["Øresund"])
    lead(db, "Strait Lead", "lead@oresund.example", tags=["ØRESUND"])  # the same tag, found by its folded key
    segment = services.create_segment(db, {"name": "Strait", "include_parties": True, "include_leads": True,
                                           "tags": "øresund"})
    assert sorted(m.email for m in services.members(db, segment)) == ["lead@oresund.example", "ship@oresund.example"]


def test_segment_input_is_checked(db):
    cases = [({"name": ""}, "name"), ({"name": "X"}, "include_parties"),
             ({"name": "X", "include_parties": True, "countries": "Denmark"}, "countries"),
             ({"name": "X", "include_leads": True, "lead_statuses": "hot"}, "lead_statuses"),
             ({"name": "X", "include_leads": True, "lead_sources": "tv"}, "lead_sources"),
             ({"name": "X", "include_parties": True, "party_kind": "robot"}, "party_kind")]
    for data, field_name in cases:
        with pytest.raises(KontorError) as exc:
            services.create_segment(db, data)
        assert exc.value.field == field_name
    services.create_segment(db, {"name": "Once", "include_parties": True})
    with pytest.raises(KontorError) as exc:
        services.create_segment(db, {"name": "ONCE", "include_parties": True})
    assert exc.value.field == "name"


# -- sending --


def test_a_send_in_batches_reaches_the_server_with_placeholders_filled(db, smtp_server):
    inbox, port = smtp_server
    firm, mette, jens, ghost = people(db)
    services.opt_out(db, "JENS@fjord.EXAMPLE")  # opted out before: skipped when the send is prepared
    segment = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "tags": "newsletter"})
    found = campaign(db, segment)
    started = services.start_send(db, found, now=T0)
    assert (started.total, started.queued, started.skipped, found.status) == (4, 3, 1, "sending")
    services.opt_out(db, "info@fjord.example")  # opted out while sending: checked again at send time
    db.commit()

    steps = send_all(db, found, port)
    assert len(steps) == 2  # three queued addresses in batches of two
    assert (steps[0].done, steps[-1].percent) == (3, 100)
    final = steps[-1]
    assert (final.sent, final.failed, final.skipped, final.queued) == (1, 1, 2, 0)
    assert found.status == "sent" and found.finished_at == T0

    # only Mette got mail, with her placeholders filled and a working unsubscribe link
    assert inbox.to() == ["Mette@Fjord.example"]
    message = inbox.for_address("Mette@Fjord.example")
    assert message["Subject"] == "News for Mette Nielsen"
    assert message["From"] == "News <news@nordlys.example>"
    text = inbox.text_for("Mette@Fjord.example")
    assert text.startswith("Hello Mette Nielsen of Fjord Logistik ApS!\nBye: http://kontor.test/crm/unsubscribe/")
    token = text.split("/crm/unsubscribe/")[1].split()[0]
    assert mailer.read_token(SECRET, token) == ("mette@fjord.example", found.id)
    assert message["List-Unsubscribe"] == f"<{BASE}/crm/unsubscribe/{token}>"

    rows = {r.email_key: r for r in db.execute(select(CampaignRecipient)).scalars()}
    assert rows["mette@fjord.example"].status == "sent" and rows["mette@fjord.example"].sent_at == T0
    assert rows[f"ghost@{REFUSED_DOMAIN}"].status == "failed"
    assert rows[f"ghost@{REFUSED_DOMAIN}"].reason == "550 5.1.1 No such mailbox here"
    assert (rows["jens@fjord.example"].status, rows["jens@fjord.example"].reason) == ("skipped", "Unsubscribed")
    assert rows["info@fjord.example"].status == "skipped"

    events = db.execute(select(TimelineEvent).where(TimelineEvent.kind == "campaign")).scalars().all()
    assert [(e.party_id, e.campaign_id) for e in events] == [(mette.id, found.id)]
    assert [c.name for c, _r in services.campaigns_of_party(db, mette.id)] == ["Spring news"]


def test_an_opted_out_address_is_never_mailed_again(db, smtp_server):
    inbox, port = smtp_server
    firm, mette, jens, ghost = people(db)
    segment = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "tags": "newsletter"})
    first = campaign(db, segment)
    services.start_send(db, first, now=T0)
    db.commit()
    send_all(db, first, port)
    assert "jens@fjord.example" in inbox.to()
    services.opt_out(db, "Jens@Fjord.Example")
    assert services.is_opted_out(db, "jens@FJORD.example")
    again = services.duplicate_campaign(db, first)
    services.start_send(db, again, now=T0)
    db.commit()
    inbox.messages.clear()
    send_all(db, again, port)
    assert "jens@fjord.example" not in inbox.to() and "Mette@Fjord.example" in inbox.to()


def test_a_message_without_the_link_gets_one_appended(db, smtp_server):
    inbox, port = smtp_server
    people(db)
    segment = services.create_segment(db, {"name": "Firms", "include_parties": True, "party_kind": "company"})
    found = campaign(db, segment, body="Plain news for {{company}}.")
    services.start_send(db, found, now=T0)
    db.commit()
    send_all(db, found, port)
    text = inbox.text_for("info@fjord.example")
    assert text.startswith("Plain news for Fjord Logistik ApS.\n\n-- \n"
                           "Unsubscribe: http://kontor.test/crm/unsubscribe/")


def test_an_unreachable_server_leaves_the_batch_queued(db):
    people(db)
    segment = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "tags": "newsletter"})
    found = campaign(db, segment)
    services.start_send(db, found, now=T0)
    db.commit()
    configure_smtp(db, free_port(), batch_size=2)  # nothing listens there
    with pytest.raises(KontorError) as exc:
        services.send_batch(db, found, secret=SECRET, base_url=BASE, now=T0)
    assert exc.value.field == "smtp" and "could not be reached" in exc.value.message
    state = services.progress(db, found)
    assert (state.queued, state.sent, state.failed, found.status) == (4, 0, 0, "sending")


def test_a_send_needs_a_ready_draft(db, smtp_server):
    _inbox, port = smtp_server
    segment = services.create_segment(db, {"name": "Nobody", "include_parties": True, "tags": "nobody"})
    found = campaign(db, segment)
    with pytest.raises(KontorError) as exc:
        services.start_send(db, found, now=T0)
    assert exc.value.field == "segment_id"  # reaches no one
    no_subject = services.create_campaign(db, {"name": "Draft", "segment_id": segment.id, "body": "x"})
    with pytest.raises(KontorError) as exc:
        services.start_send(db, no_subject, now=T0)
    assert exc.value.field == "subject"
    people(db)
    full = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "tags": "newsletter"})
    sent = campaign(db, full)
    services.start_send(db, sent, now=T0)
    with pytest.raises(KontorError) as exc:
        services.start_send(db, sent, now=T0)
    assert exc.value.status == 409
    with pytest.raises(KontorError):
        services.update_campaign(db, sent, {"subject": "Changed"})


def test_a_test_send_goes_to_one_address_and_records_nothing(db, smtp_server):
    inbox, port = smtp_server
    people(db)
    segment = services.create_segment(db, {"name": "Newsletter", "include_parties": True, "tags": "newsletter"})
    found = campaign(db, segment)
    configure_smtp(db, port)
    message = services.send_test(db, found, "me@nordlys.example", secret=SECRET, base_url=BASE)
    assert inbox.to() == ["me@nordlys.example"]
    assert inbox.messages[0]["Subject"].startswith("[Test] News for ")
    assert db.execute(select(CampaignRecipient)).first() is None and found.status == "draft"
    # the core's mail log keeps it apart from the campaign's own messages
    assert [m.id for m in mail_messages(db, f"crm.campaign:{found.id}:test")] == [message.id]
    assert message.status == "sent" and mail_messages(db, f"crm.campaign:{found.id}") == []
    with pytest.raises(KontorError) as exc:
        services.send_test(db, found, "not an address", secret=SECRET, base_url=BASE)
    assert exc.value.field == "test_address"
    with pytest.raises(KontorError) as exc:  # refused by the server: said beside the field, logged failed
        services.send_test(db, found, f"nobody@{REFUSED_DOMAIN}", secret=SECRET, base_url=BASE)
    assert exc.value.field == "test_address" and "550 5.1.1 No such mailbox here" in exc.value.message
    assert [m.status for m in mail_messages(db, f"crm.campaign:{found.id}:test")] == ["failed", "sent"]
    assert len(inbox.messages) == 1


# -- the unsubscribe link --


def test_unsubscribe_works_without_login_and_cannot_be_forged(app, client):
    from core.db import session

    with app.app_context():
        token = mailer.make_token(app.secret_key, "mette@fjord.example", None)
    page = client.get(f"/crm/unsubscribe/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stop receiving our campaigns at mette@fjord.example?" in html
    csrf = html.split('name="csrf_token" value="')[-1].split('"')[0]
    done = client.post(f"/crm/unsubscribe/{token}", data={"csrf_token": csrf})
    assert done.status_code == 200 and "is unsubscribed" in done.get_data(as_text=True)
    with app.app_context():
        assert services.is_opted_out(session, "METTE@fjord.example")
    assert "is unsubscribed" in client.get(f"/crm/unsubscribe/{token}").get_data(as_text=True)

    forged = mailer.make_token("another secret", "jens@fjord.example", None)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, tampered, "nonsense"):
        response = client.get(f"/crm/unsubscribe/{bad}")
        assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
        fresh = client.csrf_token("/login")
        assert client.post(f"/crm/unsubscribe/{bad}", data={"csrf_token": fresh}).status_code == 404
        one_click = client.post(f"/crm/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 404
    with app.app_context():
        assert not services.is_opted_out(session, "jens@fjord.example")


# -- the pages, the API and the command drive the same send --


def test_sending_through_the_pages_with_a_job(app, admin_client, smtp):
    from core.db import session

    with app.app_context():
        people(session)
        segment = services.create_segment(session, {"name": "Newsletter", "include_parties": True,
                                                     "tags": "newsletter"})
        found = campaign(session, segment)
        session.commit()
        campaign_id = found.id
    page = admin_client.get(f"/crm/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Send now" in page and "Send test" in page
    test = admin_client.post_form(f"/crm/campaigns/{campaign_id}/test", {"test_address": "boss@nordlys.example"})
    assert test.status_code == 303 and smtp.to() == ["boss@nordlys.example"]

    assert admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {}).status_code == 303
    # the job ran after the commit (immediate mode); the box the page polls while it runs says so
    part = admin_client.htmx("GET", f"/crm/campaigns/{campaign_id}/progress?following=1").get_data(as_text=True)
    assert 'value="4" max="4"' in part and "100 %" in part and "The campaign is sent." in part
    assert 'hx-trigger="every 2s"' not in part and 'hx-trigger="load delay:300ms"' in part
    assert sorted(smtp.to()) == sorted(["boss@nordlys.example", "info@fjord.example", "Mette@Fjord.example",
                                        "jens@fjord.example"])
    # the unsubscribe link in a received message works in this app
    link = smtp.text_for("jens@fjord.example").split("Bye: ")[1].split()[0]
    assert link.startswith("http://localhost/crm/unsubscribe/")
    assert "jens@fjord.example" in admin_client.get(link.replace("http://localhost", "")).get_data(as_text=True)
    done = admin_client.get(f"/crm/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'data-status="failed"' in done and "550 5.1.1 No such mailbox here" in done
    assert admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {}, follow_redirects=True) \
        .get_data(as_text=True).count("was sent already") == 1


def test_the_api_sends_through_a_job(app, api, smtp):
    from core.db import session

    with app.app_context():
        people(session)
        session.commit()
    wrong = api.post("/api/v1/crm/segments", json={"name": "Bad", "countries": "Denmark"})
    assert wrong.status_code == 422 and "countries" in wrong.get_json()["errors"]
    made = api.post("/api/v1/crm/segments", json={"name": "Newsletter", "tags": "newsletter"})
    assert made.status_code == 201 and made.get_json()["count"] == {"total": 4, "opted_out": 0, "reachable": 4}
    segment_id = made.get_json()["id"]
    assert [s["name"] for s in api.get("/api/v1/crm/segments").get_json()["items"]] == ["Newsletter"]
    assert api.get(f"/api/v1/crm/segments/{segment_id}").get_json()["tags"] == "newsletter"
    assert api.get("/api/v1/crm/segments/999999").status_code == 404
    bad = api.post("/api/v1/crm/campaigns", json={"name": "X", "segment_id": segment_id, "body": "{{ evil }}"})
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert "body" in bad.get_json()["errors"]
    created = api.post("/api/v1/crm/campaigns", json={"name": "API news", "segment_id": segment_id,
                                                      "subject": "Hi {{name}}", "body": "Hello {{name}}"})
    assert created.status_code == 201
    campaign_id = created.get_json()["id"]
    assert api.patch(f"/api/v1/crm/campaigns/{campaign_id}", json={"subject": "Hello {{name}}"}).status_code == 200
    response = api.post(f"/api/v1/crm/campaigns/{campaign_id}/send")
    assert response.status_code == 202, response.get_data(as_text=True)
    sent = response.get_json()
    assert sent["status"] == "sent" and sent["job"]["status"] == "done"
    assert sent["progress"]["percent"] == 100 and sent["progress"]["failed"] == 1
    assert len(smtp.messages) == 3 and smtp.for_address("jens@fjord.example")["Subject"] == "Hello Jens Hansen"
    refused = api.patch(f"/api/v1/crm/campaigns/{campaign_id}", json={"subject": "Too late"})
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
    listed = api.get("/api/v1/crm/campaigns?status=sent").get_json()["items"]
    assert [c["id"] for c in listed] == [campaign_id]
    assert api.get("/api/v1/crm/campaigns/999999").status_code == 404


def test_the_command_sends_with_a_progress_bar(app, kontor, smtp_server):
    from core.db import session

    inbox, port = smtp_server
    with app.app_context():
        configure_smtp(session, port, batch_size=1)
        people(session)
        segment = services.create_segment(session, {"name": "Newsletter", "include_parties": True,
                                                    "tags": "newsletter"})
        campaign_id = campaign(session, segment).id
        session.commit()
    refused = kontor("crm", "send-campaign", str(campaign_id))
    assert refused.exit_code == 1 and "core.mail.site_url" in refused.output
    with app.app_context():
        configure_smtp(session, port, batch_size=1, site_url="https://kontor.example.com/")
        session.commit()
    result = kontor("crm", "send-campaign", str(campaign_id))
    assert result.exit_code == 0, result.output
    assert "Sending Spring news" in result.output and "3 sent, 1 failed, 0 skipped" in result.output
    assert "https://kontor.example.com/crm/unsubscribe/" in inbox.text_for("jens@fjord.example")
    assert len(inbox.messages) == 3
    again = kontor("crm", "send-campaign", str(campaign_id))  # a sent campaign: its outcome, no mail
    assert again.exit_code == 0 and "3 sent, 1 failed, 0 skipped" in again.output and len(inbox.messages) == 3


def test_the_command_can_leave_the_send_to_a_worker(app, kontor, smtp_server):
    from core import Job
    from core.db import session

    inbox, port = smtp_server
    with app.app_context():
        configure_smtp(session, port, site_url="https://kontor.example.com")
        people(session)
        campaign_id = campaign(session, services.create_segment(session, {"name": "N", "tags": "newsletter",
                                                                          "include_parties": True})).id
        session.commit()
    result = kontor("crm", "send-campaign", str(campaign_id), "--background")
    assert result.exit_code == 0, result.output
    with app.app_context():
        job = session.execute(select(Job).where(Job.record == f"crm.campaign:{campaign_id}")).scalar_one()
        assert f"Job {job.id} sends Spring news" in result.output and job.user_id is None
        assert job.status == "queued" and job.kind == "crm.send_campaign"  # for `kontor worker`
        assert services.get_campaign(session, campaign_id).status == "sending"
    assert inbox.messages == []


def test_leads_are_mailed_and_the_send_reaches_their_timeline(db, smtp_server):
    inbox, port = smtp_server
    prospect = lead(db, "Ida Berg", "ida@prospect.example", company_name="Berg Design", tags=["fair"])
    lead(db, "Merged Away", "old@prospect.example", tags=["fair"], merged_into_id=prospect.id)
    segment = services.create_segment(db, {"name": "Fair visitors", "include_leads": True, "tags": "fair"})
    found = campaign(db, segment)
    services.start_send(db, found, now=T0)
    db.commit()
    send_all(db, found, port)
    assert inbox.to() == ["ida@prospect.example"]
    assert inbox.text_for("ida@prospect.example").startswith("Hello Ida Berg of Berg Design!")
    events = db.execute(select(TimelineEvent).where(TimelineEvent.kind == "campaign")).scalars().all()
    assert [(e.lead_id, e.party_id, e.campaign_id) for e in events] == [(prospect.id, None, found.id)]


def test_an_internationalised_address_is_mailed_with_smtputf8_and_failed_clearly_without(db):
    from core.mail.testing import smtp_server as plain_or_smtputf8_server

    jurgen = "jürgen.weiß@example.com"
    lead(db, "Jürgen Weiß", jurgen, company_name="Weiß Bau", tags=["fair"])
    lead(db, "Ida Berg", "ida@prospect.example", company_name="Berg Design", tags=["fair"])
    segment = services.create_segment(db, {"name": "Fair visitors", "include_leads": True, "tags": "fair"})
    first = campaign(db, segment)
    services.start_send(db, first, now=T0)
    db.commit()
    with plain_or_smtputf8_server(smtputf8=True) as (inbox, port):
        send_all(db, first, port)
    assert sorted(inbox.to()) == sorted([jurgen, "ida@prospect.example"])
    got = inbox.for_address(jurgen)
    assert str(got["To"]) == "Jürgen Weiß <jürgen.weiß@example.com>" and got["Subject"] == "News for Jürgen Weiß"
    assert inbox.text_for(jurgen).startswith("Hello Jürgen Weiß of Weiß Bau!")
    rows = {r.email: r for r in services.recipients(db, first)}
    assert (rows[jurgen].status, rows[jurgen].reason) == ("sent", "")
    assert {m.to_address: m.status for m in mail_messages(db, f"crm.campaign:{first.id}")} == \
        {jurgen: "sent", "ida@prospect.example": "sent"}

    again = services.duplicate_campaign(db, first)
    services.start_send(db, again, now=T0)
    db.commit()
    with plain_or_smtputf8_server() as (inbox, port):  # a server without SMTPUTF8
        steps = send_all(db, again, port)
    assert inbox.to() == ["ida@prospect.example"]
    assert (steps[-1].sent, steps[-1].failed, again.status) == (1, 1, "sent")
    rows = {r.email: r for r in services.recipients(db, again)}
    reason = ("The mail server does not accept internationalised addresses (SMTPUTF8), "
              "which jürgen.weiß@example.com needs.")
    assert (rows[jurgen].status, rows[jurgen].reason) == ("failed", reason)
    logged = {m.to_address: m for m in mail_messages(db, f"crm.campaign:{again.id}")}
    assert (logged[jurgen].status, logged[jurgen].attempts, logged[jurgen].error) == ("failed", 1, reason)
