"""Tickets over HTTP: the pages, the htmx conversation, exports, the SLA pages, the CLI and the demo."""
import csv
import io
import re

from sqlalchemy import select

from core.testing import make_user

from plugins.crm.testing import add_ticket
from plugins.crm.tickets import services
from plugins.crm.tickets.models import Ticket, TicketMessage

XSS = '<script>alert("x")</script>'


def agent_client(app, client, username="agent", roles=("service_agent",)):
    make_user(app, username, list(roles), "agent password 1")
    assert client.login(username, "agent password 1").status_code == 302
    return client


def test_create_reply_note_resolve_and_close_through_the_pages(app, client, customer):
    firm_id, mette_id = customer
    web = agent_client(app, client)
    assert "New ticket" in web.get("/crm/tickets").get_data(as_text=True)

    # 1. A missing subject is refused beside the field, and nothing is written.
    bad = web.post_form("/crm/tickets/new", {"subject": "", "party_id": str(firm_id), "priority": "high"})
    assert bad.status_code == 422
    assert 'id="e-subject"' in bad.get_data(as_text=True)
    # 2. The form opens the ticket and leads to its page.
    made = web.post_form("/crm/tickets/new", {"subject": "Pallet arrived damaged", "party_id": str(firm_id),
                                              "contact_id": str(mette_id), "priority": "high",
                                              "description": "Two boxes crushed."})
    assert made.status_code == 303
    ticket_id = int(made.headers["Location"].rsplit("/", 1)[1])
    page = web.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    number = f"T-{ticket_id:06d}"
    assert number in page and "Pallet arrived damaged" in page and "Mette Nielsen" in page

    # 3. An internal note and a reply, posted as htmx does: the page part comes back with both, marked apart.
    web.htmx("POST", f"/crm/tickets/{ticket_id}/messages", data={"kind": "note", "body": "Ask the carrier"})
    part = web.htmx("POST", f"/crm/tickets/{ticket_id}/messages",
                    data={"kind": "reply", "body": "We are sending new boxes"})
    assert part.status_code == 200
    html = part.get_data(as_text=True)
    assert "<html" not in html and 'id="ticket-page"' in html
    assert re.search(r'data-kind="note">\s*<header><strong>Internal note</strong>', html)
    assert re.search(r'data-kind="reply">\s*<header><strong>Reply to customer</strong>', html)
    empty = web.htmx("POST", f"/crm/tickets/{ticket_id}/messages", data={"kind": "reply", "body": " "})
    assert empty.status_code == 422 and 'id="e-body"' in empty.get_data(as_text=True)

    # 4. Resolve, try an illegal move, close, reopen.
    assert web.post_form(f"/crm/tickets/{ticket_id}/status", {"status": "resolved"}).status_code == 303
    refused = web.post_form(f"/crm/tickets/{ticket_id}/status", {"status": "waiting"}, follow_redirects=True)
    assert "cannot become waiting" in refused.get_data(as_text=True)
    web.post_form(f"/crm/tickets/{ticket_id}/status", {"status": "closed"})
    closed = web.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    assert "Reopen" in closed and "reopen it to answer" in closed
    from core.db import session

    with app.app_context():
        t = session.get(Ticket, ticket_id)
        assert t.status == "closed" and t.first_response_at is not None
        assert [m.kind for m in t.messages] == ["note", "reply"]


def test_replies_are_emailed_to_the_customer_and_notes_are_not(app, client, customer, smtp):
    firm_id, mette_id = customer
    ticket_id = add_ticket(app, subject="Invoice copy", party_id=firm_id, contact_id=mette_id)
    bounced_id = add_ticket(app, subject="Wrong address", contact_email="ghost@bounce.example")
    web = agent_client(app, client)
    web.htmx("POST", f"/crm/tickets/{ticket_id}/messages", data={"kind": "note", "body": "Check the archive"})
    page = web.htmx("POST", f"/crm/tickets/{ticket_id}/messages",
                    data={"kind": "reply", "body": "Here is the copy.\nBest regards"}).get_data(as_text=True)
    assert smtp.to() == ["mette@fjord.example"]
    assert smtp.messages[0]["Subject"] == f"[T-{ticket_id:06d}] Invoice copy"
    assert smtp.text_for("mette@fjord.example") == "Here is the copy.\nBest regards\n"
    assert "Mailed to mette@fjord.example" in page
    bounced = web.htmx("POST", f"/crm/tickets/{bounced_id}/messages",
                       data={"kind": "reply", "body": "Hello"}).get_data(as_text=True)
    assert "Mailed to ghost@bounce.example" in bounced  # handed over; the server refuses it in the mail job
    refused = web.get(f"/crm/tickets/{bounced_id}").get_data(as_text=True)
    assert 'data-status="failed"' in refused and "550 5.1.1 No such mailbox here" in refused
    from core import Job, MailMessage
    from core.db import session

    with app.app_context():
        rows = session.execute(select(TicketMessage.kind, TicketMessage.emailed_to, TicketMessage.email_error)
                               .order_by(TicketMessage.id)).all()
        assert rows == [("note", "", ""), ("reply", "mette@fjord.example", ""), ("reply", "ghost@bounce.example", "")]
        mail = session.execute(select(MailMessage.record, MailMessage.to_address, MailMessage.status)
                               .order_by(MailMessage.id)).all()
        assert mail == [(f"crm.ticket:{ticket_id}", "mette@fjord.example", "sent"),
                        (f"crm.ticket:{bounced_id}", "ghost@bounce.example", "failed")]
        kinds = session.execute(select(Job.kind, Job.status).order_by(Job.id)).all()
        assert kinds == [("core.mail.send", "done"), ("core.mail.send", "failed")]  # a refusal fails its job


