"""Company scope on every route of every module: what one company keeps is never seen from another.

A group of two companies with accounting and the CRM installed. The second company gets a record of
every kind (an account, entries, invoices and bills, a payment, a bank statement, leads, an
opportunity, activities, a ticket, a segment and a campaign), each carrying a marker word. A user
holding every permission but working in the first company only then walks the URL map:

- every page and endpoint without a parameter, plain and as a CSV download: the marker never shows,
  and what the page says (counts, totals, charts) is exactly what it said before the second company
  had any record;
- every page and endpoint taking a record's id, with the ids of the second company's records: not
  found (or refused), and never the marker.

A user working in both companies sees the marker after switching (the walk would notice it), so
the walk is not blind.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from core import CompanyScoped, all_companies, in_company
from core.testing import ApiClient, WebClient, factories

MARKER = "zqxbmarker"
SHARED_PARTIES = ("Shared Customer A/S", "Shared Supplier GmbH")
PASSWORD = factories.PASSWORD
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
#: Pages whose answer changes on every request whatever the data (none of them shows business data).
VOLATILE = re.compile(r'"X-CSRFToken": "[^"]*"|name="csrf_token" value="[^"]*"|csrf-token" content="[^"]*"|nonce="[^"]*"|'
                      r'\d{1,2}:\d{2}(:\d{2})?|"generated_at": "[^"]*"|\?v=[0-9a-f]+')
#: Endpoints that are not about the business records of a company (sign out, health, static files),
#: and the audit chain's verification, which checks the group's one chain whole (its record count).
NOT_WALKED = {"auth.logout", "static", "core.health", "api_core.openapi", "api_audit.verify_audit"}


@pytest.fixture
def modules():
    return ("accounting", "crm")


def _get_routes(app) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(rules without a parameter, [(rule, its integer parameters)]) of every GET route."""
    plain, with_ids = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_WALKED or rule.endpoint.endswith(".static"):
            continue
        arguments = sorted(rule.arguments)
        if not arguments:
            plain.append(rule.rule)
        elif all(isinstance(rule._converters[name], IntegerConverter) for name in arguments):
            with_ids.append((rule.rule, arguments))
    return sorted(plain), sorted(with_ids)


def _second_company_records(db, company_id: int) -> dict[str, list[int]]:
    """Every per-company table's ids of the second company's rows, by table name."""
    from core.db import Base

    from sqlalchemy import inspect

    found: dict[str, list[int]] = {}
    tables = set(inspect(db.connection()).get_table_names())  # of the modules installed here
    with all_companies():
        for mapper in Base.registry.mappers:
            model = mapper.class_
            if not issubclass(model, CompanyScoped) or len(mapper.primary_key) != 1 \
                    or mapper.local_table.name not in tables:
                continue
            key = mapper.primary_key[0]
            ids = db.execute(select(key).where(model.company_id == company_id).order_by(key)).scalars().all()
            if ids and isinstance(ids[0], int):
                found[mapper.local_table.name] = ids
    return found


def _ids_for(parameter: str, records: dict[str, list[int]]) -> list[int]:
    """The second company's ids worth trying for a route parameter (``invoice_id`` → invoices …)."""
    stem = parameter.removesuffix("_id")
    tables = [name for name in records if name.endswith("_" + stem) or name.endswith("_" + stem + "s")]
    if not tables:  # a parameter named otherwise (``year``, ``id``): every kind of record
        tables = list(records)
    ids: list[int] = []
    for table in tables:
        ids.extend(records[table][-3:])
    return sorted(set(ids))


def _fill_second_company(db, company_id: int) -> None:
    """A record of every kind in the second company, each naming the marker."""
    from plugins.accounting import testing as books
    from plugins.accounting.banking import services as banking
    from plugins.accounting.invoicing import services as invoicing
    from plugins.accounting.ledger import chart
    from core import Party, User
    from plugins.crm import testing as crm

    with in_company(company_id):
        day = date(2026, 2, 1)
        books.ensure_year(db, day)
        customer, supplier = (db.execute(select(Party).where(Party.name == name)).scalar_one()
                              for name in SHARED_PARTIES)
        chart.create_account(db, {"code": "4999", "name": f"{MARKER} revenue", "type": "income", "kind": "other"})
        invoice = invoicing.create_invoice(db, "out_invoice", {
            "party_id": customer.id, "invoice_date": day.isoformat(), "currency": "EUR", "reference": MARKER,
            "lines": [{"description": f"{MARKER} work", "quantity": "3", "unit_price": "777.77", "taxes": [],
                       "account": "4000"}]})
        invoicing.post_invoice(db, invoice)
        invoicing.create_invoice(db, "in_invoice", {
            "party_id": supplier.id, "invoice_date": day.isoformat(), "currency": "EUR", "reference": MARKER,
            "lines": [{"description": f"{MARKER} parts", "quantity": "1", "unit_price": "55.55", "taxes": [],
                       "account": "6100"}]})
        books.posted_entry(db, "GEN", day, [
            {"account": "1100", "debit": "9191.91", "credit": "0", "description": MARKER},
            {"account": "3000", "debit": "0", "credit": "9191.91", "description": MARKER}], reference=MARKER)
        banking.register_payment(db, party_id=customer.id, amount="1000.00", currency="EUR", date=day, journal="BNK",
                                 allocations=[(invoice.id, "1000.00")], reference=MARKER)
        books.bank_statement(db, [books.BankLine(day, "123.45", f"{MARKER} deposit", MARKER, "Someone")],
                             currency="EUR", name=f"{MARKER}-1")
        seller = db.execute(select(User).where(User.username == "zseller")).scalar_one()
        lead = crm.lead(db, f"{MARKER} lead", "lead@zqxb.example", owner_id=seller.id)
        deal = crm.opportunity(db, seller, title=f"{MARKER} deal", customer=customer)
        crm.activity(db, seller, subject=f"{MARKER} call", opportunity_id=deal.id)
        crm.activity(db, seller, subject=f"{MARKER} lead call", lead_id=lead.id)
        crm.ticket(db, subject=f"{MARKER} broken", party=customer)
        segment = crm.segment(db, name=f"{MARKER} segment", tag="zqxb")
        crm.campaign(db, segment, name=f"{MARKER} campaign")
        db.flush()


