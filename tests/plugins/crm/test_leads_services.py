"""Lead services: validation, duplicates, merging, qualifying, disqualifying and the record rules."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError
from core.auth.models import User
from core.parties.models import Party
from core.parties.services import create_party
from core.testing import make_user
from plugins.crm.activities.models import TimelineEvent
from plugins.crm.leads import services
from plugins.crm.leads.matching import normalise_name, similar
from plugins.crm.leads.models import Lead


def user(db, name):
    return db.execute(select(User).where(User.username == name)).scalar_one()


@pytest.fixture
def people(app):
    """A sales manager who sees every lead and two salespeople who see their own."""
    make_user(app, "boss", ["sales_manager"])
    make_user(app, "sam", ["salesperson"])
    make_user(app, "sue", ["salesperson"])


# -- Matching names --


@pytest.mark.parametrize("a, b", [
    ("Fjord Logistik ApS", "fjord logistik"),
    ("Hanse Kontor GmbH", "Hanse Kontor GmbH & Co. KG"),
    ("Bałtycka Energia Sp. z o.o.", "Baltycka Energia"),
    ("Revontuli Data Oy", "Data Revontuli"),
    ("Norrsken AB", "Norrsken AB (publ)"),
])
def test_similar_names_match_after_legal_suffixes_and_word_order(a, b):
    assert similar(normalise_name(a), normalise_name(b))


def test_different_names_do_not_match():
    assert not similar(normalise_name("Fjord Logistik ApS"), normalise_name("Polar Energi AS"))
    assert normalise_name("Sp. z o.o.") == "o o sp z"  # a name that is only a suffix is kept


# -- Creating and validating --


def test_create_lead_validates_every_field(db, people):
    boss = user(db, "boss")
    with pytest.raises(KontorError) as exc:
        services.create_lead(db, {"name": "", "email": "not-an-email", "phone": "call me", "vat_id": "DK123",
                                  "source": "carrier pigeon", "company_name": "x" * 201}, user=boss)
    errors = exc.value.as_errors()
    assert set(errors) >= {"name", "email", "phone", "vat_id", "source", "company_name"}


def test_create_lead_normalises_and_tags(db, people):
    boss = user(db, "boss")
    lead = services.create_lead(db, {"name": " Mette Nielsen ", "company_name": "Fjord Logistik ApS",
                                     "email": "Mette@Fjord.dk", "vat_id": "dk 1234 5678", "source": "event",
                                     "tags": "fleet, Fleet, solar"}, user=boss)
    db.commit()
    assert (lead.name, lead.vat_id, lead.email_key) == ("Mette Nielsen", "DK12345678", "mette@fjord.dk")
    assert lead.tag_names == ["fleet", "solar"]
    assert lead.owner_id is None  # a manager may leave a lead unassigned


def test_a_salesperson_owns_what_they_create_and_cannot_give_it_away(db, people):
    sam, sue = user(db, "sam"), user(db, "sue")
    lead = services.create_lead(db, {"name": "Lars Jensen"}, user=sam)
    assert lead.owner_id == sam.id
    with pytest.raises(KontorError) as exc:
        services.create_lead(db, {"name": "Anne Hansen", "owner_id": sue.id}, user=sam)
    assert exc.value.field == "owner_id"


# -- Record rules --


def test_salespeople_see_only_their_own_leads(db, people):
    sam, sue, boss = user(db, "sam"), user(db, "sue"), user(db, "boss")
    mine = services.create_lead(db, {"name": "Sam's lead", "email": "a@x.dk"}, user=sam)
    theirs = services.create_lead(db, {"name": "Sue's lead", "email": "a@x.dk"}, user=sue)
    db.commit()
    assert [l.id for l in services.list_leads(db, user=sam).rows] == [mine.id]
    assert {l.id for l in services.list_leads(db, user=boss).rows} == {mine.id, theirs.id}
    assert [r["id"] for r in services.export_rows(db, user=sam)] == [mine.id]
    with pytest.raises(KontorError):
        services.get_lead(db, theirs.id, user=sam)
    # the duplicate check never reveals another salesperson's lead
    assert services.find_duplicates(db, {"name": "Someone", "email": "A@x.dk"}, user=sam) == [
        services.Duplicate("lead", mine.id, "Sam's lead", "same email")]


# -- Duplicates --


def test_duplicates_by_email_vat_id_and_similar_name_across_leads_and_parties(db, people):
    boss = user(db, "boss")
    first = services.create_lead(db, {"name": "Anna Müller", "company_name": "Hanse Kontor GmbH",
                                      "email": "anna@hanse.de"}, user=boss)
    party = create_party(db, {"kind": "company", "name": "Polar Energi AS", "vat_id": "DK12345678"})
    db.commit()
    by_email = services.find_duplicates(db, {"name": "A. Müller", "email": "ANNA@hanse.de"}, user=boss)
    assert [(d.kind, d.id, d.reason) for d in by_email] == [("lead", first.id, "same email")]
    by_vat = services.find_duplicates(db, {"name": "Someone", "vat_id": "DK12345678"}, user=boss)
    assert [(d.kind, d.id, d.reason) for d in by_vat] == [("party", party.id, "same VAT id")]
    by_name = services.find_duplicates(db, {"name": "Jan", "company_name": "Hanse-Kontor AG"}, user=boss)
    assert [(d.kind, d.id, d.reason) for d in by_name] == [("lead", first.id, "similar name")]
    by_party_name = services.find_duplicates(db, {"name": "Polar Energi"}, user=boss)
    assert [(d.kind, d.id) for d in by_party_name] == [("party", party.id)]
    assert services.find_duplicates(db, {"name": "Completely Different Ltd"}, user=boss) == []
    polish = create_party(db, {"kind": "company", "name": "Bałtycka Energia Sp. z o.o."})
    by_folded_name = services.find_duplicates(db, {"name": "Piotr", "company_name": "Baltycka Energia SA"}, user=boss)
    assert [(d.kind, d.id, d.reason) for d in by_folded_name] == [("party", polish.id, "similar name")]


def test_merge_leads_fills_joins_moves_and_retires_the_duplicate(db, people):
    from plugins.crm import timeline

    boss = user(db, "boss")
    keep = services.create_lead(db, {"name": "Anna Müller", "tags": ["fair"], "notes": "Met at the fair."}, user=boss)
    dup = services.create_lead(db, {"name": "Anna Mueller", "email": "anna@hanse.de", "phone": "+49 40 123456",
                                    "tags": ["fleet"], "notes": "Wants 40 vans."}, user=boss)
    event = timeline.record(db, "note", title="Called Anna", lead_id=dup.id)
    db.commit()
    services.merge_leads(db, dup, keep, user=boss)
    db.commit()
    db.refresh(event)
    assert (keep.email, keep.phone, keep.tag_names) == ("anna@hanse.de", "+49 40 123456", ["fair", "fleet"])
    assert "Wants 40 vans." in keep.notes and "Met at the fair." in keep.notes
    assert event.lead_id == keep.id
    assert (dup.status, dup.merged_into_id) == ("disqualified", keep.id)
    with pytest.raises(KontorError):
        services.merge_leads(db, dup, keep, user=boss)  # merged away already


def test_merging_needs_both_leads_visible(db, people):
    sam, sue = user(db, "sam"), user(db, "sue")
    mine = services.create_lead(db, {"name": "Mine"}, user=sam)
    theirs = services.create_lead(db, {"name": "Theirs"}, user=sue)
    db.commit()
    with pytest.raises(KontorError):
        services.merge_leads(db, mine, theirs, user=sam)
    db.rollback()
    assert db.get(Lead, mine.id).status == "new"


# -- Qualifying and disqualifying --


def test_convert_creates_company_person_and_opportunity(db, people):
    from plugins.crm.pipeline.models import Opportunity

    sam = user(db, "sam")
    lead = services.create_lead(db, {"name": "Mette Nielsen", "company_name": "Fjord Logistik ApS",
                                     "email": "mette@fjord.dk", "vat_id": "DK12345678", "tags": ["fleet"]}, user=sam)
    db.commit()
    opportunity, party = services.convert_lead(db, lead, user=sam, create_party=True,
                                               expected_revenue=Decimal("12500.50"), currency="EUR")
    db.commit()
    assert (party.kind, party.name, party.vat_id, party.tag_names) == ("company", "Fjord Logistik ApS",
                                                                      "DK12345678", ["fleet"])
    person = db.execute(select(Party).where(Party.company_id == party.id)).scalar_one()
    assert (person.name, person.email) == ("Mette Nielsen", "mette@fjord.dk")
    opportunity = db.get(Opportunity, opportunity.id)
    assert (opportunity.lead_id, opportunity.party_id, opportunity.owner_id, opportunity.expected_revenue) == (
        lead.id, party.id, sam.id, Decimal("12500.50"))
    assert (lead.status, lead.party_id) == ("qualified", party.id)
    events = db.execute(select(TimelineEvent.kind, TimelineEvent.opportunity_id)
                        .where(TimelineEvent.lead_id == lead.id, TimelineEvent.kind == "lead")).all()
    assert events == [("lead", opportunity.id)]
    with pytest.raises(KontorError):
        services.convert_lead(db, lead, user=sam, create_party=True)


def test_convert_links_an_existing_party(db, people):
    boss = user(db, "boss")
    party = create_party(db, {"kind": "company", "name": "Polar Energi AS"})
    lead = services.create_lead(db, {"name": "Ola Berg", "company_name": "Polar Energi"}, user=boss)
    db.commit()
    parties_before = db.execute(select(Party)).scalars().all()
    opportunity, linked = services.convert_lead(db, lead, user=boss, party_id=party.id, title="Solar roof")
    db.commit()
    assert linked.id == party.id and opportunity.title == "Solar roof"
    assert len(db.execute(select(Party)).scalars().all()) == len(parties_before)


def test_convert_needs_a_party_choice_and_an_active_party(db, people):
    boss = user(db, "boss")
    lead = services.create_lead(db, {"name": "Ola Berg"}, user=boss)
    with pytest.raises(KontorError) as exc:
        services.convert_lead(db, lead, user=boss)
    assert exc.value.field == "party_id"
    with pytest.raises(KontorError) as exc:
        services.convert_lead(db, lead, user=boss, party_id=999999)
    assert exc.value.field == "party_id"


def test_disqualify_needs_a_reason_and_reopen_puts_it_back(db, people):
    boss = user(db, "boss")
    lead = services.create_lead(db, {"name": "Ola Berg"}, user=boss)
    with pytest.raises(KontorError) as exc:
        services.disqualify_lead(db, lead, "  ", user=boss)
    assert exc.value.field == "reason"
    services.disqualify_lead(db, lead, "No budget", user=boss)
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "No budget")
    assert db.execute(select(TimelineEvent.body).where(TimelineEvent.lead_id == lead.id)).scalars().all() == [
        "No budget"]
    services.reopen_lead(db, lead, user=boss)
    assert (lead.status, lead.disqualify_reason) == ("contacted", "")


def test_merging_parties_repoints_leads(app, db, people):
    from core.parties.services import merge_parties

    boss = user(db, "boss")
    a = create_party(db, {"kind": "company", "name": "Nordlys ApS"})
    b = create_party(db, {"kind": "company", "name": "Nordlys A/S"})
    lead = services.create_lead(db, {"name": "Jens"}, user=boss)
    lead.party_id = a.id
    db.commit()
    merge_parties(db, a, b, on_merging=app.extensions["kontor"].pm.hook.party_merging)
    db.commit()
    assert db.get(Lead, lead.id).party_id == b.id


# -- Demo data --


def test_demo_leads_cover_every_status_and_source(db, app):
    from plugins.crm.leads.demo import LEADS, load_demo_leads
    from plugins.crm.pipeline.models import Opportunity

    make_user(app, "admin", ["admin"])
    make_user(app, "sales", ["staff"])
    added = []
    load_demo_leads(db, added.append)
    db.commit()
    leads = db.execute(select(Lead)).scalars().all()
    assert len(leads) == LEADS == sum(added)
    assert {lead.status for lead in leads} == {"new", "contacted", "qualified", "disqualified"}
    assert len({lead.source for lead in leads}) >= 5
    assert {lead.owner.username for lead in leads if lead.owner} == {"admin", "sales"}
    qualified = [lead.id for lead in leads if lead.status == "qualified"]
    opened = db.execute(select(Opportunity.lead_id).where(Opportunity.lead_id.is_not(None))).scalars().all()
    assert sorted(opened) == sorted(qualified)
    assert all(lead.disqualify_reason for lead in leads if lead.status == "disqualified")
