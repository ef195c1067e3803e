"""The exchange-rate revaluation runs as a job: started from the currencies page, its entry shown
when done, one per company and day, refused to a user without the right, unseen from another company."""
from datetime import date

import pytest
from sqlalchemy import select, update

from core import Job, in_company
from core.testing import factories, make_user

from plugins.accounting.currencies import jobs, services
from plugins.accounting.ledger.models import Entry
from plugins.accounting.testing import ensure_year, party, posted_entry


@pytest.fixture
def foreign_receivable(app, in_app):
    """1,000.00 EUR owed by a customer since 2026-01-10 at 7.45; the rate is 7.46 from 2026-01-31."""
    with in_app() as db:
        ensure_year(db, date(2026, 1, 1))
        services.set_rate(db, "EUR", "2026-01-01", "7.45")
        services.set_rate(db, "EUR", "2026-01-31", "7.46")
        posted_entry(db, "SAL", date(2026, 1, 10), [
            {"account": "1200", "debit": "7450.00", "credit": "0", "party_id": party(db).id, "currency": "EUR",
             "amount_currency": "1000.00", "rate": "7.45"},
            {"account": "4000", "debit": "0", "credit": "7450.00"}])


def revaluations(db):
    db.expire_all()
    return list(db.execute(select(Entry).where(Entry.source == "revaluation:2026-01-31")).scalars())


def test_the_revaluation_job_posts_once_and_the_page_shows_its_entry(app, admin_client, foreign_receivable, in_app):
    from core.jobs.runner import execute

    response = admin_client.post_form("/accounting/revalue", {"date": "2026-01-31"})
    assert response.status_code == 303
    with in_app() as db:
        [job] = db.execute(select(Job).where(Job.kind == jobs.REVALUE_KIND)).scalars().all()
        [entry, reversal] = sorted(revaluations(db), key=lambda e: e.id)
        assert job.status == "done" and job.done == 0 and job.total == 1 and "2026-01-31" in job.message
        assert job.result["posted"] and job.result["number"] == entry.number
        assert job.result["reversal_number"] == reversal.number and reversal.reversal_of_id == entry.id
    page = admin_client.get("/accounting/currencies").get_data(as_text=True)
    assert 'id="revaluation-result"' in page and entry.number in page
    again = admin_client.post_form("/accounting/revalue", {"date": "2026-01-31"})
    assert again.status_code == 422 and "posted already" in again.get_data(as_text=True)
    with in_app() as db:  # a second run of the job (a retry) posts nothing more
        db.execute(update(Job).where(Job.id == job.id).values(status="queued"))
    assert execute(app, job.id) == "done"
    with in_app() as db:
        assert len(revaluations(db)) == 2
        assert db.get(Job, job.id).result["number"] == entry.number


def test_a_viewer_may_not_start_a_revaluation(app, client, foreign_receivable, in_app):
    make_user(app, "viewer", ["accounting_viewer"], "viewer password 1")
    client.login("viewer", "viewer password 1")
    assert client.post_form("/accounting/revalue", {"date": "2026-01-31"}).status_code == 403
    with in_app() as db:
        assert db.execute(select(Job)).scalars().all() == [] and revaluations(db) == []


def test_another_company_does_not_see_the_revaluation_job(app, admin_client, foreign_receivable, in_app):
    admin_client.post_form("/accounting/revalue", {"date": "2026-01-31"})
    with in_app() as db:
        other = factories.group_company(db, "Nordlys Vertrieb GmbH", country="DE", base_currency="EUR", locale="de")
        with in_company(other.id):
            assert db.execute(select(Job)).scalars().all() == [] and revaluations(db) == []
