"""The hooks around the ledger: accounting_entry_posted reaches other modules inside the posting's
transaction (this module is a tiny plugin, entry_watch, recording what it hears), the balanced-entry
invariant check, and the company fields the books lock.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from core import InvariantError, KontorError, Manifest, hookimpl
from core.db import session

from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import Entry, POSTED


# -- accounting_entry_posted --


manifest = Manifest(name="entry_watch", title="Entry watch", version="1.0",
                    summary="Records posted entries (a test plugin).", depends=("accounting",))


SEEN: list[tuple] = []


@hookimpl
def accounting_entry_posted(entry, session):
    assert session.get(type(entry), entry.id) is entry  # the same transaction
    if entry.reference == "refuse me":
        raise KontorError("watched module says no", field="reference", status=422)
    SEEN.append((entry.number, entry.state, len(entry.lines), str(sum(line.debit for line in entry.lines))))


@pytest.fixture
def watched(settings):
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    SEEN.clear()
    return install(settings, "entry_watch")


def lines(amount):
    return [{"account": "1100", "debit": amount}, {"account": "4000", "credit": amount}]


def test_entry_posted_hook(watched):
    from core.db import session

    today = date.today()
    with watched.app_context():
        one = services.create_and_post(session, journal="GEN", date=today, lines=lines("10.00"))
        assert SEEN == [(one.number, "posted", 2, "10.00")]
        batch = services.post_batch(session, [{"journal": "SAL", "date": today, "lines": lines("2.00")},
                                              {"journal": "SAL", "date": today, "lines": lines("3.00")}])
        assert SEEN[1:] == [(batch[0].number, "posted", 2, "2.00"), (batch[1].number, "posted", 2, "3.00")]
        reversal = services.reverse_entry(session, one)
        assert SEEN[-1] == (reversal.number, "posted", 2, "10.00")
        session.commit()
        with pytest.raises(KontorError) as caught:  # a hook that refuses fails the posting
            services.create_and_post(session, journal="GEN", date=today, lines=lines("1.00"), reference="refuse me")
        assert caught.value.field == "reference"
        session.rollback()
        assert services.create_and_post(session, journal="GEN", date=today, lines=lines("1.00")).sequence == 3
        session.rollback()


# -- the balanced-entry invariant --


TODAY = date.today()


def _lines(debit: str, credit: str) -> list[dict]:
    return [{"account": "1200", "debit": debit}, {"account": "4000", "credit": credit}]


def test_the_accounting_module_registers_the_balanced_entry_check(app):
    names = [c.name for c in app.extensions["kontor"].invariant_checks]
    assert "accounting.balanced_entries" in names


def test_an_unbalanced_entry_marked_posted_by_another_path_is_refused_at_commit(db):
    entry = services.create_entry(db, journal="GEN", date=TODAY, lines=_lines("100.00", "99.99"))  # a draft may be
    db.commit()
    entry.state = POSTED  # not through post_entry, which refuses it: the last line of defence holds
    with pytest.raises(InvariantError, match="must be balanced") as refused:
        db.commit()
    assert refused.value.status == 409 and refused.value.check == "accounting.balanced_entries"
    db.rollback()
    assert db.execute(select(Entry.state).where(Entry.id == entry.id)).scalar() == "draft"


def test_balanced_postings_commit_one_by_one_and_in_a_batch(db):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=_lines("10.00", "10.00"))
    db.commit()
    batch = services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": _lines(f"{n}.00", f"{n}.00")}
                                     for n in range(1, 4)])
    db.commit()
    posted = db.execute(select(Entry.id).where(Entry.state == POSTED)).scalars().all()
    assert set(posted) >= {entry.id, *(e.id for e in batch)}


def test_the_check_sees_the_entries_a_batch_posting_attached(db):
    from core.invariants import changes_of

    batch = services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": _lines("5.00", "5.00")}])
    from plugins.accounting.ledger.invariants import touched_entry_ids

    assert touched_entry_ids(changes_of(db)) == [batch[0].id]
    db.commit()


# -- the company fields the books lock --


def company(api) -> dict:
    return api.get("/api/v1/company").get_json()


def test_base_currency_is_locked_once_an_entry_exists(app, api, admin_client):
    base = company(api)["base_currency"]
    other = "EUR" if base != "EUR" else "SEK"
    # no entry yet: the currency may still be chosen, and back
    assert api.patch("/api/v1/company", json={"base_currency": other}).status_code == 200
    assert api.patch("/api/v1/company", json={"base_currency": base}).status_code == 200
    with app.app_context():
        services.create_entry(session, journal="GEN", date=date.today(), lines=[])  # a draft is enough
        session.commit()
    refused = api.patch("/api/v1/company", json={"base_currency": other})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "can no longer be changed" in refused.get_json()["errors"]["base_currency"][0]
    assert company(api)["base_currency"] == base
    assert api.patch("/api/v1/company", json={"base_currency": base, "city": "Odense"}).status_code == 200
    page = admin_client.get("/settings/company").get_data(as_text=True)
    assert re.search(rf'name="base_currency" value="{base}"[^>]*readonly', page)
    assert "can no longer be changed" in page
    form = {key: value for key, value in company(api).items() if isinstance(value, (str, int))}
    form["base_currency"] = other
    posted = admin_client.post_form("/settings/company", {k: str(v) for k, v in form.items()})
    assert posted.status_code == 422
    assert re.search(r'id="e-base_currency"[^>]*>[^<]*can no longer be changed', posted.get_data(as_text=True))
    assert company(api)["base_currency"] == base