def test_text_is_escaped_everywhere(app, admin_client, customer):
    firm_id, _ = customer
    ticket_id = add_ticket(app, subject=XSS, description=XSS, party_id=firm_id)
    admin_client.htmx("POST", f"/crm/tickets/{ticket_id}/messages", data={"kind": "reply", "body": XSS})
    admin_client.htmx("POST", f"/crm/tickets/{ticket_id}/messages", data={"kind": "note", "body": XSS})
    for path in (f"/crm/tickets/{ticket_id}", "/crm/tickets", "/crm/sla", f"/parties/{firm_id}", "/dashboard"):
        html = admin_client.get(path).get_data(as_text=True)
        assert XSS not in html, path
    detail = admin_client.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    assert detail.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 4


def test_breached_tickets_are_highlighted_listed_and_filtered(app, admin_client, customer):
    firm_id, _ = customer
    late = add_ticket(app, hours_ago=30, subject="Printer on fire", priority="urgent", party_id=firm_id)
    add_ticket(app, hours_ago=0, subject="Fresh question", priority="low", party_id=firm_id)
    listing = admin_client.get("/crm/tickets").get_data(as_text=True)
    row = next(r for r in listing.split("<tr>") if "Printer on fire" in r)
    assert 'class="badge badge-error sla-breached"' in row
    assert "sla-breached" not in next(r for r in listing.split("<tr>") if "Fresh question" in r)
    only = admin_client.get("/crm/tickets?sla=breached").get_data(as_text=True)
    assert "Printer on fire" in only and "Fresh question" not in only
    sla_page = admin_client.get("/crm/sla").get_data(as_text=True)
    breached_part = sla_page.split('id="sla-breached"')[1].split('id="sla-at-risk"')[0]
    assert f"T-{late:06d}" in breached_part
    dashboard = admin_client.get("/dashboard").get_data(as_text=True)
    assert "Service levels" in dashboard and f"T-{late:06d} Printer on fire" in dashboard
    party_page = admin_client.get(f"/parties/{firm_id}").get_data(as_text=True)
    assert "Open tickets" in party_page and "Printer on fire" in party_page


