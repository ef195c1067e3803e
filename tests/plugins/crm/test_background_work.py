"""The CRM's long work as background jobs (huey's immediate mode: a job runs right after the commit
that asked for it): a campaign sent by a job to a real SMTP server, once per recipient however often
the job runs; one-click unsubscribe; a large lead import with progress that a re-run never repeats;
the scheduled SLA check."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from core import Job, mail_messages, queue_mail, start_job, utcnow
from plugins.crm.campaigns import jobs as campaign_jobs, services as campaigns
from plugins.crm.campaigns.models import CampaignRecipient
from plugins.crm.testing import REFUSED_DOMAIN, add_ticket, campaign, company, configure_smtp, people, segment

RECEIVED = ["info@fjord.example", "Mette@Fjord.example", "jens@fjord.example"]
GHOST = f"ghost@{REFUSED_DOMAIN}"


def jobs_of(app, record: str) -> list[Job]:
    from core.db import session

    with app.app_context():
        found = session.execute(select(Job).where(Job.record == record).order_by(Job.id)).scalars().all()
        session.expunge_all()
        return found


def a_campaign(app) -> int:
    from core.db import session

    with app.app_context():
        people(session)
        found = campaign(session, segment(session))
        session.commit()
        return found.id


def recipient_states(app, campaign_id: int) -> dict[str, tuple[str, str]]:
    from core.db import session

    with app.app_context():
        rows = session.execute(select(CampaignRecipient.email, CampaignRecipient.status, CampaignRecipient.reason)
                               .where(CampaignRecipient.campaign_id == campaign_id)).all()
        return {email: (status, reason) for email, status, reason in rows}


def mail_log(app, campaign_id: int) -> dict[str, tuple[str, int, str]]:
    """The campaign's messages in the core's mail log: address → (status, attempts, error)."""
    from core.db import session

    with app.app_context():
        logged = mail_messages(session, f"crm.campaign:{campaign_id}", limit=1000)
        found = {m.to_address: (m.status, m.attempts, m.error) for m in logged}
        assert len(found) == len(logged)  # one message per recipient
        return found


def run_send_job_again(app, campaign_id: int, key: str) -> Job:
    """Run the campaign's send job once more, as a worker would after the first one died."""
    from core.db import session

    with app.app_context():
        job = start_job(session, campaign_jobs.KIND, {"campaign_id": campaign_id, "base_url": "http://localhost"},
                        record=f"crm.campaign:{campaign_id}", key=key)
        session.commit()
        job_id = job.id
    return next(j for j in jobs_of(app, f"crm.campaign:{campaign_id}") if j.id == job_id)


# -- campaigns --


def test_send_on_the_page_runs_a_job_that_mails_each_recipient_once(app, admin_client, smtp):
    campaign_id = a_campaign(app)
    assert admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {}).status_code == 303

    [job] = jobs_of(app, f"crm.campaign:{campaign_id}")
    assert job.kind == "crm.send_campaign" and job.status == "done"
    assert job.result == {"sent": 3, "failed": 1, "skipped": 0, "total": 4}
    assert (job.done, job.total) == (4, 4) and "3 sent, 1 failed, 0 skipped of 4" in job.message
    assert Counter(smtp.to()) == Counter(RECEIVED)  # each recipient got exactly one message
    # the messages went through the core's mail service: its log has each one and its outcome
    assert mail_log(app, campaign_id) == {**{a: ("sent", 1, "") for a in RECEIVED},
                                          GHOST: ("failed", 1, "550 5.1.1 No such mailbox here")}
    page = admin_client.get(f"/crm/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'id="job-{job.id}"' in page and "The campaign is sent." in page
    assert 'value="4" max="4"' in page and 'data-status="failed"' in page
    assert 'class="campaign-mail-log">3 sent, 1 failed, 0 waiting' in page and 'href="/settings/mail"' in page

    # the job run again (a worker took it for lost) mails no one a second time
    again = run_send_job_again(app, campaign_id, "again")
    assert again.status == "done" and again.result == job.result
    assert Counter(smtp.to()) == Counter(RECEIVED) and len(mail_log(app, campaign_id)) == 4
    # and asking to send again is refused beside the page
    refused = admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {}, follow_redirects=True)
    assert "was sent already" in refused.get_data(as_text=True)
    assert len(jobs_of(app, f"crm.campaign:{campaign_id}")) == 2


