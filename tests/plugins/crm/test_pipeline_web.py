"""The pipeline's pages: board (drag and select paths), forms, list, export, stages, forecast; and the
record rules: a salesperson never sees another salesperson's opportunity, wherever it could surface."""
import csv
import io
import re
from decimal import Decimal

from sqlalchemy import select

from plugins.crm.activities.models import TimelineEvent
from plugins.crm.pipeline import services
from plugins.crm.pipeline.models import Opportunity
from plugins.crm.testing import SECRET_DEAL as SECRET, crm_user as user, opportunity, party, signed_in, stage_named


def setup_deal(db, username="mads", roles=("salesperson",), **extra):
    owner = user(db, username, list(roles))
    deal = opportunity(db, owner, title=extra.pop("title", "Solar carport – Nordlys"), **extra)
    db.commit()
    return owner, deal


def test_board_renders_columns_with_totals_and_cards(db, client):
    owner, deal = setup_deal(db, revenue="12500.00")
    signed_in(client, "mads")
    page = client.get("/crm/board").get_data(as_text=True)
    assert "vendor/sortable-1.15.7.min.js" in page and "crm.js" in page and 'data-can-move="1"' in page
    new_column = page[page.index(f'id="column-{deal.stage_id}"'):page.index(f'id="column-{deal.stage_id + 1}"')]
    assert "Solar carport – Nordlys" in new_column and 'data-count="1"' in new_column
    assert "12,500.00" in new_column  # the column's sum
    assert f'id="card-{deal.id}"' in new_column and 'name="stage_id"' in new_column and ">Move<" in new_column


def test_board_stage_change_by_htmx_rerenders_both_columns(db, client):
    owner, deal = setup_deal(db)
    won = stage_named(db, "Won")
    signed_in(client, "mads")
    response = client.htmx("POST", f"/crm/opportunities/{deal.id}/stage",
                           data={"stage_id": won.id, "from": "board"})
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert html.count('hx-swap-oob="outerHTML"') == 3  # the old column, the new one, the status line
    won_column = html[html.index(f'id="column-{won.id}"'):]
    assert f'id="card-{deal.id}"' in won_column
    db.expire_all()
    found = db.get(Opportunity, deal.id)
    assert found.stage_id == won.id and found.closed_at is not None
    events = db.execute(select(TimelineEvent).where(TimelineEvent.opportunity_id == deal.id,
                                                    TimelineEvent.kind == "stage")).scalars().all()
    assert len(events) == 2 and events[-1].user_id == owner.id


