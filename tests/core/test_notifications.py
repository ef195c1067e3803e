"""The notification service on SQLite and PostgreSQL: who gets what, by which channel, in which language.

1. notify() stores one notification per active recipient (users or ids, named twice: once), untranslated.
2. Each recipient's choice decides the channel: the inbox only, a mail at once through the real
   loopback SMTP server in the recipient's language, or the daily digest (sent once).
3. A notification about a record reaches only those who may read it, and the inbox hides it from a
   reader who later loses the right.
4. A module's mistakes (unknown kind, a record kind nobody declares, a message its parameters do
   not fill) are ValueErrors, and nothing is stored.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import N_, notify
from core.mail.models import MailMessage
from core.mail.testing import configure_mail, smtp_server
from core.notifications import services
from core.notifications.models import Notification
from core.testing import factories

DONE = "core.job_done"
#: a message the German catalogue translates ("E-Mail an %(to)s senden")
TRANSLATED = N_("Send mail to %(to)s")


@pytest.fixture
def inbox(db):
    with smtp_server() as (received, port):
        configure_mail(db, port, site_url="https://kontor.example")
        db.commit()
        yield received


def stored(db, user=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(db.execute(query).scalars())


def forget_permissions():
    """Drop the permission cache of this (long) app context, as a new request would."""
    from flask import g

    g.pop("kontor_permission_cache", None)


def test_notify_stores_one_untranslated_notification_per_active_recipient(db):
    anna, ben = factories.user(db, "anna"), factories.user(db, "ben")
    gone = factories.user(db, "gone")
    gone.active = False
    made = notify(db, DONE, [anna, ben.id, anna.id, gone], TRANSLATED, {"to": "x@example.com"}, url="/jobs/1")
    db.commit()
    assert [n.user_id for n in made] == [anna.id, ben.id]
    [first, second] = stored(db)
    assert (first.kind, first.message, first.params, first.url, first.channel) == (
        DONE, "Send mail to %(to)s", {"to": "x@example.com"}, "/jobs/1", "inapp")
    assert first.read_at is None and first.emailed_at is None and second.user_id == ben.id
    assert services.render(first) == "Send mail to x@example.com"
    assert services.unread_count(db, anna) == 1 and services.unread_count(db, gone) == 0


def test_mistakes_of_the_calling_module_are_value_errors_and_store_nothing(db):
    anna = factories.user(db, "anna")
    with pytest.raises(ValueError, match="no module registers the notification kind 'crm.nothing'"):
        notify(db, "crm.nothing", [anna], "Hello")
    with pytest.raises(ValueError, match="do not fill the message"):
        notify(db, DONE, [anna], "Hello %(name)s", {"nome": "x"})
    with pytest.raises(ValueError, match="do not fill the message"):
        notify(db, DONE, [anna], "Hello %(name)s", {"name": object()})
    with pytest.raises(ValueError, match="no module declares the record kind 'crm.nowhere'"):
        notify(db, DONE, [anna], "Hello", record="crm.nowhere:1")
    with pytest.raises(ValueError, match="1 to 500 characters"):
        notify(db, DONE, [anna], "x" * 501)
    with pytest.raises(ValueError, match="kind:id"):
        notify(db, DONE, [anna], "Hello", record="core.party")
    assert stored(db) == []


def test_each_recipients_choice_decides_the_channel_and_mail_goes_in_their_language(db, inbox):
    anna = factories.user(db, "anna", email="anna@example.com", locale="de", full_name="Anna Berg")
    ben = factories.user(db, "ben", email="ben@example.com", locale="en")
    cleo = factories.user(db, "cleo", email="cleo@example.com")
    services.save_choices(db, anna, {DONE: "email"})
    services.save_choices(db, ben, {DONE: "digest"})
    notify(db, DONE, [anna, ben, cleo], TRANSLATED, {"to": "kunde@example.com"}, url="/jobs/7")
    db.commit()

    # Anna chose e-mail: a message at once, in German, with a link that works from a mail
    assert inbox.to() == ["anna@example.com"]
    got = inbox.for_address("anna@example.com")
    assert got["Subject"] == "E-Mail an kunde@example.com senden"
    assert got["To"] == "Anna Berg <anna@example.com>"
    text = inbox.text_for("anna@example.com")
    assert text.startswith("E-Mail an kunde@example.com senden\n\nhttps://kontor.example/jobs/7\n")
    channels = {n.user_id: (n.channel, n.emailed_at is not None) for n in stored(db)}
    assert channels == {anna.id: ("email", True), ben.id: ("digest", False), cleo.id: ("inapp", False)}

    # the digest: Ben once, however often it runs; the others never (Anna had hers, Cleo wants none)
    assert services.send_digests(db) == 1
    db.commit()
    assert inbox.to() == ["anna@example.com", "ben@example.com"]
    digest = inbox.text_for("ben@example.com")
    assert "- Send mail to kunde@example.com\n  https://kontor.example/jobs/7" in digest
    assert services.send_digests(db) == 0
    db.commit()
    assert len(inbox.messages) == 2
    mails = db.execute(select(func.count()).select_from(MailMessage)).scalar_one()
    assert mails == 2


def test_the_digest_lists_every_undigested_item_of_a_user_once_in_their_language(db, inbox):
    dora = factories.user(db, "dora", email="dora@example.com", locale="de")
    services.save_choices(db, dora, {DONE: "digest", "core.job_failed": "digest"})
    notify(db, DONE, [dora], TRANSLATED, {"to": "eins@example.com"})
    notify(db, "core.job_failed", [dora], TRANSLATED, {"to": "zwei@example.com"})
    db.commit()
    assert services.send_digests(db) == 1
    db.commit()
    notify(db, DONE, [dora], TRANSLATED, {"to": "drei@example.com"})
    db.commit()
    assert services.send_digests(db) == 1
    db.commit()
    first, second = [m.get_body(("plain",)).get_content() for m in inbox.messages]
    assert "E-Mail an eins@example.com senden" in first and "E-Mail an zwei@example.com senden" in first
    assert "drei@example.com" not in first
    assert "E-Mail an drei@example.com senden" in second and "eins@example.com" not in second


def test_a_notification_about_a_party_reaches_only_those_who_may_read_parties(db):
    reader = factories.user(db, "reader", permissions=["core.party.read"])
    stranger = factories.user(db, "stranger")
    party = factories.party(db, "Nordlys ApS")
    made = notify(db, DONE, [reader, stranger], TRANSLATED, {"to": "x"}, record=f"core.party:{party.id}",
                  url=f"/parties/{party.id}")
    db.commit()
    assert [n.user_id for n in made] == [reader.id]
    assert services.may_read(db, reader, f"core.party:{party.id}")
    assert not services.may_read(db, reader, f"core.party:{party.id + 1000}")  # no such party
    assert not services.may_read(db, stranger, f"core.party:{party.id}")


def test_the_inbox_hides_a_notification_whose_record_its_reader_may_no_longer_read(db):
    role = factories.role_with(db, ["core.party.read"])
    reader = factories.user(db, "reader", roles=[role.name])
    party = factories.party(db, "Nordlys ApS")
    [note] = notify(db, DONE, [reader], TRANSLATED, {"to": "x"}, record=f"core.party:{party.id}")
    db.commit()
    assert services.visible(db, reader, note)
    reader.roles = []
    db.commit()
    forget_permissions()
    assert not services.visible(db, reader, note)
    assert services.unread_count(db, reader) == 1  # still counted: it is theirs, only its text is hidden


def test_marking_read_touches_only_the_readers_own(db):
    anna, ben = factories.user(db, "anna"), factories.user(db, "ben")
    notes = notify(db, DONE, [anna, ben], TRANSLATED, {"to": "x"}) + notify(db, DONE, [anna], TRANSLATED, {"to": "y"})
    db.commit()
    annas = [n for n in notes if n.user_id == anna.id]
    bens = [n for n in notes if n.user_id == ben.id]
    with pytest.raises(services.NotFound):
        services.mark_read(db, anna, bens[0].id)
    first = services.mark_read(db, anna, annas[0].id)
    when = first.read_at
    assert services.mark_read(db, anna, annas[0].id).read_at == when
    assert services.unread_count(db, anna) == 1
    assert services.mark_all_read(db, anna) == 1
    db.commit()
    assert services.unread_count(db, anna) == 0 and services.unread_count(db, ben) == 1
    assert [n.id for n in services.inbox(db, anna)] == [annas[1].id, annas[0].id]
    assert [n.id for n in services.inbox(db, anna, before=annas[1].id)] == [annas[0].id]
    assert services.inbox(db, anna, unread=True) == []


def test_choices_are_checked_whole_before_anything_changes(db):
    anna = factories.user(db, "anna")
    assert services.choices(db, anna)[DONE] == "inapp"
    with pytest.raises(services.InvalidInput) as refused:
        services.save_choices(db, anna, {DONE: "email", "core.job_failed": "pigeon"})
    assert refused.value.field == "core.job_failed"
    with pytest.raises(services.InvalidInput) as refused:
        services.save_choices(db, anna, {"crm.nothing": "email"})
    assert refused.value.field == "crm.nothing"
    assert services.choices(db, anna)[DONE] == "inapp"
    assert services.save_choices(db, anna, {DONE: "digest"})[DONE] == "digest"
    assert services.channel_for(db, anna, DONE) == "digest"


def test_the_morning_schedule_and_the_command_send_the_digest_once(app, db, inbox, kontor):
    from datetime import datetime, timezone

    from core.jobs.scheduler import tick

    erik = factories.user(db, "erik", email="erik@example.com")
    services.save_choices(db, erik, {DONE: "digest"})
    notify(db, DONE, [erik], TRANSLATED, {"to": "first@example.com"})
    db.commit()
    assert len(tick(app, datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc))) == 1  # the group's one digest job
    assert inbox.to() == ["erik@example.com"] and "first@example.com" in inbox.text_for("erik@example.com")
    assert kontor("notifications", "digest").output == "Digests sent: 0\n"  # nothing new since
    notify(db, DONE, [erik], TRANSLATED, {"to": "second@example.com"})
    db.commit()
    assert kontor("notifications", "digest").output == "Digests sent: 1\n"
    # the command's mail waits in the mail log for a worker (the command's queue is the instance's)
    db.expire_all()
    [_first, second] = db.execute(select(MailMessage).order_by(MailMessage.id)).scalars()
    assert second.to_address == "erik@example.com" and second.status == "queued"
    assert "second@example.com" in second.body and "first@example.com" not in second.body
