"""The queue that carries job ids from the web to the workers: huey, on the store ``QUEUE_URL`` names.

- empty (the embedded default): a SQLite file ``queue.db`` in the instance folder, no extra service;
- ``sqlite:///path``: a SQLite file elsewhere;
- ``postgresql://…`` (or ``postgresql+psycopg://…``): tables in PostgreSQL, over a direct connection;
- ``redis://…``: Redis;
- ``memory://``: huey's immediate mode, for tests: a job runs in the enqueuing thread, right away.

The queue only carries ``core_job`` ids; a lost message costs nothing but a delay, because the
reaper hands a job that nobody took to the queue again (:mod:`core.jobs.scheduler`).
"""
from __future__ import annotations

import threading
from contextvars import ContextVar
from pathlib import Path
from typing import Callable

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from core.jobs.pg_storage import PostgresStorage

QUEUE_NAME = "kontor"

_queues: dict[str, tuple[Huey, object]] = {}
_lock = threading.Lock()
#: Where a task finds its app: the worker's (rebuilt when modules change) or, in immediate mode,
#: the app of the code that enqueued it.
_worker_app: Callable[[], Flask] | None = None
_enqueuing_app: ContextVar[Flask | None] = ContextVar("kontor_enqueuing_app", default=None)


def queue_url(app: Flask) -> str:
    """The queue's URL for ``app``, the default resolved to the instance's SQLite file."""
    url = app.config.get("QUEUE_URL") or ""
    return url or f"sqlite:///{Path(app.config['INSTANCE_PATH']) / 'queue.db'}"


def _make(url: str) -> Huey:
    if url.startswith("memory://"):
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    if url.startswith("sqlite:///"):
        return SqliteHuey(QUEUE_NAME, filename=url[len("sqlite:///"):], results=False, timeout=30)
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        dsn = "postgresql://" + url.split("://", 1)[1]
        return Huey(QUEUE_NAME, storage_class=PostgresStorage, dsn=dsn, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    raise ValueError(f"KONTOR_QUEUE_URL must be sqlite:///…, postgresql://…, redis://… or memory://, not {url!r}")


def _queue(app: Flask) -> tuple[Huey, object]:
    url = queue_url(app)
    with _lock:
        found = _queues.get(url)
        if found is None:
            huey = _make(url)
            found = _queues[url] = (huey, huey.task(name="kontor.run_job")(_run_job))
        return found


def close_queue(url: str) -> None:
    """Close and forget this process's queue for ``url`` (a test's queue file, when it ends)."""
    with _lock:
        found = _queues.pop(url, None)
    if found is not None:
        found[0].storage.close()


def queue_for(app: Flask) -> Huey:
    """The process's huey for ``app``'s queue (made once per URL, with the one task Kontor runs)."""
    return _queue(app)[0]


def enqueue(app: Flask, job_id: int, delay: float = 0) -> None:
    """Hand ``job_id`` to the queue (to run after ``delay`` seconds); in immediate mode, run it now."""
    huey, run_job = _queue(app)
    token = _enqueuing_app.set(app)
    try:
        if delay > 0 and not huey.immediate:
            run_job.schedule(args=(job_id,), delay=delay)
        else:
            run_job(job_id)
    finally:
        _enqueuing_app.reset(token)


def serve_apps(source: Callable[[], Flask]) -> None:
    """Make ``source()`` the app of every job this process runs (a worker's, rebuilt on module changes)."""
    global _worker_app
    _worker_app = source


def _run_job(job_id: int) -> None:
    app = _enqueuing_app.get() if _worker_app is None else _worker_app()
    if app is None:
        raise RuntimeError("a job ran outside a worker with no app to run in")
    app.extensions["kontor_execute"](app, job_id)  # core.jobs.runner.execute
