"""accounting_entry_posted reaches other modules, inside the posting's transaction, for every path.

This module is itself a tiny plugin (``entry_watch``) that records what the hook tells it.
"""
from __future__ import annotations

from datetime import date

import pytest

from core import KontorError, Manifest, hookimpl

from plugins.accounting.ledger import services

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
