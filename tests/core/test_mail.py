"""Outgoing mail through a real SMTP server on 127.0.0.1: every message recorded, sent by a job,
retried while the server puts it off, failed with the server's reply when it refuses."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core import MailFile, Conflict, InvalidInput, deliver_mail, mail_configured, queue_mail, send_mail
from core.audit.models import AuditRecord
from core.jobs.models import Job
from core.mail.models import MailAttachment, MailMessage
from core.mail.testing import DEFERRAL, DEFERRED_DOMAIN, REFUSAL, REFUSED_DOMAIN, configure_mail, free_port, smtp_server

UNSUBSCRIBE = {"List-Unsubscribe": "<https://kontor.example/u/abc>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@pytest.fixture
def settings(settings):
    """Jobs run in the test's thread right after the commit; a retry is not put off."""
    return {**settings, "QUEUE_URL": "memory://", "JOB_RETRY_SECONDS": 0}


@pytest.fixture
def inbox(db):
    with smtp_server() as (received, port):
        configure_mail(db, port)
        db.commit()
        yield received


def fresh(db, message_id: int) -> MailMessage:
    db.expire_all()
    return db.get(MailMessage, message_id)


def job_of(db, message: MailMessage) -> Job:
    return db.execute(select(Job).where(Job.idempotency_key == f"mail:{message.id}")).scalar_one()


