"""The notification pages and API, on SQLite and PostgreSQL: every signed-in user sees and changes
only their own.

1. The bell in the header loads the unread count with htmx; the page lists the newest first, the
   unread marked; opening one marks it read and goes to its record; "Mark all read"; unread/all
   filters and keyset paging.
2. Settings: one row per registered kind, saved with a confirmation; a bad choice is refused
   beside its row and changes nothing.
3. The API: list (unread filter, paging), count, read, read-all, settings; another user's
   notification is 404, bad input a 422 naming the field.
4. A notification about a record the reader may no longer read shows neither text nor link.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.notifications.models import Notification, NotificationChoice
from core.testing import factories
from core.testing.clients import ApiClient, WebClient

DONE, FAILED = "core.job_done", "core.job_failed"


@pytest.fixture
def people(app):
    """Two users, Anna (who reads parties) and Ben; (anna id, ben id)."""
    from core.db import session

    with app.app_context():
        anna = factories.user(session, "anna", permissions=["core.party.read"])
        ben = factories.user(session, "ben")
        session.commit()
        return anna.id, ben.id


def send(app, user_ids, text="Your job \u201c%(title)s\u201d has finished.", kind=DONE, count=1, **extra) -> list[int]:
    """``count`` notifications to each of ``user_ids``; their ids."""
    from core import notify
    from core.db import session

    with app.app_context():
        made = []
        for number in range(count):
            made += notify(session, kind, user_ids, text, {"title": f"Export {number + 1}"}, **extra)
        session.commit()
        return [n.id for n in made]


def signed_in(dispatcher, username) -> WebClient:
    client = WebClient(dispatcher)
    assert client.login(username, factories.PASSWORD).status_code == 302
    return client


def token_client(app, dispatcher, username) -> ApiClient:
    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    with app.app_context():
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
    return ApiClient(WebClient(dispatcher), secret)


def rows(app, **where) -> list[Notification]:
    from core.db import session

    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return list(session.execute(query).scalars())


def test_the_bell_counts_the_unread_and_the_page_lists_them_newest_first(app, dispatcher, people):
    anna_id, ben_id = people
    first, second = send(app, [anna_id], count=2)
    send(app, [ben_id])
    anna = signed_in(dispatcher, "anna")
    dashboard = anna.get("/dashboard").get_data(as_text=True)
    # the header's bell: a link to the inbox that loads its count with htmx, and the settings in the user menu
    bell = re.search(r'<a href="/notifications" id="notification-bell"[^>]*>', dashboard).group(0)
    assert 'hx-get="/notifications/bell"' in bell and 'hx-trigger="load, every 30s' in bell
    assert 'aria-label="Notifications"' in bell
    assert 'href="/notifications/settings"' in dashboard
    fragment = anna.get("/notifications/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'aria-label="Notifications: 2 unread"' in fragment and ">2</span>" in fragment
    assert "load," not in fragment  # a swapped-in bell does not load itself again

    page = anna.get("/notifications").get_data(as_text=True)
    assert page.index("Export 2") < page.index("Export 1")  # newest first
    assert page.count("notification-unread") == 2 and "Export" in page
    assert f'href="/notifications/{second}/open"' not in page  # no url given: plain text
    assert "Mark all read" in page


def test_opening_marks_read_and_goes_to_the_record(app, dispatcher, people):
    from core.db import session

    anna_id, ben_id = people
    with app.app_context():
        party = factories.party(session, "Nordlys ApS")
        session.commit()
        party_id = party.id
    [note] = send(app, [anna_id], record=f"core.party:{party_id}", url=f"/parties/{party_id}")
    [bens] = send(app, [ben_id], url="/jobs/1")
    anna = signed_in(dispatcher, "anna")
    page = anna.get("/notifications").get_data(as_text=True)
    assert f'href="/notifications/{note}/open"' in page
    opened = anna.get(f"/notifications/{note}/open")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/parties/{party_id}")
    assert rows(app, id=note)[0].read_at is not None
    assert anna.get(f"/notifications/{bens}/open").status_code == 404  # Ben's
    assert rows(app, id=bens)[0].read_at is None
    assert 'aria-label="Notifications"' in anna.get("/notifications/bell").get_data(as_text=True)
    [elsewhere] = send(app, [anna_id], url="https://elsewhere.example/phish")
    away = anna.get(f"/notifications/{elsewhere}/open")  # only a path of this site is followed
    assert away.status_code == 303 and away.headers["Location"].endswith("/notifications")


def test_mark_read_with_htmx_swaps_the_entry_and_tells_the_bell(app, dispatcher, people):
    anna_id, ben_id = people
    [note] = send(app, [anna_id])
    [bens] = send(app, [ben_id])
    anna = signed_in(dispatcher, "anna")
    answer = anna.htmx("POST", f"/notifications/{note}/read")
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "notifications-changed"
    body = answer.get_data(as_text=True)
    assert f'id="notification-{note}"' in body and "notification-unread" not in body
    assert anna.htmx("POST", f"/notifications/{bens}/read").status_code == 404
    assert rows(app, id=bens)[0].read_at is None
    refused = anna.post(f"/notifications/{note}/read")  # no CSRF token
    assert refused.status_code == 400


def test_mark_all_read_filters_and_keyset_paging(app, dispatcher, people):
    anna_id, ben_id = people
    ids = send(app, [anna_id], count=33)
    send(app, [ben_id])
    anna = signed_in(dispatcher, "anna")
    page = anna.get("/notifications").get_data(as_text=True)
    assert "Export 33" in page and "Export 4</" not in page and "Export 3<" not in page
    older = re.search(r'href="(/notifications\?before=\d+)"', page).group(1).replace("&amp;", "&")
    assert older == f"/notifications?before={ids[3]}"
    rest = anna.get(older).get_data(as_text=True)
    assert "Export 3" in rest and "Export 1" in rest and "Export 33" not in rest and "before=" not in rest
    assert anna.get("/notifications?before=abc").status_code == 422

    anna.post_form(f"/notifications/{ids[0]}/read", {})
    unread = anna.get("/notifications?unread=1").get_data(as_text=True)
    assert "Unread (32)" in unread
    done = anna.post_form("/notifications/read-all", {})
    assert done.status_code == 303
    assert "Marked 32 notifications read." in anna.get("/notifications").get_data(as_text=True)
    assert "No unread notifications." in anna.get("/notifications?unread=1").get_data(as_text=True)
    assert all(n.read_at is None for n in rows(app, user_id=ben_id))


def test_settings_list_every_kind_and_save_with_a_confirmation(app, dispatcher, people):
    anna_id, _ben = people
    anna = signed_in(dispatcher, "anna")
    page = anna.get("/notifications/settings").get_data(as_text=True)
    assert "A job I asked for has finished" in page and "A job I asked for has failed" in page
    assert re.search(rf'name="{DONE}" value="inapp" checked', page)
    saved = anna.post_form("/notifications/settings", {DONE: "email", FAILED: "digest"})
    assert saved.status_code == 303
    after = anna.get("/notifications/settings").get_data(as_text=True)
    assert "Your notification settings are saved." in after
    assert re.search(rf'name="{DONE}" value="email" checked', after)
    assert re.search(rf'name="{FAILED}" value="digest" checked', after)

    refused = anna.post_form("/notifications/settings", {DONE: "inapp", FAILED: "pigeon"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'class="field-error"' in body and 'aria-invalid="true"' in body
    from core.db import session

    with app.app_context():
        chosen = dict(session.execute(select(NotificationChoice.kind, NotificationChoice.channel)
                                      .where(NotificationChoice.user_id == anna_id)).all())
    assert chosen == {DONE: "email", FAILED: "digest"}  # nothing changed


def test_the_api_serves_each_user_their_own(app, dispatcher, people):
    anna_id, ben_id = people
    ids = send(app, [anna_id], count=3)
    [bens] = send(app, [ben_id])
    api = token_client(app, dispatcher, "anna")
    listed = api.get("/api/v1/notifications?limit=2").get_json()
    assert [n["id"] for n in listed["items"]] == [ids[2], ids[1]] and listed["next"] == str(ids[1])
    assert listed["items"][0]["text"] == "Your job \u201cExport 3\u201d has finished."
    assert listed["items"][0]["read"] is False and listed["items"][0]["hidden"] is False
    rest = api.get(f"/api/v1/notifications?limit=2&before={ids[1]}").get_json()
    assert [n["id"] for n in rest["items"]] == [ids[0]] and rest["next"] is None
    assert api.get("/api/v1/notifications/count").get_json() == {"unread": 3}

    read = api.post(f"/api/v1/notifications/{ids[0]}/read")
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert [n["id"] for n in api.get("/api/v1/notifications?unread=1").get_json()["items"]] == [ids[2], ids[1]]
    missing = api.post(f"/api/v1/notifications/{bens}/read")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert rows(app, id=bens)[0].read_at is None
    assert api.post("/api/v1/notifications/read-all").get_json() == {"unread": 0}
    assert api.get("/api/v1/notifications/count").get_json() == {"unread": 0}
    assert token_client(app, dispatcher, "ben").get("/api/v1/notifications/count").get_json() == {"unread": 1}

    bad = api.get("/api/v1/notifications?limit=0")
    assert bad.status_code == 422 and "limit" in bad.get_json()["errors"]


def test_the_settings_api_checks_every_choice_before_saving(app, dispatcher, people):
    api = token_client(app, dispatcher, "anna")
    settings = api.get("/api/v1/notifications/settings").get_json()["items"]
    assert {"kind": DONE, "title": "A job I asked for has finished", "channel": "inapp"} in settings
    refused = api.put("/api/v1/notifications/settings", json={"choices": {DONE: "email", FAILED: "pigeon"}})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "choices" in refused.get_json()["errors"]
    unknown = api.put("/api/v1/notifications/settings", json={"choices": {"crm.nothing": "email"}})
    assert unknown.status_code == 422 and "crm.nothing" in unknown.get_json()["errors"]
    kept = api.get("/api/v1/notifications/settings").get_json()["items"]
    assert {c["kind"]: c["channel"] for c in kept}[DONE] == "inapp"
    saved = api.put("/api/v1/notifications/settings", json={"choices": {DONE: "digest"}})
    assert saved.status_code == 200 and {c["kind"]: c["channel"] for c in saved.get_json()["items"]}[DONE] == "digest"


def test_a_reader_who_lost_the_right_sees_neither_text_nor_link(app, dispatcher, people):
    from core.auth.models import User
    from core.db import session

    anna_id, _ben = people
    with app.app_context():
        party = factories.party(session, "Hemmelig A/S")
        session.commit()
        party_id = party.id
    [note] = send(app, [anna_id], record=f"core.party:{party_id}", url=f"/parties/{party_id}")
    with app.app_context():
        session.get(User, anna_id).roles = []
        session.commit()
    anna = signed_in(dispatcher, "anna")
    page = anna.get("/notifications").get_data(as_text=True)
    assert "A notification about a record you may no longer see." in page
    assert "Export 1" not in page and f"/notifications/{note}/open" not in page
    [item] = token_client(app, dispatcher, "anna").get("/api/v1/notifications").get_json()["items"]
    assert item["hidden"] is True and item["text"] is None and item["url"] is None and item["record"] is None
    opened = anna.get(f"/notifications/{note}/open")  # read, but not taken to the record
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/notifications")
