"""A huey storage in PostgreSQL, over psycopg 3: the queue of a deployment without Redis.

huey ships SQLite and Redis storages; this one keeps the same tables in PostgreSQL (prefixed
``huey_``) and hands each task to exactly one worker with ``FOR UPDATE SKIP LOCKED``. It needs a
direct connection to PostgreSQL: through PgBouncer in transaction mode a worker's session would
hop between server connections.
"""
from __future__ import annotations

import psycopg
from huey.constants import EmptyData
from huey.storage import BaseSqlStorage

DDL = (
    "CREATE TABLE IF NOT EXISTS huey_kv (queue TEXT NOT NULL, key TEXT NOT NULL, value BYTEA NOT NULL, "
    "PRIMARY KEY (queue, key))",
    "CREATE TABLE IF NOT EXISTS huey_schedule (id BIGSERIAL PRIMARY KEY, queue TEXT NOT NULL, "
    "data BYTEA NOT NULL, timestamp DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS huey_schedule_queue_timestamp ON huey_schedule (queue, timestamp)",
    "CREATE TABLE IF NOT EXISTS huey_task (id BIGSERIAL PRIMARY KEY, queue TEXT NOT NULL, "
    "data BYTEA NOT NULL, priority DOUBLE PRECISION NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS huey_task_queue_priority_id ON huey_task (queue, priority DESC, id)",
    "CREATE TABLE IF NOT EXISTS huey_counter (queue TEXT NOT NULL, key TEXT NOT NULL, "
    "value BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (queue, key))",
)


class PostgresStorage(BaseSqlStorage):
    """huey's storage interface on PostgreSQL tables (one connection per storage, serialised by a lock)."""

    begin_sql = "BEGIN"

    def __init__(self, name="huey", dsn: str = "", **kwargs):
        self.dsn = dsn
        super().__init__(name, **kwargs)

    ddl = DDL

    def _create_connection(self):
        # autocommit, so that ``BEGIN`` in BaseSqlStorage.db() opens the one transaction
        return psycopg.connect(self.dsn, autocommit=True, prepare_threshold=None)

    def initialize_schema(self):
        with self.db(commit=True, close=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(7252150)")  # two workers starting at once
            for sql in self.ddl:
                curs.execute(sql)

    def _rows(self, query, params=()):
        return self.sql(query, params, results=True)

    def enqueue(self, data, priority=None):
        self.sql("INSERT INTO huey_task (queue, data, priority) VALUES (%s, %s, %s)",
                 (self.name, bytes(data), priority or 0), commit=True)

    def dequeue(self):
        with self.db(commit=True) as curs:
            curs.execute("DELETE FROM huey_task WHERE id = (SELECT id FROM huey_task WHERE queue = %s "
                         "ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING data", (self.name,))
            row = curs.fetchone()
            return bytes(row[0]) if row else None

    def queue_size(self):
        return self._rows("SELECT count(*) FROM huey_task WHERE queue = %s", (self.name,))[0][0]

    def enqueued_items(self, limit=None):
        rows = self._rows("SELECT data FROM huey_task WHERE queue = %s ORDER BY priority DESC, id LIMIT %s",
                          (self.name, limit))
        return [bytes(r[0]) for r in rows]

    def flush_queue(self):
        self.sql("DELETE FROM huey_task WHERE queue = %s", (self.name,), commit=True)

    def add_to_schedule(self, data, ts):
        self.sql("INSERT INTO huey_schedule (queue, data, timestamp) VALUES (%s, %s, %s)",
                 (self.name, bytes(data), ts.timestamp()), commit=True)

    def read_schedule(self, ts):
        with self.db(commit=True) as curs:
            curs.execute("DELETE FROM huey_schedule WHERE id IN (SELECT id FROM huey_schedule WHERE queue = %s "
                         "AND timestamp <= %s FOR UPDATE SKIP LOCKED) RETURNING timestamp, id, data",
                         (self.name, ts.timestamp()))
            return [bytes(data) for _ts, _id, data in sorted(curs.fetchall())]

    def schedule_size(self):
        return self._rows("SELECT count(*) FROM huey_schedule WHERE queue = %s", (self.name,))[0][0]

    def scheduled_items(self, limit=None):
        rows = self._rows("SELECT data FROM huey_schedule WHERE queue = %s ORDER BY timestamp LIMIT %s",
                          (self.name, limit))
        return [bytes(r[0]) for r in rows]

    def flush_schedule(self):
        self.sql("DELETE FROM huey_schedule WHERE queue = %s", (self.name,), commit=True)

    def put_data(self, key, value, is_result=False):
        self.sql("INSERT INTO huey_kv (queue, key, value) VALUES (%s, %s, %s) "
                 "ON CONFLICT (queue, key) DO UPDATE SET value = EXCLUDED.value",
                 (self.name, key, bytes(value)), commit=True)

    def peek_data(self, key):
        rows = self._rows("SELECT value FROM huey_kv WHERE queue = %s AND key = %s", (self.name, key))
        return bytes(rows[0][0]) if rows else EmptyData

    def peek_many(self, keys):
        rows = self._rows("SELECT key, value FROM huey_kv WHERE queue = %s AND key = ANY(%s)",
                          (self.name, list(keys)))
        return {k: bytes(v) for k, v in rows}

    def pop_data(self, key):
        with self.db(commit=True) as curs:
            curs.execute("DELETE FROM huey_kv WHERE queue = %s AND key = %s RETURNING value", (self.name, key))
            row = curs.fetchone()
            return bytes(row[0]) if row else EmptyData

    def has_data_for_key(self, key):
        return bool(self._rows("SELECT 1 FROM huey_kv WHERE queue = %s AND key = %s", (self.name, key)))

    def put_if_empty(self, key, value, ttl=None):
        if ttl is not None:
            raise NotImplementedError("ttl is not supported by this storage.")
        with self.db(commit=True) as curs:
            curs.execute("INSERT INTO huey_kv (queue, key, value) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                         (self.name, key, bytes(value)))
            return curs.rowcount == 1

    def incr(self, key, amount=1):
        with self.db(commit=True) as curs:
            curs.execute("INSERT INTO huey_counter (queue, key, value) VALUES (%s, %s, %s) "
                         "ON CONFLICT (queue, key) DO UPDATE SET value = huey_counter.value + EXCLUDED.value "
                         "RETURNING value", (self.name, key, amount))
            return curs.fetchone()[0]

    def delete_counter(self, key):
        self.sql("DELETE FROM huey_counter WHERE queue = %s AND key = %s", (self.name, key), commit=True)

    def result_store_size(self):
        return self._rows("SELECT count(*) FROM huey_kv WHERE queue = %s", (self.name,))[0][0]

    def result_items(self):
        return {k: bytes(v) for k, v in self._rows("SELECT key, value FROM huey_kv WHERE queue = %s", (self.name,))}

    def flush_results(self):
        self.sql("DELETE FROM huey_kv WHERE queue = %s", (self.name,), commit=True)

    def flush_counters(self):
        self.sql("DELETE FROM huey_counter WHERE queue = %s", (self.name,), commit=True)