def test_send_mail_records_the_message_and_a_job_delivers_it_with_headers_and_attachment(db, inbox):
    message = send_mail(db, "mette@fjord.example", "Your invoice\r\nBcc: evil@example.com", "Hello Mette,\nsee attached.",
                        to_name="Mette Nielsen", html="<p>Hello <b>Mette</b></p>", headers=UNSUBSCRIBE,
                        attachments=[MailFile("invoice 7.pdf", b"%PDF-1.4 fake", "application/pdf")],
                        record="accounting.invoice:7")
    assert message.status == "queued" and inbox.messages == []  # nothing goes out before the commit
    db.commit()

    got = inbox.for_address("mette@fjord.example")
    assert got["Subject"] == "Your invoice Bcc: evil@example.com"  # one line: no header injected
    assert got["Bcc"] is None
    assert got["To"] == "Mette Nielsen <mette@fjord.example>"
    assert got["From"] == "Test Company <office@test-company.example>"
    assert got["X-Envelope-From"] == "office@test-company.example"
    assert got["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert inbox.text_for("mette@fjord.example") == "Hello Mette,\nsee attached.\n"
    assert "<b>Mette</b>" in got.get_body(("html",)).get_content()
    [pdf] = list(got.iter_attachments())
    assert pdf.get_filename() == "invoice 7.pdf" and pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == b"%PDF-1.4 fake"

    row = fresh(db, message.id)
    assert (row.status, row.attempts, row.error) == ("sent", 1, "")
    assert row.sent_at is not None and got["Message-ID"] == row.message_id
    assert row.message_id.endswith("@test-company.example>")
    assert [a.filename for a in row.attachments] == ["invoice 7.pdf"] and row.attachments[0].size == 13
    job = job_of(db, row)
    assert (job.status, job.record, job.kind) == ("done", "accounting.invoice:7", "core.mail.send")
    events = db.execute(select(AuditRecord).where(AuditRecord.action == "mail.send")).scalars().all()
    assert [(e.table_name, e.record_id) for e in events] == [("core_mail", str(row.id))]


def test_a_refused_recipient_fails_at_once_with_the_servers_reply(db, inbox):
    message = send_mail(db, f"ghost@{REFUSED_DOMAIN}", "Hello", "Anyone there?")
    db.commit()
    row = fresh(db, message.id)
    assert (row.status, row.attempts, row.error) == ("failed", 1, REFUSAL)
    assert row.sent_at is None and inbox.messages == []
    job = job_of(db, row)
    assert (job.status, job.attempts) == ("failed", 1)  # a refusal is not tried again
    assert "550" in job.error


def test_a_server_that_is_down_is_tried_again_then_the_message_fails(db):
    configure_mail(db, free_port())  # nothing listens there
    message = send_mail(db, "mette@fjord.example", "Hello", "Are you up?")
    db.commit()
    row = fresh(db, message.id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "refused" in row.error.lower() or "connect" in row.error.lower()
    job = job_of(db, row)
    assert (job.status, job.attempts) == ("failed", 3)


def test_a_message_the_server_puts_off_is_tried_again_up_to_the_limit(db, inbox):
    message = send_mail(db, f"busy@{DEFERRED_DOMAIN}", "Hello", "Later then.")
    db.commit()
    row = fresh(db, message.id)
    assert (row.status, row.attempts, row.error) == ("failed", 3, DEFERRAL)
    assert job_of(db, row).attempts == 3


def test_deliver_mail_sends_a_batch_over_one_connection_and_records_each_outcome(db, inbox):
    to = ["a@fjord.example", f"b@{REFUSED_DOMAIN}", f"c@{DEFERRED_DOMAIN}", "d@fjord.example"]
    queued = [queue_mail(db, address, f"News {n}", "Spring is here", headers=UNSUBSCRIBE, record="crm.campaign:1")
              for n, address in enumerate(to)]
    db.commit()
    assert inbox.messages == [] and db.execute(select(Job)).first() is None  # queue_mail starts no job

    outcome = deliver_mail(db, queued)
    assert (outcome.sent, outcome.failed, outcome.deferred) == (2, 1, 1)
    assert inbox.to() == ["a@fjord.example", "d@fjord.example"]
    assert [fresh(db, m.id).status for m in queued] == ["sent", "failed", "queued", "sent"]
    assert fresh(db, queued[1].id).error == REFUSAL

    again = deliver_mail(db, [fresh(db, m.id) for m in queued])  # only the put-off one goes again
    assert (again.sent, again.deferred) == (0, 1)
    assert len(inbox.messages) == 2 and fresh(db, queued[2].id).attempts == 2


@pytest.mark.parametrize("kwargs, field", [
    ({"to": "not an address"}, "to"),
    ({"to": "a@b.example, c@d.example"}, "to"),
    ({"to": "a@b.example\r\nBcc: x@y.example"}, "to"),
    ({"headers": {"List-Unsubscribe": "<https://x.example>\r\nBcc: x@y.example"}}, "headers"),
    ({"headers": {"Bcc": "x@y.example"}}, "headers"),
    ({"headers": {"Bad Name": "x"}}, "headers"),
    ({"sender": "Someone <not-an-address>"}, "sender"),
    ({"attachments": [("", b"x", "application/pdf")]}, "attachments"),
    ({"attachments": [("a.pdf", b"x", "pdf\r\nX: y")]}, "attachments"),
    ({"subject": "  "}, "subject"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(db, inbox, kwargs, field):
    arguments = {"to": "mette@fjord.example", "subject": "Hello", "body": "Hi", **kwargs}
    with pytest.raises(InvalidInput) as refused:
        send_mail(db, arguments.pop("to"), arguments.pop("subject"), arguments.pop("body"), **arguments)
    assert refused.value.field == field
    db.rollback()
    assert db.execute(select(MailMessage)).first() is None
    assert db.execute(select(MailAttachment)).first() is None


def test_mail_is_refused_until_a_server_and_sender_are_set(db):
    assert not mail_configured(db)
    with pytest.raises(Conflict) as refused:
        send_mail(db, "mette@fjord.example", "Hello", "Hi")
    assert refused.value.field == "mail"
    configure_mail(db, 2525)
    assert mail_configured(db)


# -- internationalised addresses --

JURGEN = "jürgen.weiß@example.com"


def test_an_internationalised_address_goes_out_with_smtputf8_when_the_server_offers_it(db):
    with smtp_server(smtputf8=True) as (received, port):
        configure_mail(db, port, sender_name="Büro Nordlys", sender_address="büro@nordlys.example")
        to_jurgen = queue_mail(db, JURGEN, "Grüße", "Hallo Jürgen", to_name="Jürgen Weiß", headers=UNSUBSCRIBE)
        to_domain = queue_mail(db, "info@müller.example", "Grüße", "Hallo", to_name="Müller GmbH")
        db.commit()
        outcome = deliver_mail(db, [to_jurgen, to_domain])
    assert (outcome.sent, outcome.failed) == (2, 0)
    got = received.for_address(JURGEN)
    assert str(got["To"]) == "Jürgen Weiß <jürgen.weiß@example.com>" and got["Subject"] == "Grüße"
    assert str(got["From"]) == "Büro Nordlys <büro@nordlys.example>"
    assert got["X-Envelope-From"] == "büro@nordlys.example"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.text_for(JURGEN) == "Hallo Jürgen\n"
    # an ASCII local part at a non-ASCII domain goes out with the domain IDNA-encoded
    assert str(received.for_address("info@xn--mller-kva.example")["To"]) == "Müller GmbH <info@xn--mller-kva.example>"
    assert [fresh(db, m.id).status for m in (to_jurgen, to_domain)] == ["sent", "sent"]
    assert received.to().count(JURGEN) == 1 and len(received.messages) == 2


def test_without_smtputf8_a_non_ascii_local_part_fails_at_once_with_a_clear_reason(db, inbox):
    to_jurgen = queue_mail(db, JURGEN, "Grüße", "Hallo Jürgen", to_name="Jürgen Weiß")
    to_domain = queue_mail(db, "info@müller.example", "Grüße", "Hallo")
    to_plain = queue_mail(db, "mette@fjord.example", "Hello", "Hi")
    db.commit()
    outcome = deliver_mail(db, [to_jurgen, to_domain, to_plain])
    assert (outcome.sent, outcome.failed, outcome.deferred, outcome.unreachable) == (2, 1, 0, False)
    row = fresh(db, to_jurgen.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == ("The mail server does not accept internationalised addresses (SMTPUTF8), "
                         "which jürgen.weiß@example.com needs.")
    assert inbox.to() == ["info@xn--mller-kva.example", "mette@fjord.example"]

    # sent by its own job, it fails without being tried again
    message = send_mail(db, JURGEN, "Grüße", "Hallo")
    db.commit()
    row = fresh(db, message.id)
    assert (row.status, row.attempts) == ("failed", 1) and "SMTPUTF8" in row.error
    assert job_of(db, row).status == "failed" and job_of(db, row).attempts == 1
    assert len(inbox.messages) == 2


def test_a_non_ascii_sender_address_needs_smtputf8_too(db):
    with smtp_server() as (received, port):
        configure_mail(db, port, sender_address="büro@nordlys.example")
        message = queue_mail(db, "mette@fjord.example", "Hello", "Hi")
        db.commit()
        outcome = deliver_mail(db, [message])
    assert (outcome.sent, outcome.failed) == (0, 1) and received.messages == []
    assert fresh(db, message.id).error.endswith("which büro@nordlys.example needs.")