def test_board_stage_change_without_javascript(db, client):
    _owner, deal = setup_deal(db)
    proposal = stage_named(db, "Proposal")
    signed_in(client, "mads")
    response = client.post_form(f"/crm/opportunities/{deal.id}/stage",
                                {"stage_id": proposal.id, "from": "board", "next": "/crm/board"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/board")
    db.expire_all()
    assert db.get(Opportunity, deal.id).stage_id == proposal.id
    page = client.get("/crm/board").get_data(as_text=True)
    assert "moved to Proposal" in page


def test_lost_without_reason_is_refused_on_every_path(db, client):
    _owner, deal = setup_deal(db)
    lost = stage_named(db, "Lost")
    signed_in(client, "mads")
    response = client.htmx("POST", f"/crm/opportunities/{deal.id}/stage", data={"stage_id": lost.id, "from": "board"})
    assert response.status_code == 422
    assert "Say why the opportunity was lost." in response.get_data(as_text=True)
    response = client.post_form(f"/crm/opportunities/{deal.id}/stage", {"stage_id": lost.id, "lost_reason": " "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="e-lost_reason"[^>]*>Say why the opportunity was lost.', html)
    db.expire_all()
    assert db.get(Opportunity, deal.id).stage_id != lost.id
    response = client.post_form(f"/crm/opportunities/{deal.id}/stage",
                                {"stage_id": lost.id, "lost_reason": "Chose a competitor"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Opportunity, deal.id).lost_reason == "Chose a competitor"


def test_load_more_cards(db, client):
    owner = user(db, "boss", ["sales_manager"])
    customer = party(db)
    deals = [opportunity(db, owner, title=f"Deal {i:02d}", customer=customer) for i in range(45)]
    db.commit()
    signed_in(client, "boss")
    page = client.get("/crm/board").get_data(as_text=True)
    assert page.count('class="board-card"') == 20 and "Load more" in page
    link = re.search(r'hx-get="(/crm/board/columns/\d+/cards\?after=\d+)"', page).group(1)
    more = client.htmx("GET", link.replace("&amp;", "&")).get_data(as_text=True)
    assert more.count('class="board-card"') == 20 and f"Deal {deals[24].title[-2:]}" in more and "Load more" in more


def test_opportunity_form_errors_beside_fields(db, client):
    user(db, "mads", ["salesperson"])
    db.commit()
    signed_in(client, "mads")
    response = client.post_form("/crm/opportunities/new", {"party_id": "", "title": "Deal", "owner_id": ""})
    assert response.status_code == 422
    assert re.search(r'id="e-party_id"[^>]*>Choose a customer.', response.get_data(as_text=True))
    customer = party(db, "Havnefront A/S")
    db.commit()
    me = db.execute(select(Opportunity.owner_id)).first()  # none yet
    assert me is None
    response = client.post_form("/crm/opportunities/new", {"party_id": customer.id, "title": "Deal",
                                                          "owner_id": "", "expected_revenue": "12,50x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-expected_revenue"' in html or 'id="e-owner_id"' in html
    mads_id = db.execute(select(Opportunity).limit(1)).first()
    assert mads_id is None


def test_create_edit_and_detail(db, client):
    owner = user(db, "mads", ["salesperson"])
    customer = party(db, "Havnefront A/S")
    db.commit()
    signed_in(client, "mads")
    assert "Havnefront A/S" in client.get("/crm/opportunities/new?party_id=%d" % customer.id).get_data(as_text=True)
    options = client.htmx("GET", "/crm/party-options?party_q=HAVNE").get_data(as_text=True)
    assert f'<option value="{customer.id}">Havnefront A/S</option>' in options
    assert "Havnefront" not in client.htmx("GET", "/crm/party-options?party_q=zzz").get_data(as_text=True)
    response = client.post_form("/crm/opportunities/new", {
        "party_id": customer.id, "title": "Heat pumps", "owner_id": owner.id, "expected_revenue": "1,250.50",
        "currency": "eur", "probability": "", "expected_close": "2027-02-28", "stage_id": ""})
    assert response.status_code == 303, response.get_data(as_text=True)
    deal = db.execute(select(Opportunity)).unique().scalar_one()
    assert (deal.expected_revenue, deal.currency, deal.probability) == (Decimal("1250.50"), "EUR", 10)
    detail = client.get(f"/crm/opportunities/{deal.id}").get_data(as_text=True)
    assert "Heat pumps" in detail and "€1,250.50" in detail and "crm/timeline?opportunity_id=" in detail
    response = client.post_form(f"/crm/opportunities/{deal.id}/edit", {
        "party_id": customer.id, "title": "", "owner_id": owner.id, "expected_revenue": "10", "currency": "EUR",
        "probability": "30", "expected_close": ""})
    assert response.status_code == 422 and 'id="e-title"' in response.get_data(as_text=True)
    response = client.post_form(f"/crm/opportunities/{deal.id}/edit", {
        "party_id": customer.id, "title": "Heat pumps ×4", "owner_id": owner.id, "expected_revenue": "10",
        "currency": "EUR", "probability": "30", "expected_close": ""})
    assert response.status_code == 303
    db.expire_all()
    deal = db.get(Opportunity, deal.id)
    assert (deal.title, deal.probability, deal.expected_close) == ("Heat pumps ×4", 30, None)


def test_list_filters_and_export(db, client):
    boss = user(db, "boss", ["sales_manager"])
    customer = party(db, "Kystlinje ApS")
    opportunity(db, boss, title="=HYPERLINK(\"x\")", customer=customer)
    other = opportunity(db, boss, title="Racking upgrade", customer=customer)
    from plugins.crm.pipeline import services

    services.change_stage(db, other, stage_named(db, "Proposal"))
    db.commit()
    signed_in(client, "boss")
    page = client.get("/crm/opportunities?stage_id=%d" % other.stage_id).get_data(as_text=True)
    assert "Racking upgrade" in page and "HYPERLINK" not in page
    page = client.get("/crm/opportunities?q=kystlinje").get_data(as_text=True)
    assert "Racking upgrade" in page and "HYPERLINK" in page
    assert "Racking upgrade" not in client.get("/crm/opportunities?q=%25").get_data(as_text=True)  # % is literal
    response = client.get("/crm/opportunities?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    titles = {row[1] for row in rows[1:]}
    assert titles == {"'=HYPERLINK(\"x\")", "Racking upgrade"}
    response = client.get("/crm/opportunities?format=xlsx&stage_id=%d" % other.stage_id)
    assert response.status_code == 200 and response.data[:2] == b"PK"


def test_stage_management(db, client):
    user(db, "boss", ["sales_manager"])
    user(db, "mads", ["salesperson"])
    db.commit()
    signed_in(client, "mads")
    assert client.get("/crm/stages").status_code == 403
    client.post_form("/logout", {})
    signed_in(client, "boss")
    assert "Negotiation" in client.get("/crm/stages").get_data(as_text=True)
    response = client.post_form("/crm/stages", {"name": "", "probability": "5"})
    assert response.status_code == 422 and 'id="e-name"' in response.get_data(as_text=True)
    response = client.post_form("/crm/stages", {"name": "Demo booked", "probability": "40"})
    assert response.status_code == 303
    stage = stage_named(db, "Demo booked")
    response = client.post_form(f"/crm/stages/{stage.id}/edit", {"name": "Demo held", "sequence": "35",
                                                                "probability": "45", "active": "1"})
    assert response.status_code == 303
    db.expire_all()
    stage = stage_named(db, "Demo held")
    assert (stage.sequence, stage.probability, stage.active) == (35, 45, True)
    names = re.findall(r'/crm/stages/\d+/edit">([^<]+)<', client.get("/crm/stages").get_data(as_text=True))
    assert names.index("Demo held") == 3


def test_forecast_page_and_widget(db, client):
    boss, deal = setup_deal(db, "boss", ("sales_manager",), revenue="1000.00")
    signed_in(client, "boss")
    page = client.get("/crm/forecast").get_data(as_text=True)
    assert "Weighted pipeline by expected close month" in page and "100.00" in page
    assert page.count('role="img"') >= 3  # month, owner and funnel charts
    widget = client.get("/crm/widgets/funnel").get_data(as_text=True)
    assert "New" in widget and 'role="img"' in widget
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "/crm/widgets/funnel" in dashboard


def test_xss_in_titles_is_escaped(db, client):
    payload = '<script>alert("x")</script>'
    _owner, deal = setup_deal(db, "boss", ("sales_manager",), title=payload)
    signed_in(client, "boss")
    for path in ("/crm/board", f"/crm/opportunities/{deal.id}", "/crm/opportunities",
                 f"/crm/timeline?opportunity_id={deal.id}", f"/parties/{deal.party_id}"):
        html = client.get(path).get_data(as_text=True)
        assert payload not in html, path
    assert "&lt;script&gt;" in client.get("/crm/board").get_data(as_text=True)


def test_campaign_attribution(db, client):
    from plugins.crm.campaigns import services as campaigns

    owner = user(db, "mads", ["salesperson"])
    customer = party(db, "Polarlys AS")
    segment = campaigns.create_segment(db, {"name": "Nordics", "include_parties": True})
    campaign = campaigns.create_campaign(db, {"name": "Spring fair 2027", "segment_id": segment.id,
                                              "subject": "Hello {name}", "body": "See you there"})
    db.commit()
    signed_in(client, "mads")
    form = client.get("/crm/opportunities/new").get_data(as_text=True)
    assert 'name="campaign_id"' in form and "Spring fair 2027" in form
    response = client.post_form("/crm/opportunities/new", {
        "party_id": customer.id, "title": "Fair lead", "owner_id": owner.id, "campaign_id": "99999"})
    assert response.status_code == 422 and 'id="e-campaign_id"' in response.get_data(as_text=True)
    response = client.post_form("/crm/opportunities/new", {
        "party_id": customer.id, "title": "Fair lead", "owner_id": owner.id, "campaign_id": campaign.id})
    assert response.status_code == 303
    deal = db.execute(select(Opportunity)).unique().scalar_one()
    assert deal.campaign_id == campaign.id
    assert "Spring fair 2027" in client.get(f"/crm/opportunities/{deal.id}").get_data(as_text=True)


def test_handing_a_deal_over_leaves_the_salesperson_on_the_board(db, client):
    mads, deal = setup_deal(db)
    sofie = user(db, "sofie", ["salesperson"])
    db.commit()
    signed_in(client, "mads")
    response = client.post_form(f"/crm/opportunities/{deal.id}/edit", {
        "party_id": deal.party_id, "title": deal.title, "owner_id": sofie.id, "expected_revenue": "1000.00",
        "currency": "DKK", "probability": "10", "expected_close": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/board")
    assert client.get(f"/crm/opportunities/{deal.id}").status_code == 404


# -- Record rules: no salesperson sees another's opportunity, wherever it could surface --


def test_pages_exports_and_panels(db, client, deals):
    theirs, customer = deals["theirs"], deals["customer"]
    signed_in(client, "mads")
    for path in ("/crm/board", "/crm/opportunities", "/crm/opportunities?q=secret", "/crm/opportunities?status=lost",
                 f"/crm/opportunities?owner_id={deals['sofie'].id}", "/crm/opportunities?format=csv",
                 f"/crm/board/columns/{theirs.stage_id}/cards", f"/crm/board?owner_id={deals['sofie'].id}",
                 f"/parties/{customer.id}", f"/crm/timeline?party_id={customer.id}", "/crm/widgets/funnel"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert SECRET not in body and "Secret reason" not in body, path
    assert "Mads own deal" in client.get("/crm/opportunities?format=csv").get_data(as_text=True)
    for path in (f"/crm/opportunities/{theirs.id}", f"/crm/opportunities/{theirs.id}/edit",
                 f"/crm/opportunities/{theirs.id}/stage"):
        assert client.get(path).status_code == 404, path
    won = stage_named(db, "Won")
    assert client.post_form(f"/crm/opportunities/{theirs.id}/stage", {"stage_id": won.id}).status_code == 404
    assert client.htmx("POST", f"/crm/opportunities/{theirs.id}/stage",
                       data={"stage_id": won.id, "from": "board"}).status_code == 404
    assert client.get("/crm/forecast").status_code == 403  # salespeople have no forecast


def test_manager_sees_everything(db, client, deals):
    signed_in(client, "boss")
    board = client.get("/crm/board").get_data(as_text=True)
    assert SECRET in board and "Mads own deal" in board
    assert client.get(f"/crm/opportunities/{deals['theirs'].id}").status_code == 200
    forecast = client.get("/crm/forecast").get_data(as_text=True)
    assert "Secret reason" in forecast


def test_forecast_for_a_salesperson_with_report_rights_is_their_own(db, client, deals, app):
    from core.auth.models import Role
    from sqlalchemy import select

    analyst = user(db, "ana", ["salesperson"])
    # a role holding the report permission but not read_all
    from core.auth.services import ensure_role, grant

    role = ensure_role(db, "forecaster", "Forecaster", "Reads the forecast.")
    grant(db, role, "crm.report.read")
    analyst.roles = list(analyst.roles) + [db.execute(select(Role).where(Role.name == "forecaster")).scalar_one()]
    opportunity(db, analyst, title="Ana deal", revenue="500.00")
    db.commit()
    signed_in(client, "ana")
    page = client.get("/crm/forecast").get_data(as_text=True)
    assert "Secret reason" not in page and "Shared Customer" not in page
    data = client.get("/api/v1/crm/reports/forecast").get_json()
    assert {row["owner"] for row in data["by_owner"]} == {"ana"}
    assert data["lost_reasons"] == []


def test_a_reader_sees_the_board_but_cannot_move(db, client, deals):
    from core.auth.services import ensure_role, grant

    role = ensure_role(db, "pipeline_reader", "Pipeline reader", "Looks at the pipeline.")
    for name in ("crm.opportunity.read", "crm.opportunity.read_all"):
        grant(db, role, name)
    user(db, "reader", ["pipeline_reader"])
    db.commit()
    signed_in(client, "reader")
    board = client.get("/crm/board").get_data(as_text=True)
    assert SECRET in board and 'data-can-move="0"' in board and 'name="stage_id"' not in board
    response = client.post_form(f"/crm/opportunities/{deals['mine'].id}/stage", {"stage_id": stage_named(db, "Won").id})
    assert response.status_code == 403
