"""The WSGI entry point: serves the app built for the current module set, rebuilt when it changes.

Each request reads the modules revision (one row, on a per-thread autocommit connection); when
another worker or host has installed, disabled or purged a module, the revision has grown and this
worker builds a fresh app before answering. No restart is needed anywhere. When the revision
cannot be read (the database briefly unreachable), the error is logged as a warning and the app
already built keeps serving: an error never triggers a rebuild.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

from core.app import create_app
from core.db import get_engine, reading_transactions
from core.config import from_environment

log = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Dispatcher:
    """A WSGI app that delegates to the Flask app of the current modules revision."""

    def __init__(self, overrides: dict | None = None):
        self.overrides = dict(overrides or {})
        settings = from_environment(self.overrides)
        self.overrides.setdefault("SECRET_KEY", settings["SECRET_KEY"])
        self.engine = get_engine(settings["DATABASE_URL"])
        self._app: Flask | None = None
        self._built_for: int | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list = []  # every thread's, for close()

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn not in self._connections:  # none yet, or closed by close()
            raw = self.engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # kept by this thread for good: the check must not queue on the pool
            if self.engine.dialect.name != "sqlite":
                conn.autocommit = True
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close the connections that read the revision (a server shutting down, a test ending).

        Until then each serving thread keeps its own; a database can only be dropped once they are gone.
        """
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            try:
                conn.close()
            except Exception:  # a connection the server already broke has nothing left to close
                pass

    def _forget(self, conn) -> None:
        """Close and forget this thread's revision connection (broken, or left in an error)."""
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        try:
            conn.close()
        except Exception:  # already broken: nothing left to close
            pass

    def read_revision(self) -> int | None:
        """The modules revision in the database (-1 before ``kontor init``), or None when it could not
        be read: the error is logged and the thread's connection replaced on the next read."""
        try:
            conn = self._connection()
            row = conn.execute("SELECT revision FROM core_modules_revision WHERE id = 1").fetchone()
        except Exception:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                self._forget(conn)
            if self._built_for is None or self._built_for < 0:
                return -1  # not initialised (yet): the table is missing, as expected
            log.warning("Could not read the modules revision; serving the app built for revision %s",
                        self._built_for, exc_info=True)
            return None
        return row[0] if row else 0

    @property
    def app(self) -> Flask:
        """The app for the revision in the database now (built if needed).

        When the revision cannot be read the app already built keeps serving: a passing database
        error must not cost a rebuild (which would hit the same database again).
        """
        revision = self.read_revision()
        if self._app is None or (revision is not None and revision != self._built_for):
            with self._lock:
                if self._app is None or (revision is not None and revision != self._built_for):
                    self._app = create_app(self.overrides, refresh_plugins=self._app is not None)
                    self._built_for = self._app.extensions["kontor"].revision
        return self._app

    def __call__(self, environ, start_response):
        app = self.app
        if environ.get("REQUEST_METHOD", "GET") in READ_ONLY_METHODS:
            with reading_transactions():
                return app(environ, start_response)
        return app(environ, start_response)


def application(environ, start_response):
    """The module-level WSGI callable for gunicorn (``core.wsgi:application``)."""
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = Dispatcher()
    return _dispatcher(environ, start_response)


_dispatcher: Dispatcher | None = None
