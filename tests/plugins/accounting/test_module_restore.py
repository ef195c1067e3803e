"""Purging accounting archives the books; restoring the archive brings back posted entries as they were."""
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from core.errors import ModuleError
from core.modules.lifecycle import context_from_app, install, purge
from core.wsgi import Dispatcher
from plugins.accounting.ledger import services


def test_purge_then_restore_keeps_posted_books_and_their_guards(dispatcher, settings, db_url):
    with dispatcher.app.app_context():
        from core.db import session as db

        first = services.create_and_post(db, journal="GEN", date=date.today(), lines=[
            {"account": "1100", "debit": "125.50"}, {"account": "4000", "credit": "125.50"}])
        db.commit()
        number, entry_hash = first.number, first.hash
    # posted books within their retention period are purged only when the admin accepts losing them
    with pytest.raises(ModuleError, match="must be kept until"):
        purge(context_from_app(dispatcher.app), ["accounting"])
    archives = purge(context_from_app(dispatcher.app), ["accounting"], force=True)
    assert len(archives) == 1 and context_from_app(dispatcher.app).storage.exists(archives[0])

    app = Dispatcher(settings).app
    install(context_from_app(app), ["accounting"], restore_from=archives[0])
    app = Dispatcher(settings).app
    with app.app_context():
        from core.db import session as db
        from plugins.accounting.ledger.models import Entry

        restored = db.query(Entry).filter_by(number=number).one()
        assert (restored.state, restored.hash, len(restored.lines)) == ("posted", entry_hash, 2)
        checked, breaks = services.verify_chains(db)
        assert checked >= 1 and breaks == []
        line_id = restored.lines[0].id
    # the guards are back: a posted line still refuses a change in raw SQL
    engine = create_engine(db_url)
    try:
        with pytest.raises(Exception, match="immutable"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE accounting_line SET debit = 0 WHERE id = :id"), {"id": line_id})
    finally:
        engine.dispose()
