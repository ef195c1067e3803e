"""An export of more rows than EXPORT_JOB_ROWS is written by a job as the user who asked: the page
sends them to the export's progress, the finished job offers the file, and only its owner gets it."""
import pytest
from sqlalchemy import select

from core import Job
from core.testing import factories


@pytest.fixture
def settings(settings):
    return {**settings, "EXPORT_JOB_ROWS": 2}


@pytest.fixture
def parties(app):
    with app.app_context():
        from core.db import session as db

        for name in ("Alfa A/S", "Beta GmbH", "Gamma Oy", "=HYPERLINK(evil)"):
            factories.party(db, name)
        db.commit()


def jobs_of(app):
    with app.app_context():
        from core.db import session as db

        return list(db.execute(select(Job).where(Job.kind == "core.export")).scalars())


def test_a_large_export_is_a_job_whose_file_holds_what_the_list_would_give(app, admin_client, parties):
    answer = admin_client.get("/parties?format=csv")
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/exports/")
    [job] = jobs_of(app)
    assert job.status == "done", job.error
    assert job.result["rows"] >= 4 and job.total == job.result["rows"] and job.done == job.total
    page = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="export-download"' in page and f'id="job-{job.id}"' in page
    download = admin_client.get(f"/exports/{job.id}/download")
    assert download.status_code == 200 and download.headers["X-Content-Type-Options"] == "nosniff"
    body = download.get_data()
    app.config["EXPORT_JOB_ROWS"] = 0  # the same export, written at once
    immediate = admin_client.get("/parties?format=csv")
    assert immediate.status_code == 200 and immediate.get_data() == body
    assert "'=HYPERLINK(evil)" in body.decode("utf-8-sig")


def test_a_small_export_stays_immediate(app, admin_client, parties):
    assert admin_client.get("/parties?format=csv&q=Alfa").status_code == 200
    assert jobs_of(app) == []


def test_only_the_owner_sees_and_downloads_the_export(app, admin_client, client, parties):
    admin_client.get("/parties?format=xlsx")
    [job] = jobs_of(app)
    assert job.status == "done" and job.result["filename"] == "parties.xlsx"
    factories.make_user(app, "colleague", ["staff"])
    client.login("colleague", factories.PASSWORD)
    assert client.get(f"/exports/{job.id}").status_code == 404
    assert client.get(f"/exports/{job.id}/download").status_code == 404


def test_a_user_without_the_lists_permission_starts_no_export(app, client, parties):
    factories.make_user(app, "nobody", [])
    client.login("nobody", factories.PASSWORD)
    assert client.get("/parties?format=csv").status_code == 403
    assert jobs_of(app) == []


def test_the_nightly_prune_deletes_old_export_files(app, admin_client, parties):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from core.jobs.scheduler import tick
    from core.filestore import storage

    admin_client.get("/parties?format=csv")
    [job] = jobs_of(app)
    with app.app_context():
        assert storage().exists(job.result["file"])
    assert tick(app, datetime(2026, 12, 7, 3, 30, tzinfo=timezone.utc)) != []  # a fresh file is kept
    assert admin_client.get(f"/exports/{job.id}/download").status_code == 200
    with app.app_context():
        from core.db import session as db

        db.execute(update(Job).where(Job.id == job.id).values(
            finished_at=datetime.now(timezone.utc) - timedelta(days=8)))
        db.commit()
    assert tick(app, datetime(2026, 12, 8, 3, 30, tzinfo=timezone.utc)) != []
    [job] = jobs_of(app)
    assert job.result.get("expired") is True
    with app.app_context():
        assert not storage().exists(job.result["file"])
    assert admin_client.get(f"/exports/{job.id}/download").status_code == 404