def test_a_job_rerun_after_a_worker_died_never_mails_a_claimed_recipient_twice(app, smtp):
    from core.db import session

    campaign_id = a_campaign(app)
    with app.app_context():
        found = campaigns.get_campaign(session, campaign_id)
        campaigns.start_send(session, found)
        # the state a worker leaves when it dies mid-batch: its claim committed, the outcome not
        mette = session.execute(select(CampaignRecipient).where(CampaignRecipient.email == "Mette@Fjord.example")
                                ).scalar_one()
        mette.status = "sending"
        session.commit()
    job = run_send_job_again(app, campaign_id, "after-a-crash")
    assert job.status == "done" and job.result == {"sent": 2, "failed": 2, "skipped": 0, "total": 4}
    assert sorted(smtp.to()) == ["info@fjord.example", "jens@fjord.example"]
    status, reason = recipient_states(app, campaign_id)["Mette@Fjord.example"]
    assert status == "failed" and "not sent again" in reason


def test_a_rerun_settles_each_claim_from_the_mail_log_and_mails_only_what_never_left(app, smtp):
    from core.db import session

    campaign_id = a_campaign(app)
    record = f"crm.campaign:{campaign_id}"
    with app.app_context():
        campaigns.start_send(session, campaigns.get_campaign(session, campaign_id))
        rows = {r.email: r for r in session.execute(select(CampaignRecipient)).scalars()}
        # what a worker leaves when it dies: each claim committed with its queued message, then Mette's
        # caught going out, Info's handed over (its outcome not yet written back), Jens's not yet sent
        for address, state in (("Mette@Fjord.example", "sending"), ("info@fjord.example", "sent"),
                               ("jens@fjord.example", "queued")):
            rows[address].status = "sending"
            message = queue_mail(session, address, "News", "Hello", record=record)
            message.status, message.sent_at = state, utcnow() if state == "sent" else None
        session.commit()

    job = run_send_job_again(app, campaign_id, "after-a-crash")
    assert job.status == "done" and job.result == {"sent": 2, "failed": 2, "skipped": 0, "total": 4}
    assert smtp.to() == ["jens@fjord.example"]  # the only message that had not left; Ghost is refused
    states = recipient_states(app, campaign_id)
    assert states["info@fjord.example"] == ("sent", "") and states["jens@fjord.example"] == ("sent", "")
    assert states["Mette@Fjord.example"][0] == "failed" and "not sent again" in states["Mette@Fjord.example"][1]
    assert states[GHOST] == ("failed", "550 5.1.1 No such mailbox here")
    logged = mail_log(app, campaign_id)
    assert logged["jens@fjord.example"] == ("sent", 1, "") and logged["Mette@Fjord.example"][0] == "sending"
    assert len(logged) == 4

    # once more: nothing left to send
    assert run_send_job_again(app, campaign_id, "once-more").result == job.result
    assert smtp.to() == ["jens@fjord.example"] and len(mail_log(app, campaign_id)) == 4


def test_a_message_the_server_puts_off_goes_again_when_the_job_retries(app, admin_client):
    from core.db import session
    from core.mail.testing import DEFERRAL, DEFERRED_DOMAIN, smtp_server

    busy = f"busy@{DEFERRED_DOMAIN}"
    with smtp_server() as (inbox, port):
        with app.app_context():
            configure_smtp(session, port)
            people(session)
            company(session, "Busy ApS", email=busy, tags=["newsletter"])
            campaign_id = campaign(session, segment(session)).id
            session.commit()
        assert admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {}).status_code == 303
    [job] = jobs_of(app, f"crm.campaign:{campaign_id}")
    # 451 each time: the job is tried again (the message with it), and after the last attempt it is failed
    assert (job.status, job.attempts) == ("done", 3)
    assert job.result == {"sent": 3, "failed": 2, "skipped": 0, "total": 5}
    assert recipient_states(app, campaign_id)[busy] == ("failed", DEFERRAL)
    assert mail_log(app, campaign_id)[busy] == ("failed", 3, DEFERRAL)
    assert Counter(inbox.to()) == Counter(RECEIVED)


