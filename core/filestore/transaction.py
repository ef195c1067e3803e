"""Stored objects that follow a database transaction: gone again on rollback, deleted on commit.

An object store takes part in no transaction, so the order is chosen to lose nothing: a new
object is written before the row that names it is committed (and removed if the transaction
rolls back); an object whose row is deleted is removed only once that delete is committed.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

_ON_COMMIT = "kontor_storage_delete_on_commit"
_ON_ROLLBACK = "kontor_storage_delete_on_rollback"


def delete_after_commit(db: Session, store, key: str) -> None:
    """Remove ``key`` from ``store`` when ``db`` commits (kept when it rolls back)."""
    db.info.setdefault(_ON_COMMIT, []).append((store, key))


def delete_on_rollback(db: Session, store, key: str) -> None:
    """Remove ``key`` (just written) from ``store`` if ``db`` rolls back instead of committing."""
    db.info.setdefault(_ON_ROLLBACK, []).append((store, key))


def _remove(pending) -> None:
    for store, key in pending:
        try:
            store.delete(key)
        except Exception:  # an orphaned object costs space, not correctness; the next sweep may take it
            import logging

            logging.getLogger("kontor").exception("could not delete stored object %s", key)


@event.listens_for(Session, "after_commit")
def _committed(db: Session) -> None:
    db.info.pop(_ON_ROLLBACK, None)
    _remove(db.info.pop(_ON_COMMIT, ()))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(db: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    db.info.pop(_ON_COMMIT, None)
    _remove(db.info.pop(_ON_ROLLBACK, ()))
