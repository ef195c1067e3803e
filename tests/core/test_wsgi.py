"""The dispatcher serves the app of the current modules revision, rebuilt when it changes."""
from sqlalchemy import update

from core.db import get_engine
from core.modules.models import ModulesRevision


def test_the_app_is_kept_while_the_revision_stands(dispatcher):
    assert dispatcher.app is dispatcher.app


def test_a_new_revision_rebuilds_the_app(dispatcher, db_url, client):
    before = dispatcher.app
    with get_engine(db_url).begin() as conn:
        conn.execute(update(ModulesRevision).values(revision=ModulesRevision.revision + 1))
    assert client.get("/health").status_code == 200
    after = dispatcher.app
    assert after is not before
    assert after.extensions["kontor"].revision == before.extensions["kontor"].revision + 1


def test_the_revision_read_is_the_databases(dispatcher, db_url):
    with get_engine(db_url).begin() as conn:
        conn.execute(update(ModulesRevision).values(revision=41))
    assert dispatcher.read_revision() == 41
