"""The pipeline's rules: stages, opportunities, stage changes, the board and the forecast, and the
bounds its numbers and months stay inside."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import KontorError

from plugins.crm import timeline
from plugins.crm.activities.models import TimelineEvent
from plugins.crm.pipeline import services
from plugins.crm.pipeline.models import Opportunity, Stage
from plugins.crm.testing import crm_user as user, opportunity, party, stage_named


# -- Stages --


def test_default_stages_are_loaded_on_install(db):
    stages = services.list_stages(db)
    assert [(s.name, s.probability, s.is_won, s.is_lost) for s in stages] == [
        ("New", 10, False, False), ("Qualified", 25, False, False), ("Proposal", 50, False, False),
        ("Negotiation", 75, False, False), ("Won", 100, True, False), ("Lost", 0, False, True)]


def test_stage_rules(db):
    with pytest.raises(KontorError) as exc:
        services.create_stage(db, {"name": "Both", "is_won": True, "is_lost": True})
    assert exc.value.field == "is_lost"
    with pytest.raises(KontorError) as exc:
        services.create_stage(db, {"name": "Odd", "probability": "120"})
    assert exc.value.field == "probability"
    with pytest.raises(KontorError) as exc:
        services.create_stage(db, {"name": "  "})
    assert exc.value.field == "name"
    demo = services.create_stage(db, {"name": "Demo", "probability": "40"})
    assert demo.sequence == 70 and services.list_stages(db)[-1].id == demo.id
    services.move_stage(db, demo, -1)
    assert [s.name for s in services.list_stages(db)][-2:] == ["Demo", "Lost"]


def test_a_stage_in_use_keeps_its_nature_and_cannot_be_deleted(db):
    owner = user(db, "mads", ["salesperson"])
    deal = opportunity(db, owner)
    with pytest.raises(KontorError):
        services.update_stage(db, deal.stage, {"is_won": True})
    with pytest.raises(KontorError):
        services.delete_stage(db, deal.stage)
    empty = services.create_stage(db, {"name": "Spare"})
    services.delete_stage(db, empty)
    assert db.get(Stage, empty.id) is None


# -- Opportunities --


def test_create_opportunity_defaults(db):
    owner = user(db, "mads", ["salesperson"])
    customer = party(db)
    deal = services.create_opportunity(db, party=customer, title="  Solar carport ", owner_id=owner.id)
    assert deal.title == "Solar carport"
    assert deal.stage.name == "New" and deal.probability == 10
    assert deal.currency == "DKK"  # the company's
    assert deal.expected_revenue == Decimal("0.00")
    assert deal.closed_at is None and deal.status == "open"
    events = db.execute(select(TimelineEvent).where(TimelineEvent.opportunity_id == deal.id)).scalars().all()
    assert [e.kind for e in events] == ["stage"] and events[0].party_id == customer.id


def test_create_opportunity_validates(db):
    owner = user(db, "mads", ["salesperson"])
    customer = party(db)
    cases = [
        (dict(title=""), "title"), (dict(expected_revenue="-1"), "expected_revenue"),
        (dict(expected_revenue="1.005"), "expected_revenue"), (dict(currency="XXQ"), "currency"),
        (dict(expected_close="31.12.2026"), "expected_close"), (dict(owner_id=99999), "owner_id"),
        (dict(party=99999), "party_id"), (dict(stage=stage_named(db, "Lost")), "stage_id"),
        (dict(probability=101), "probability"),
    ]
    for change, field in cases:
        args = {"party": customer, "title": "Deal", "owner_id": owner.id, **change}
        with pytest.raises(KontorError) as exc:
            services.create_opportunity(db, **args)
        assert exc.value.field == field, change


def test_probability_can_be_overridden_and_follows_stage_changes(db):
    owner = user(db, "mads", ["salesperson"])
    deal = opportunity(db, owner, probability=35, currency="EUR", expected_close=date(2027, 3, 1))
    assert deal.probability == 35 and deal.currency == "EUR"
    services.change_stage(db, deal, stage_named(db, "Proposal"))
    assert deal.probability == 50


def test_stage_change_to_won_closes_and_records(db):
    owner = user(db, "mads", ["salesperson"])
    deal = opportunity(db, owner)
    services.change_stage(db, deal, stage_named(db, "Won"), user_id=owner.id)
    assert deal.status == "won" and deal.closed_at is not None and deal.probability == 100
    event = db.execute(select(TimelineEvent).where(TimelineEvent.opportunity_id == deal.id)
                       .order_by(TimelineEvent.id.desc())).scalars().first()
    assert (event.title, event.title_args) == ("Stage: %(old)s → %(new)s", {"old": "New", "new": "Won"})
    assert event.kind == "stage" and timeline.shown_title(event) == "Stage: New → Won" and event.user_id == owner.id
    services.change_stage(db, deal, stage_named(db, "Negotiation"))
    assert deal.closed_at is None and deal.status == "open"


def test_lost_needs_a_reason(db):
    owner = user(db, "mads", ["salesperson"])
    deal = opportunity(db, owner)
    with pytest.raises(KontorError) as exc:
        services.change_stage(db, deal, stage_named(db, "Lost"), lost_reason="   ")
    assert exc.value.field == "lost_reason"
    assert deal.stage.name == "New"
    services.change_stage(db, deal, stage_named(db, "Lost"), lost_reason="Price too high")
    assert deal.status == "lost" and deal.lost_reason == "Price too high" and deal.closed_at is not None
    services.change_stage(db, deal, stage_named(db, "Proposal"))
    assert deal.lost_reason == "" and deal.closed_at is None


def test_update_opportunity(db):
    owner = user(db, "mads", ["salesperson"])
    other = user(db, "sofie", ["salesperson"])
    deal = opportunity(db, owner)
    services.update_opportunity(db, deal, {"title": "Bigger deal", "expected_revenue": "2500.50",
                                           "owner_id": other.id, "expected_close": "2027-01-31"})
    assert (deal.title, deal.expected_revenue, deal.owner_id, deal.expected_close) == (
        "Bigger deal", Decimal("2500.50"), other.id, date(2027, 1, 31))
    with pytest.raises(KontorError) as exc:
        services.update_opportunity(db, deal, {"stage_id": stage_named(db, "Lost").id})
    assert exc.value.field == "lost_reason"


# -- Board and record rules --


def test_board_totals_in_sql_and_cards_paged(db):
    owner = user(db, "mads", ["sales_manager"])
    customer = party(db)
    for index in range(25):
        opportunity(db, owner, title=f"Deal {index}", revenue=f"{100 + index}.25", customer=customer)
    opportunity(db, owner, title="Euro deal", revenue="10.00", customer=customer, currency="EUR")
    columns = services.board(db, services.Filters(), owner, per_column=10)
    new = columns[0]
    assert new.stage.name == "New" and new.count == 26
    assert new.totals == {"DKK": sum(Decimal(f"{100 + i}.25") for i in range(25)), "EUR": Decimal("10.00")}
    assert len(new.cards) == 10 and new.more
    cards, more = services.column_cards(db, new.stage.id, services.Filters(), owner, after=new.cards[-1].id, limit=10)
    assert len(cards) == 10 and more and cards[0].id < new.cards[-1].id
    assert all(c.count == 0 for c in columns[1:])


def test_salesperson_sees_only_their_own(db):
    mads = user(db, "mads", ["salesperson"])
    sofie = user(db, "sofie", ["salesperson"])
    boss = user(db, "boss", ["sales_manager"])
    mine = opportunity(db, mads, title="Mads deal")
    theirs = opportunity(db, sofie, title="Sofie deal")
    ids = lambda u: {o.id for o in db.execute(services.opportunities_query(services.Filters(), u)).unique().scalars()}
    assert ids(mads) == {mine.id}
    assert ids(boss) == {mine.id, theirs.id}
    assert services.board(db, services.Filters(), mads)[0].count == 1
    with pytest.raises(KontorError):
        services.get_opportunity(db, theirs.id, user=mads)
    assert services.forecast(db, services.Filters(), mads)["by_owner"][0]["owner_id"] == mads.id


# -- Forecast --


def test_forecast_numbers_are_exact(db):
    boss = user(db, "boss", ["sales_manager"])
    mads = user(db, "mads", ["salesperson"])
    customer = party(db)
    jan, feb = date(2027, 1, 15), date(2027, 2, 3)
    opportunity(db, mads, "A", "1000.00", customer, expected_close=jan)  # New 10 % → 100.00
    opportunity(db, mads, "B", "333.33", customer, expected_close=jan, probability=33)  # → 110.00 (109.9989)
    opportunity(db, boss, "C", "2000.00", customer, expected_close=feb, stage=stage_named(db, "Proposal"))  # → 1000
    opportunity(db, boss, "D", "50.00", customer, expected_close=feb, currency="EUR")  # → 5.00 EUR
    won = opportunity(db, boss, "E", "700.00", customer)
    lost = opportunity(db, mads, "F", "400.00", customer)
    lost2 = opportunity(db, mads, "G", "600.00", customer)
    services.change_stage(db, won, stage_named(db, "Won"))
    services.change_stage(db, lost, stage_named(db, "Lost"), lost_reason="Price too high")
    services.change_stage(db, lost2, stage_named(db, "Lost"), lost_reason="Price too high")
    data = services.forecast(db, services.Filters(), boss)
    by_month = {(r["month"], r["currency"]): (r["count"], r["revenue"], r["weighted"]) for r in data["by_month"]}
    assert by_month[("2027-01", "DKK")] == (2, Decimal("1333.33"), Decimal("210.00"))
    assert by_month[("2027-02", "DKK")] == (1, Decimal("2000.00"), Decimal("1000.00"))
    assert by_month[("2027-02", "EUR")] == (1, Decimal("50.00"), Decimal("5.00"))
    by_owner = {(r["owner_id"], r["currency"]): r["weighted"] for r in data["by_owner"]}
    assert by_owner == {(mads.id, "DKK"): Decimal("210.00"), (boss.id, "DKK"): Decimal("1000.00"),
                        (boss.id, "EUR"): Decimal("5.00")}
    (month_row,) = data["won_lost"]
    assert (month_row["won_count"], month_row["won_revenue"], month_row["lost_count"], month_row["lost_revenue"]) == (
        1, Decimal("700.00"), 2, Decimal("1000.00"))
    assert data["lost_reasons"] == [{"reason": "Price too high", "currency": "DKK", "count": 2,
                                     "revenue": Decimal("1000.00")}]
    assert {s["stage"]: s["count"] for s in data["funnel"]}["New"] == 3
    mine = services.forecast(db, services.Filters(), mads)
    assert {r["owner_id"] for r in mine["by_owner"]} == {mads.id}


def test_party_merge_moves_opportunities(db):
    owner = user(db, "mads", ["salesperson"])
    source, target = party(db, "Dup A/S"), party(db, "Dup A/S ")
    deal = opportunity(db, owner, customer=source)
    services.repoint_party(db, source.id, target.id)
    assert deal.party_id == target.id
    assert services.month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert date(2026, 12, 1) + timedelta(days=31) == date(2027, 1, 1)


# -- Demo data and the command line --


def test_demo_data(db):
    from core.parties.demo import load_demo_parties
    from plugins.crm.activities import plugin as activities
    from plugins.crm.pipeline import plugin as pipeline

    user(db, "admin", ["admin"])
    user(db, "sales", ["staff", "salesperson"])
    load_demo_parties(db, lambda n=1: None)
    added = []
    pipeline.load_demo_data(db, lambda n=1: added.append(n))
    activities.load_demo_data(db, lambda n=1: added.append(n))
    deals = db.execute(select(Opportunity)).unique().scalars().all()
    assert len(deals) == 40 and sum(added) == 160
    assert {d.stage.name for d in deals} == {s.name for s in services.list_stages(db)}
    assert {d.currency for d in deals} == {"DKK", "EUR"} and len({d.owner_id for d in deals}) == 2
    assert all(d.lost_reason for d in deals if d.status == "lost")
    from plugins.crm.activities.models import Activity

    acts = db.execute(select(Activity)).unique().scalars().all()
    assert len(acts) == 120 and any(a.is_overdue() for a in acts) and any(a.done for a in acts)
    notes = db.execute(select(TimelineEvent).where(TimelineEvent.kind == "note")).scalars().all()
    assert len(notes) == 10


def test_command_line(db, kontor):
    owner = user(db, "mads", ["salesperson"])
    deal = opportunity(db, owner, title="CLI deal")
    deal_id, lost = deal.id, stage_named(db, "Lost").id
    db.commit()  # and no statement until the commands ran: SQLite would keep the write lock
    result = kontor("crm", "stages")
    assert result.exit_code == 0, result.output
    assert "Negotiation" in result.output and "1 opportunities" in result.output
    result = kontor("crm", "move", str(deal_id), str(lost))
    assert result.exit_code != 0 and "Say why" in result.output
    result = kontor("crm", "move", str(deal_id), str(lost), "--reason", "Budget frozen")
    assert result.exit_code == 0 and "CLI deal: Lost" in result.output
    db.expire_all()
    assert db.get(Opportunity, deal_id).lost_reason == "Budget frozen"


def test_the_last_open_stage_stays(db):
    open_stages = [s for s in services.list_stages(db) if not s.is_closed]
    for stage in open_stages[:-1]:
        services.delete_stage(db, stage)
    with pytest.raises(KontorError):
        services.delete_stage(db, open_stages[-1])
    with pytest.raises(KontorError):
        services.update_stage(db, open_stages[-1], {"active": False})


def test_the_public_api_reads_opportunities_as_the_acting_user(db):
    """Other modules call plugins.crm alone; it obeys the record rules for whoever acts."""
    import plugins.crm as crm
    from core import NotFound, acting_as

    owner = user(db, "olga", ["salesperson"])
    other = user(db, "otto", ["salesperson"])
    manager = user(db, "maja", ["sales_manager"])
    customer = party(db, "Kastanje A/S")
    deal = opportunity(db, owner, title="Kastanje deal", customer=customer)
    db.commit()
    with acting_as(owner, "job: test"):
        assert crm.get_opportunity(db, deal.id) is deal
        assert crm.opportunities_of_party(db, customer.id) == [deal]
    with acting_as(other, "job: test"):
        with pytest.raises(NotFound):
            crm.get_opportunity(db, deal.id)
        assert crm.opportunities_of_party(db, customer.id) == []
    assert crm.opportunities_of_party(db, customer.id, manager) == [deal]
    assert crm.owner_of(db, deal) is owner
    assert (owner.id, owner.full_name or owner.username) in crm.opportunity_owners(db)
    assert set(crm.__all__) == {"get_opportunity", "opportunities_of_party", "opportunity_owners", "owner_of"}


# -- Bounds: the numbers and months stay inside what the pipeline documents and a date can hold --


def test_a_new_stage_after_the_last_possible_sequence_keeps_within_the_bound(db):
    last = services.create_stage(db, {"name": "Far away", "sequence": services.MAX_SEQUENCE})
    after = services.create_stage(db, {"name": "After it"})
    assert last.sequence == after.sequence == services.MAX_SEQUENCE
    assert services.list_stages(db)[-1].id == after.id  # ties are ordered by id
    with pytest.raises(KontorError) as caught:
        services.create_stage(db, {"name": "Too far", "sequence": services.MAX_SEQUENCE + 1})
    assert caught.value.field == "sequence"


def test_month_bounds_from_the_first_month_to_the_last_a_date_holds():
    assert services.month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert services.month_bounds("0001-01") == (date(1, 1, 1), date(1, 2, 1))
    assert services.month_bounds("9999-12") == (date(9999, 12, 1), None)
    for month in ("0000-01", "2026-13", "2026-00", "x"):
        with pytest.raises(KontorError) as caught:
            services.month_bounds(month)
        assert caught.value.field == "close_month" and caught.value.status == 422
