"""Background jobs: started in a business transaction, run after its commit as the user who asked,
retried, cancelled, reaped and scheduled; the jobs page, the API and the CLI (jobs run in huey's
immediate mode here; tests/core/test_worker.py runs real worker processes)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from tests.contract import install
from tests.core.everyhook_site import Site


@pytest.fixture
def site(settings) -> Site:
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    install(settings, "everyhook")
    return Site(settings)


def _things(site) -> list[str]:
    """The things the jobs made (the module's default data aside)."""
    return [name for name in site.things() if name != "default thing"]


def _jobs(site):
    from core import Job
    from core.company.scope import all_companies

    with site.session() as db, all_companies():
        return [(j.kind, j.status, j.done, j.total, j.attempts, j.result, j.error)
                for j in db.execute(select(Job).order_by(Job.id)).scalars()]


def _start(site, username, **arguments):
    """Start a tally job as ``username`` through the API; the job's JSON."""
    from core.auth.models import User
    from core import acting_as, start_job

    key = arguments.pop("key", None)
    with site.session() as db:
        user = db.execute(select(User).where(User.username == username)).scalar_one()
        with acting_as(user):
            job = start_job(db, "everyhook.tally", arguments, title="Tally", record="everyhook.thing:1", key=key)
            db.commit()
            return job.id


def test_a_job_runs_after_the_commit_as_the_user_who_asked(site):
    site.client("alice")
    job_id = _start(site, "alice", prefix="tally", count=3)
    assert _things(site) == ["tally 1", "tally 2", "tally 3"]
    assert _jobs(site) == [("everyhook.tally", "done", 3, 3, 1, {"made": 3, "user": "alice"}, "")]
    from core.audit.models import AuditRecord

    with site.session() as db:  # the audit log names the user and the job
        rows = db.execute(select(AuditRecord.username, AuditRecord.origin).where(
            AuditRecord.table_name == "everyhook_thing", AuditRecord.origin != "system")).all()
    assert rows and {r.username for r in rows} == {"alice"} and {r.origin for r in rows} == {f"job {job_id}: everyhook.tally"}


def test_a_rolled_back_transaction_starts_no_job(site):
    from core import acting_as, start_job
    from core.auth.models import User

    site.client("alice")
    with site.session() as db:
        with acting_as(db.execute(select(User).where(User.username == "alice")).scalar_one()):
            start_job(db, "everyhook.tally", {"prefix": "never", "count": 1})
            db.rollback()
    assert _jobs(site) == [] and _things(site) == []


def test_the_idempotency_key_returns_the_first_job(site):
    site.client("alice")
    first = _start(site, "alice", prefix="once", count=1, key="once")
    second = _start(site, "alice", prefix="once", count=1, key="once")
    assert first == second and len(_jobs(site)) == 1


def test_a_user_without_the_kinds_permission_may_not_start_it(site):
    from core import Forbidden, acting_as, start_job
    from core.auth.models import User

    site.client("reader", ("staff",))  # staff may read things, not write them
    with site.session() as db:
        with acting_as(db.execute(select(User).where(User.username == "reader")).scalar_one()):
            with pytest.raises(Forbidden):
                start_job(db, "everyhook.tally", {"prefix": "x", "count": 1})


def test_a_failing_job_is_tried_again_and_its_work_is_not_repeated(site):
    site.client("alice")
    _start(site, "alice", prefix="retry", count=2, fail_first=2)
    # attempts 1 and 2 fail after the first thing; attempt 3 goes through; no thing twice
    assert _things(site) == ["retry 1", "retry 2"]
    [(kind, status, done, total, attempts, result, error)] = _jobs(site)
    assert (status, attempts, done, total) == ("done", 3, 2, 2) and result["made"] == 1 and error == ""


def test_a_job_out_of_attempts_fails_with_its_error_and_can_be_retried(site):
    from core import Job

    client = site.client("alice")
    job_id = _start(site, "alice", prefix="doomed", count=1, fail_first=9)
    [(_, status, _, _, attempts, _, error)] = _jobs(site)
    assert status == "failed" and attempts == 3 and "failing on purpose, attempt 3" in error
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "failing on purpose" in page.text
    with site.session() as db:  # the next attempts go through
        db.execute(update(Job).where(Job.id == job_id).values(arguments={"prefix": "doomed", "count": 1}))
        db.commit()
    assert client.post_form(f"/jobs/{job_id}/retry", {}).status_code == 303
    assert _jobs(site)[0][1] == "done"


def test_the_jobs_page_shows_users_their_own_jobs_and_managers_everyones(site):
    alice, bob = site.client("alice"), site.client("bob", ("staff",))
    job_id = _start(site, "alice", prefix="mine", count=1)
    assert "Tally" in alice.get("/jobs").text  # alice is an admin: everyone's
    assert bob.get(f"/jobs/{job_id}").status_code == 404
    listing = bob.get("/jobs")
    assert listing.status_code == 200 and f"/jobs/{job_id}" not in listing.text
    assert alice.get("/jobs?status=bogus").status_code == 422
    from core.jobs.scheduler import tick

    [system_job] = tick(site.app, datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc))  # the hourly, asked by nobody
    assert f"/jobs/{system_job}" in alice.get("/jobs").text
    mine = alice.get("/jobs?mine=1").text  # "My jobs" of the user menu: her own only
    assert f"/jobs/{job_id}" in mine and f"/jobs/{system_job}" not in mine