@pytest.fixture
def walk(app):
    """The group and its two users; the second company still empty."""
    from core.company.scope import current_company_id

    with app.app_context():
        from core.db import session as db

        first = current_company_id(db)
        second = factories.group_company(db, "Nordlys Vertrieb GmbH").id
        factories.user(db, "alma", roles=["admin"], companies=[first])
        factories.user(db, "bo", roles=["admin"], companies=[first, second])
        # what the group shares (parties, users) is there before the walk looks: only the second
        # company's own records come later
        factories.user(db, "zseller", roles=["salesperson", "staff"], companies=[second])
        for name in SHARED_PARTIES:
            factories.party(db, name)
        db.commit()
    return {"first": first, "second": second}


@contextmanager
def session_of(app):
    """A session in an app context of its own, closed before any request is made (a request
    must not see what this session loaded: it has its own)."""
    with app.app_context():
        from core.db import session as db

        yield db
        db.rollback()


def _normalised(answer) -> str:
    return VOLATILE.sub("", answer.get_data(as_text=True))


def _token(app, username: str) -> str:
    from core.auth.models import User
    from core.auth.tokens import create_token

    with session_of(app) as db:
        _, secret = create_token(db, db.execute(select(User).where(User.username == username)).scalar_one(), "walk")
        db.commit()
    return secret


def _fill(app, company_id: int) -> dict[str, list[int]]:
    with session_of(app) as db:
        _fill_second_company(db, company_id)
        db.commit()
        return _second_company_records(db, company_id)


def test_no_route_shows_counts_or_leaks_a_record_of_a_company_the_user_does_not_work_in(dispatcher, app, walk):
    alma = WebClient(dispatcher)
    assert alma.login("alma", PASSWORD).status_code == 302
    alma_api = ApiClient(WebClient(dispatcher), _token(app, "alma"))
    plain, with_ids = _get_routes(app)

    def fetch(rule: str, suffix: str = ""):
        client = alma_api if rule.startswith("/api/") else alma
        return client.get(rule + suffix)

    before = {}
    for rule in plain:
        for suffix in ("", "?format=csv"):
            answer = fetch(rule, suffix)
            before[rule + suffix] = (answer.status_code, _normalised(answer))

    records = _fill(app, walk["second"])
    assert {"accounting_invoice", "accounting_entry", "crm_lead", "crm_opportunity", "crm_ticket"} <= set(records)

    leaks, changed = [], []
    for rule in plain:
        for suffix in ("", "?format=csv"):
            answer = fetch(rule, suffix)
            body = answer.get_data(as_text=True)
            if MARKER in body.lower():
                leaks.append(rule + suffix)
            elif (answer.status_code, _normalised(answer)) != before[rule + suffix]:
                changed.append(rule + suffix)
    tried = 0
    for rule, parameters in with_ids:
        candidates = {name: _ids_for(name, records) for name in parameters}
        for name in parameters:
            for record_id in candidates[name]:
                values = {other: (record_id if other == name else candidates[other][-1]) for other in parameters}
                url = rule
                for key, value in values.items():
                    url = url.replace(f"<int:{key}>", str(value))
                answer = fetch(url)
                tried += 1
                if answer.status_code == 200 and MARKER in answer.get_data(as_text=True).lower():
                    leaks.append(url)
    assert tried > 100, len(with_ids)  # the walk reached the detail pages and endpoints
    assert leaks == [], f"a record of another company shows on: {leaks}"
    assert changed == [], f"what these show changed when another company got records: {changed}"


def test_the_walk_would_see_a_leak_a_user_of_both_companies_sees_them_after_switching(dispatcher, app, walk):
    from core.auth.models import User
    from core.company.services import switch_company
    from plugins.accounting.invoicing.models import Invoice

    _fill(app, walk["second"])
    with session_of(app) as db, all_companies():
        invoice_id = db.execute(select(Invoice.id).where(Invoice.reference == MARKER,
                                                         Invoice.kind == "out_invoice")).scalar()
    bo = WebClient(dispatcher)
    assert bo.login("bo", PASSWORD).status_code == 302
    assert bo.get(f"/accounting/invoices/{invoice_id}").status_code == 404
    with session_of(app) as db:
        switch_company(db, db.execute(select(User).where(User.username == "bo")).scalar_one(), walk["second"])
        db.commit()
    page = bo.get(f"/accounting/invoices/{invoice_id}")
    assert page.status_code == 200 and MARKER in page.get_data(as_text=True).lower()
    api = ApiClient(WebClient(dispatcher), _token(app, "bo"))
    assert api.get(f"/api/v1/accounting/invoices/{invoice_id}").status_code == 200
    leads = api.get(f"/api/v1/crm/leads?company={walk['second']}")
    assert leads.status_code == 200 and MARKER in leads.get_data(as_text=True).lower()