def test_export_honours_filters_and_neutralises_formulas(app, admin_client, customer):
    firm_id, _ = customer
    add_ticket(app, subject="=HYPERLINK(\"http://evil\")", party_id=firm_id, priority="high")
    add_ticket(app, subject="Quiet one", party_id=firm_id, priority="low")
    response = admin_client.get("/crm/tickets?priority=high&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Number", "Subject", "Customer"]
    assert [r[1] for r in rows[1:]] == ["'=HYPERLINK(\"http://evil\")"]
    xlsx = admin_client.get("/crm/tickets?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert admin_client.get("/crm/tickets?format=pdf").status_code == 422
    assert admin_client.get("/crm/tickets/export.csv").status_code == 404  # the list's own URL exports


def test_sla_policies_page(app, client):
    web = agent_client(app, client)
    page = web.get("/crm/sla/policies")
    assert page.status_code == 200 and 'name="response_hours_urgent"' in page.get_data(as_text=True)
    values = {f"{kind}_hours_{p}": v for p in ("low", "normal", "high", "urgent")
              for kind, v in (("response", "4"), ("resolution", "40"))}
    bad = web.post_form("/crm/sla/policies", {**values, "resolution_hours_high": "2"})
    assert bad.status_code == 422 and 'id="e-response_hours_high"' in bad.get_data(as_text=True)
    assert web.post_form("/crm/sla/policies", values).status_code == 303
    from core.db import session

    with app.app_context():
        assert {(p.response_hours, p.resolution_hours) for p in services.policies(session)} == {(4, 40)}


def test_who_may_do_what(app, client):
    make_user(app, "seller", ["salesperson"], "seller password 1")
    client.login("seller", "seller password 1")
    assert client.get("/crm/tickets").status_code == 403
    client.post("/logout", data={"csrf_token": client.csrf_token("/dashboard")})
    make_user(app, "boss", ["sales_manager"], "boss password 1")
    client.login("boss", "boss password 1")
    assert client.get("/crm/tickets").status_code == 200  # sales managers read tickets
    assert client.get("/crm/tickets/new").status_code == 403
    assert client.get("/crm/sla/policies").status_code == 403


# -- the command --


def test_sla_check_prints_breached_tickets(app, kontor, customer):
    firm_id, _ = customer
    late = add_ticket(app, hours_ago=50, subject="Overdue thing", priority="high", party_id=firm_id)
    add_ticket(app, hours_ago=1, subject="Fine thing", priority="low", party_id=firm_id)
    result = kontor("crm", "sla-check")
    assert result.exit_code == 1
    assert f"T-{late:06d}" in result.output and "Overdue thing" in result.output
    assert "Fine thing" not in result.output and "1 breached ticket(s)." in result.output


# -- the demo --


def test_demo_tickets_and_campaigns(app, db):
    from core.parties.demo import load_demo_parties
    from plugins.crm.campaigns import demo as campaign_demo, services as campaign_services
    from plugins.crm.campaigns.models import Campaign
    from plugins.crm.tickets import demo as ticket_demo

    load_demo_parties(db, lambda n=1: None)
    added = []
    ticket_demo.load(db, added.append)
    campaign_demo.load(db, added.append)
    db.commit()
    tickets = db.execute(select(Ticket)).scalars().all()
    assert len(tickets) == 25 and sum(added) > 25
    assert {t.status for t in tickets} == {"new", "open", "waiting", "resolved", "closed"}
    assert services.breached_tickets(db) and any(t.messages for t in tickets)
    campaigns = {c.name: c for c in db.execute(select(Campaign)).scalars()}
    sent = campaigns["Spring catalogue"]
    assert sent.status == "sent" and campaigns["Autumn offer"].status == "draft"
    state = campaign_services.progress(db, sent)
    assert state.total > 0 and state.sent + state.failed == state.total and state.queued == 0


def test_odd_query_values_answer_without_error(app, admin_client, customer):
    from plugins.crm.campaigns import services as campaigns

    firm_id, _ = customer
    with app.app_context():
        from core.db import session

        segment = campaigns.create_segment(session, {"name": "All", "include_parties": True})
        campaign_id = campaigns.create_campaign(session, {"name": "C", "segment_id": segment.id}).id
        session.commit()
    for path in ("/crm/tickets/party-options?party_id=99999999999", "/crm/tickets/party-options?party_id=²",
                 "/crm/tickets/contact-options?party_id=99999999999", "/crm/tickets?assignee=²&party_id=³",
                 "/crm/tickets?assignee=99999999999",
                 f"/crm/campaigns/{campaign_id}?after_id=²&recipient_status=nope",
                 "/crm/segments/count?party_kind=robot", "/crm/tickets/new?party_id=²"):
        assert admin_client.get(path).status_code == 200, path
    # the shared paging refuses a sort key or cursor it did not write; a NUL byte is refused anywhere
    for path in ("/crm/tickets?sort=bogus", "/crm/tickets?after=garbage", "/crm/segments/count?countries=%00"):
        assert admin_client.get(path).status_code == 422, path
    odd = admin_client.post_form("/crm/tickets/new", {"subject": "x", "party_id": "99999999999"})
    assert odd.status_code == 422 and 'id="e-party_id"' in odd.get_data(as_text=True)


def test_the_crm_styles_are_in_its_static_css_not_in_templates():
    from pathlib import Path

    import plugins.crm

    root = Path(plugins.crm.__file__).parent
    inline = [str(path.relative_to(root)) for path in (root / "templates").rglob("*.html")
              if "<style" in path.read_text(encoding="utf-8")]
    assert inline == []
    css = (root / "static" / "crm.css").read_text(encoding="utf-8")
    assert ".ticket-body" in css and ".campaign-body" in css and ".message-note" in css


def test_a_refused_status_change_from_htmx_goes_back_to_the_ticket_with_the_reason(app, client, customer):
    """A refused button sent by htmx answers as every page of the core does: an HX-Redirect to the
    ticket (not a 303 htmx would swap into the page), with the reason shown there, and nothing changed."""
    firm_id, _mette_id = customer
    ticket_id = add_ticket(app, party_id=firm_id)
    web = agent_client(app, client)
    refused = web.htmx("POST", f"/crm/tickets/{ticket_id}/status", data={"status": "waiting"})
    assert refused.status_code == 204
    assert refused.headers["HX-Redirect"] == f"/crm/tickets/{ticket_id}"
    page = web.get(f"/crm/tickets/{ticket_id}").get_data(as_text=True)
    assert "cannot become waiting" in page
    from core.db import session

    with app.app_context():
        assert session.get(Ticket, ticket_id).status == "new"
