"""A large bank statement is imported by a job: checked up front, its lines stored in chunks with
progress, shown on the statement's page, never doubled by a second run or a second upload, and
neither started by a user without the right nor seen from another company."""
import io
from datetime import date

import pytest
from sqlalchemy import func, select, update

from core import Job, in_company
from core.testing import factories

from plugins.accounting.banking import jobs, statements
from plugins.accounting.banking.models import Statement, StatementLine
from plugins.accounting.permissions import BANK_READ
from plugins.accounting.testing import BankLine, camt053

#: the job takes statements of more lines than this (the app's setting, small for the test)
JOB_LINES = 3
LINES = [BankLine(date(2026, 3, day), f"{day}00.00", f"Payment {day}", f"REF-{day}", "Alfa A/S")
         for day in range(1, 8)]


@pytest.fixture
def settings(settings):
    return {**settings, "STATEMENT_JOB_LINES": JOB_LINES}


def upload(client, data: bytes, name: str = "march.xml"):
    return client.post("/accounting/statements/import", content_type="multipart/form-data",
                       data={"csrf_token": client.csrf_token("/dashboard"), "format": "camt053", "journal": "BNK",
                             "file": (io.BytesIO(data), name)})


def line_count(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(StatementLine)).scalar_one()


def import_jobs(db) -> list[Job]:
    db.expire_all()
    return list(db.execute(select(Job).where(Job.kind == jobs.IMPORT_KIND).order_by(Job.id)).scalars())


def test_a_large_statement_is_stored_by_a_job_with_progress_and_shown_when_done(admin_client, db):
    response = upload(admin_client, camt053(LINES))
    assert response.status_code == 303
    [job] = import_jobs(db)
    statement = db.execute(select(Statement)).scalar_one()
    assert job.record == f"accounting.statement:{statement.id}" and job.status == "done", job.error
    assert job.result == {"statement_id": statement.id, "lines": 7, "added": 7}
    assert (job.done, job.total) == (7, 7) and "7 of 7" in job.message
    assert [line.sequence for line in statement.lines] == list(range(1, 8))
    assert statement.balance_difference == 0
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Payment 7" in page and "Importing" not in page


def test_the_page_shows_the_progress_while_the_job_has_not_ended(admin_client, db):
    upload(admin_client, camt053(LINES))
    [job] = import_jobs(db)
    db.execute(update(Job).where(Job.id == job.id).values(status="running", done=3))
    db.commit()
    page = admin_client.get(f"/accounting/statements/{job.result['statement_id']}").get_data(as_text=True)
    assert "Importing" in page and f'id="job-{job.id}"' in page and "statement-lines" not in page
    fragment = admin_client.get(f"/accounting/statements/{job.result['statement_id']}/import")
    assert fragment.status_code == 200 and "every 2s" in fragment.get_data(as_text=True)
    db.execute(update(Job).where(Job.id == job.id).values(status="done"))
    db.commit()
    done = admin_client.get(f"/accounting/statements/{job.result['statement_id']}/import").get_data(as_text=True)
    assert 'id="statement-ready"' in done and "every 2s" not in done


def test_a_small_statement_is_stored_at_once(admin_client, db):
    assert upload(admin_client, camt053(LINES[:JOB_LINES])).status_code == 303
    assert import_jobs(db) == [] and line_count(db) == JOB_LINES


def test_a_second_run_completes_the_statement_without_doubling_a_line(app, admin_client, db):
    from core.jobs.runner import execute

    upload(admin_client, camt053(LINES))
    [job] = import_jobs(db)
    statement_id = job.result["statement_id"]
    # an interrupted first run: the lines of the last chunk were never stored
    db.execute(StatementLine.__table__.delete().where(StatementLine.sequence > 5))
    db.execute(update(Job).where(Job.id == job.id).values(status="queued", attempts=0))
    db.commit()
    assert execute(app, job.id) == "done"
    [job] = import_jobs(db)
    assert job.result == {"statement_id": statement_id, "lines": 7, "added": 2}
    db.execute(update(Job).where(Job.id == job.id).values(status="queued"))
    db.commit()
    assert execute(app, job.id) == "done"
    assert import_jobs(db)[0].result["added"] == 0 and line_count(db) == 7


def test_the_same_file_uploaded_again_is_refused_beside_the_file(admin_client, db):
    upload(admin_client, camt053(LINES))
    again = upload(admin_client, camt053(LINES, name="another name"), "again.xml")
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "This file is imported already, as statement 2026-03-0042" in html
    assert len(import_jobs(db)) == 1 and line_count(db) == 7


def test_bad_rows_are_reported_before_any_job_starts(admin_client, db):
    broken = camt053(LINES).replace(b"<Amt Ccy=\"DKK\">300.00</Amt>", b"<Amt Ccy=\"DKK\">3x</Amt>")
    response = upload(admin_client, broken)
    assert response.status_code == 422 and "bad rows" in response.get_data(as_text=True)
    assert import_jobs(db) == [] and line_count(db) == 0


def test_a_reader_may_not_import(app, client, in_app):
    with in_app() as db:
        factories.user(db, "reader", permissions=[BANK_READ])
    client.login("reader", factories.PASSWORD)
    assert upload(client, camt053(LINES)).status_code == 403
    with in_app() as db:
        assert import_jobs(db) == [] and line_count(db) == 0


def test_another_company_sees_neither_the_job_nor_its_statement(app, admin_client, client, in_app):
    upload(admin_client, camt053(LINES))
    with in_app() as db:
        [job] = import_jobs(db)
        other = factories.group_company(db, "Nordlys Vertrieb GmbH", country="DE", base_currency="EUR", locale="de")
        factories.user(db, "nordlys", roles=["accountant"], companies=[other.id])
        with in_company(other.id):
            assert db.execute(select(Job)).scalars().all() == []
            assert db.execute(select(Statement)).scalars().all() == []
    client.login("nordlys", factories.PASSWORD)
    assert client.get(f"/accounting/statements/{job.result['statement_id']}").status_code == 404
    assert client.get(f"/jobs/{job.id}").status_code == 404