def test_the_progress_fragment_polls_until_the_job_ends(site):
    from core import Job

    alice = site.client("alice")
    job_id = _start(site, "alice", prefix="p", count=1)
    done = alice.get(f"/jobs/{job_id}/progress")
    assert done.status_code == 200 and "hx-trigger" not in done.text
    with site.session() as db:
        db.execute(update(Job).where(Job.id == job_id).values(status="running", done=1, total=4))
        db.commit()
    running = alice.get(f"/jobs/{job_id}/progress")
    assert 'hx-trigger="every 1s"' in running.text and 'value="25"' in running.text


def test_the_api_lists_reads_cancels_and_retries(site):
    from core import Job
    from core.auth.models import User
    from core.auth.tokens import create_token

    site.client("alice")
    job_id = _start(site, "alice", prefix="api", count=1)
    with site.session() as db:
        user = db.execute(select(User).where(User.username == "alice")).scalar_one()
        _, secret = create_token(db, user, "tests")
        db.execute(update(Job).where(Job.id == job_id).values(status="queued", run_after=datetime(2999, 1, 1,
                                                                                                  tzinfo=timezone.utc)))
        db.commit()
    api = site.client()
    headers = {"Authorization": f"Bearer {secret}"}
    listed = api.get("/api/v1/jobs?status=queued", headers=headers).get_json()
    assert [j["id"] for j in listed["items"]] == [job_id] and listed["items"][0]["kind"] == "everyhook.tally"
    assert api.get("/api/v1/jobs?status=nope", headers=headers).status_code == 422
    cancelled = api.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = api.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    retried = api.post(f"/api/v1/jobs/{job_id}/retry", headers=headers).get_json()
    assert retried["status"] in ("queued", "done")
    assert api.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "done"
    assert api.get("/api/v1/jobs/999999", headers=headers).status_code == 404


def test_the_reaper_hands_a_dead_workers_job_to_the_queue_again(site):
    from core import Job
    from core.jobs.scheduler import reap

    site.client("alice")
    job_id = _start(site, "alice", prefix="reaped", count=2)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with site.session() as db:  # as if a worker had died half-way: running, a stale heartbeat
        db.execute(update(Job).where(Job.id == job_id).values(status="running", worker="dead", done=1,
                                                              heartbeat_at=long_ago, attempts=1))
        db.commit()
    assert reap(site.app) == [job_id]
    assert _jobs(site)[0][:2] == ("everyhook.tally", "done") and _things(site) == ["reaped 1", "reaped 2"]
    assert reap(site.app) == []


def test_one_job_per_tick_and_company_however_often_the_tick_fires(site):
    from core.jobs.scheduler import tick

    site.client("alice")
    at = datetime(2026, 12, 7, 2, 0, 30, tzinfo=timezone.utc)
    first = tick(site.app, at)
    assert len(first) == 2  # the hourly (one company) and the nightly at 02:00
    assert tick(site.app, at) == [] and tick(site.app, at + timedelta(seconds=20)) == []
    assert len(tick(site.app, at + timedelta(hours=1))) == 1  # the next hour; 03:00 is not nightly
    kinds = _jobs(site)
    assert [k[1] for k in kinds] == ["done"] * 3 and sorted(_things(site)) == ["hourly 1", "nightly 1"]


def test_the_cli_lists_jobs_and_refuses_to_cancel_an_ended_one(site, kontor):
    site.client("alice")
    job_id = _start(site, "alice", prefix="cli", count=1)
    listed = kontor("jobs", "list")
    assert listed.exit_code == 0 and f"{job_id}\tdone\t1/1\teveryhook.tally" in listed.output
    refused = kontor("jobs", "cancel", str(job_id))
    assert refused.exit_code == 1 and "already ended" in refused.output


def test_a_scheduled_job_is_called_by_its_kinds_title_in_the_readers_language(site):
    from core.jobs.scheduler import tick

    alice = site.client("alice")
    [job_id] = tick(site.app, datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc))
    assert "Tally things" in alice.get(f"/jobs/{job_id}").text  # no title of its own stored
    assert _jobs(site)[0][1] == "done"