def test_campaign_mail_carries_the_one_click_unsubscribe_headers_and_the_post_works(app, admin_client, client, smtp):
    from core.db import session

    campaign_id = a_campaign(app)
    admin_client.post_form(f"/crm/campaigns/{campaign_id}/send", {})
    message = smtp.for_address("jens@fjord.example")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with app.app_context():  # as the core's mail log keeps them
        [logged] = [m for m in mail_messages(session, f"crm.campaign:{campaign_id}")
                    if m.to_address == "jens@fjord.example"]
        assert logged.headers == {"List-Unsubscribe": message["List-Unsubscribe"],
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        assert logged.message_id == message["Message-ID"]
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://localhost/crm/unsubscribe/")
    assert link in smtp.text_for("jens@fjord.example")

    # a mail client's one-click POST (RFC 8058): no session, no CSRF token, the signed link alone
    done = client.post(link.replace("http://localhost", ""), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with app.app_context():
        assert campaigns.is_opted_out(session, "jens@fjord.example")
        assert not campaigns.is_opted_out(session, "info@fjord.example")
    tampered = link[:-2] + ("xx" if not link.endswith("xx") else "yy")
    refused = client.post(tampered.replace("http://localhost", ""), data={"List-Unsubscribe": "One-Click"})
    assert refused.status_code == 404


def test_the_api_starts_the_send_job(app, api, smtp):
    campaign_id = a_campaign(app)
    response = api.post(f"/api/v1/crm/campaigns/{campaign_id}/send")
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "sent" and body["job"]["status"] == "done"
    assert body["progress"]["done"] == 4 and body["progress"]["failed"] == 1
    assert [j.id for j in jobs_of(app, f"crm.campaign:{campaign_id}")] == [body["job"]["id"]]
    assert sorted(smtp.to()) == sorted(RECEIVED)
    again = api.post(f"/api/v1/crm/campaigns/{campaign_id}/send")
    assert again.status_code == 409 and again.headers["Content-Type"] == "application/problem+json"


def test_the_send_job_kind_needs_the_send_permission(app):
    kind = app.extensions["kontor"].job_kinds[campaign_jobs.KIND]
    assert kind.permission == "crm.campaign.send" and kind.max_attempts == 3


# -- the scheduled SLA check --


def test_the_sla_check_is_scheduled_per_company_and_its_job_marks_breaches_once(app, admin_client):
    from core.db import session
    from core.jobs.scheduler import tick
    from plugins.crm.activities.models import TimelineEvent
    from plugins.crm.tickets.models import Ticket

    [schedule] = [s for s in app.extensions["kontor"].schedules if s.name == "crm.sla_check"]
    assert schedule.kind == "crm.check_sla" and schedule.per_company and schedule.every == timedelta(minutes=5)
    late = add_ticket(app, hours_ago=24 * 30, priority="urgent", subject="Forgotten", contact_email="a@b.example")
    fresh = add_ticket(app, hours_ago=0, priority="low", subject="Just in", contact_email="c@d.example")

    now = datetime.now(timezone.utc)
    started = tick(app, now)
    with app.app_context():
        [job] = [job for job in (session.get(Job, i) for i in started) if job.kind == "crm.check_sla"]
        assert job.kind == "crm.check_sla" and job.status == "done" and job.user_id is None
        marked = job.result["marked"]
        breached_at = {t.id: t.sla_breached_at for t in session.execute(select(Ticket)).scalars()}
    assert marked == [f"T-{late:06d}"]
    assert breached_at[late] is not None and breached_at[fresh] is None
    assert "Service level missed" in admin_client.get(f"/crm/tickets/{late}").get_data(as_text=True)
    assert "Service level missed" not in admin_client.get(f"/crm/tickets/{fresh}").get_data(as_text=True)

    # the same tick again starts nothing; the next tick marks nothing new
    assert tick(app, now) == []
    later = tick(app, now + timedelta(minutes=5))
    with app.app_context():
        checks = [session.get(Job, i) for i in later if session.get(Job, i).kind == "crm.check_sla"]
        assert checks and [job.result["marked"] for job in checks] == [[] for _ in checks]
        assert session.get(Ticket, late).sla_breached_at == breached_at[late]
        events = session.execute(select(TimelineEvent.title).where(TimelineEvent.ticket_id == late,
                                                                   TimelineEvent.kind == "ticket")).scalars().all()
    assert events.count("Ticket %(number)s missed its service level") == 1


# -- a large lead import --


def thousand_leads() -> bytes:
    rows = ["name,company,email"] + [f"Person {i},Firma {i:04d} ApS,person{i}@firma{i}.example" for i in range(1000)]
    return ("\n".join(rows) + "\n").encode()


def count_leads(app) -> tuple[int, int]:
    """How many leads there are, and how many distinct addresses they have."""
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        emails = session.execute(select(Lead.email)).scalars().all()
        return len(emails), len(set(emails))


def rerun_import(app, upload_id: int, key: str | None) -> Job:
    """Run the import job of upload ``upload_id`` once more, as a worker would after the first one died."""
    from core.db import session
    from plugins.crm.leads import jobs as lead_jobs

    with app.app_context():
        job = start_job(session, lead_jobs.KIND, {"upload_id": upload_id, "owner_id": None},
                        record=f"crm.lead_upload:{upload_id}", key=key)
        session.commit()
        job_id = job.id
    return next(j for j in jobs_of(app, f"crm.lead_upload:{upload_id}") if j.id == job_id)


def upload_of(app, preview_path: str):
    from core.db import session
    from plugins.crm.leads.models import LeadUpload

    token = preview_path.split("/import/")[1].split("/")[0]
    with app.app_context():
        return session.execute(select(LeadUpload.id, LeadUpload.user_id).where(LeadUpload.token == token)).one()


def test_a_large_lead_import_runs_as_a_job_with_progress_and_a_rerun_adds_nothing(app, admin_client):
    from plugins.crm.leads import imports
    from tests.plugins.crm.lead_import_kit import through_columns

    preview = through_columns(admin_client, thousand_leads())
    upload_id, _user_id = upload_of(app, preview)
    done = admin_client.post_form(preview.replace("/preview", "/run"), {})
    assert done.status_code == 303 and done.headers["Location"].endswith("/status")
    [job] = jobs_of(app, f"crm.lead_upload:{upload_id}")
    assert job.kind == "crm.import_leads" and job.status == "done"
    assert job.result == {"created": 1000, "skipped_invalid": 0, "skipped_duplicates": 0}
    assert (job.done, job.total) == (1000, 1000) and job.message == "1000 of 1000 rows imported"
    assert imports.JOB_CHUNK < 1000  # the progress came chunk by chunk
    page = admin_client.get(done.headers["Location"]).get_data(as_text=True)
    assert f'id="job-{job.id}"' in page and "1,000 leads imported; 0 bad rows" in page
    assert count_leads(app) == (1000, 1000)

    # the job again (a worker took it for lost after its last commit) inserts nothing
    again = rerun_import(app, upload_id, "again")
    assert again.status == "done" and again.result["created"] == 1000
    assert count_leads(app) == (1000, 1000)
    # nor does asking for the import again
    assert admin_client.post_form(preview.replace("/preview", "/run"), {}).status_code == 303
    assert count_leads(app) == (1000, 1000)


def test_an_import_interrupted_between_chunks_resumes_without_duplicates(app, admin_client):
    from core.auth.models import User
    from core.db import session
    from plugins.crm.leads import imports
    from plugins.crm.leads.models import LeadUpload
    from tests.plugins.crm.lead_import_kit import through_columns

    preview = through_columns(admin_client, thousand_leads())
    upload_id, user_id = upload_of(app, preview)

    class WorkerDied(Exception):
        pass

    def die_after_two_chunks(done: int, total: int) -> None:
        session.commit()  # what a job's progress does at a chunk's end
        if done >= 2 * imports.JOB_CHUNK:
            raise WorkerDied

    with app.app_context():
        upload, user = session.get(LeadUpload, upload_id), session.get(User, user_id)
        imports.plan_upload(session, upload, user=user)
        try:
            imports.import_upload(session, upload, user=user, progress=die_after_two_chunks)
        except WorkerDied:
            session.rollback()
    assert count_leads(app) == (2 * imports.JOB_CHUNK, 2 * imports.JOB_CHUNK)

    job = rerun_import(app, upload_id, None)
    assert job.status == "done" and job.result["created"] == 1000
    assert count_leads(app) == (1000, 1000)
