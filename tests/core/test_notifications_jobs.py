"""A user is told when a job they asked for ends; the system's and the scheduler's jobs tell nobody.

Jobs run in huey's immediate mode (right after the commit that asked for them), through the real
runner; the fixture plugin ``everyhook`` offers the job kind (``everyhook.tally``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.contract import install
from tests.core.everyhook_site import Site


@pytest.fixture
def site(settings) -> Site:
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    install(settings, "everyhook")
    return Site(settings)


def start(site, username: str | None, **arguments) -> int:
    from core import acting_as, start_job
    from core.auth.models import User

    with site.session() as db:
        user = db.execute(select(User).where(User.username == username)).scalar_one() if username else None
        with acting_as(user):
            job = start_job(db, "everyhook.tally", arguments, max_attempts=1)
            db.commit()
            return job.id


def core_notes(site) -> list[tuple]:
    from core import Notification
    from core.auth.models import User

    with site.session() as db:
        return [tuple(row) for row in db.execute(
            select(User.username, Notification.kind, Notification.params, Notification.url)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind.like("core.job%")).order_by(Notification.id))]


def test_the_user_who_asked_is_told_the_job_finished_or_failed_with_a_link_to_it(site):
    site.client("alice")
    site.client("bob")
    done = start(site, "alice", prefix="fine", count=1)
    failed = start(site, "bob", prefix="broken", count=1, fail_first=5)
    assert core_notes(site) == [
        ("alice", "core.job_done", {"title": "Tally things"}, f"/jobs/{done}"),
        ("bob", "core.job_failed", {"title": "Tally things"}, f"/jobs/{failed}"),
    ]


def test_the_systems_and_the_schedulers_jobs_tell_nobody(site):
    from core.jobs.scheduler import tick

    site.client("alice")
    start(site, None, prefix="system", count=1)
    assert len(tick(site.app, datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc))) == 2
    assert {"system 1", "hourly 1", "nightly 1"} <= set(site.things())
    assert core_notes(site) == []

