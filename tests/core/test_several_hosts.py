"""Kontor on several hosts against one PostgreSQL, as docs/deploy.md describes it, all on 127.0.0.1.

One PostgreSQL server; PgBouncer in transaction mode in front of it; two ``kontor serve`` hosts
("A" and "B", each its own instance folder, the same secret key, the database through PgBouncer
with prepared statements off, the same storage and queue); two ``kontor worker --scheduler``
processes connected to PostgreSQL directly. Every process is started by the test's fixture and
stopped by its PID at the end, also when the test fails. The steps share one cluster, so they are
one test (a cluster costs a minute to start on two cores).
"""
from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from core.testing import pg
from tests.core import live_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PATHS = [ROOT / "tests" / "example_plugin", ROOT / "tests" / "fixture_plugins"]
PGBOUNCER = "/usr/sbin/pgbouncer"
SECRET = "several-hosts-shared-secret"
DATABASE = "kontor_hosts"
BURST = 200
READY_SECONDS = 120  # an upper bound: two cores shared with other test runs can be slow to import
STOP_SECONDS = 15
JOB_SECONDS = 90
#: Jobs' timing, small for the test: a heartbeat twice a second, a job taken for dead after 3 s,
#: the schedulers ticking every second (slowjob's schedule fires every two).
JOB_SETTINGS = {"KONTOR_JOB_HEARTBEAT_SECONDS": "0.5", "KONTOR_JOB_STALE_SECONDS": "3", "KONTOR_SCHEDULER_TICK": "1"}


# -- processes ------------------------------------------------------------------------------------


@dataclass
class Started:
    """A process this module started, its log and how to stop it."""

    name: str
    process: subprocess.Popen
    log: Path

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""

    def stop(self) -> None:
        """Terminate by PID, wait, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)


def _stop_all(processes) -> None:
    """Terminate every process (by PID) at once, wait for each, kill those that linger."""
    running = [p.process for p in processes if p.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


def _wait_for(what: str, check, deadline_seconds: float, pace: float = 0.1, process: Started | None = None):
    """Poll ``check()`` until it returns something truthy, up to a deadline; return that."""
    deadline = time.monotonic() + deadline_seconds
    tries = 0
    while time.monotonic() < deadline and tries < deadline_seconds / pace * 2:
        tries += 1
        if process is not None and process.process.poll() is not None:
            raise AssertionError(f"{process.name} exited with {process.process.returncode}:\n{process.output()}")
        found = check()
        if found:
            return found
        time.sleep(pace)  # pacing of the poll, not synchronisation
    raise AssertionError(f"{what} did not happen within {deadline_seconds} s"
                         + (f":\n{process.output()}" if process else ""))


# -- HTTP with cookies, without following redirects ---------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        for k, v in self.headers:
            if k.lower() == "set-cookie":
                jar.load(v)
        return {name: morsel.value for name, morsel in jar.items()}


def call(base_url: str, method: str, path: str, *, token: str | None = None, cookies: dict | None = None,
         form: dict | None = None, json_body: str | None = None, raw_body: bytes | None = None,
         headers: dict | None = None, binary: bool = False) -> Answer:
    """One request to ``base_url``; redirects are answers too (``binary``: keep the body's bytes)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=live_server.REQUEST_SECONDS)
    sent = {"Accept": "application/json" if token else "text/html", **(headers or {})}
    body = None
    if token:
        sent["Authorization"] = f"Bearer {token}"
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    if json_body is not None:
        body = json_body
        sent["Content-Type"] = "application/json"
    if raw_body is not None:
        body = raw_body
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        content = response.read()
        return Answer(response.status, content.decode(errors="replace"), response.getheaders(),
                      content if binary else b"")
    finally:
        conn.close()


# -- the cluster ----------------------------------------------------------------------------------


@dataclass
class Cluster:
    """What the module started, and what the tests need to talk to it."""

    folder: Path
    postgres: pg.PostgresServer
    direct_url: str
    bouncer_url: str
    hosts: dict[str, live_server.Server] = field(default_factory=dict)
    workers: list[Started] = field(default_factory=list)
    others: list[Started] = field(default_factory=list)
    token: str = ""
    password: str = ""
    log_offset: int = 0

    @property
    def postgres_log(self) -> Path | None:
        return Path(self.postgres.folder) / "log" if self.postgres.folder else None

    def postgres_errors(self) -> list[str]:
        """ERROR (and worse) lines PostgreSQL logged since the cluster started (none readable on an
        external server)."""
        log = self.postgres_log
        if log is None:
            return []
        with log.open("rb") as f:
            f.seek(self.log_offset)
            lines = f.read().decode(errors="replace").splitlines()
        return [line for line in lines if re.search(r"\b(ERROR|FATAL|PANIC):", line)]

    def env(self, database_url: str, instance: Path, **extra: str) -> dict[str, str]:
        env = live_server.environment(
            database_url, instance, KONTOR_PLUGINS="kontor_hello.plugin,slowjob.plugin",
            KONTOR_STORAGE_URL=(self.folder / "files").as_uri(), KONTOR_QUEUE_URL=_plain(self.direct_url),
            PYTHONPATH=os.pathsep.join(str(p) for p in PLUGIN_PATHS), **extra)
        env["KONTOR_SECRET_KEY"] = SECRET  # the same on every host
        return env

    def host_env(self, name: str) -> dict[str, str]:
        return self.env(self.bouncer_url, self.folder / f"host-{name}", KONTOR_DB_PREPARED_STATEMENTS="0")

    def worker_env(self, name: str) -> dict[str, str]:
        return self.env(self.direct_url, self.folder / f"worker-{name}", **JOB_SETTINGS)

    def database(self):
        """An engine on the database, direct (for the tests' own reads)."""
        return create_engine(self.direct_url, poolclass=NullPool)


def _plain(url: str) -> str:
    """``postgresql://…`` for a ``postgresql+psycopg://…`` URL (the queue's spelling)."""
    return "postgresql://" + url.split("://", 1)[1]


def _as_postgres_user() -> dict:
    """Popen arguments that run a server as the ``postgres`` user when we are root (PgBouncer refuses root)."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _start_pgbouncer(folder: Path, server: pg.PostgresServer) -> tuple[Started, int]:
    """PgBouncer in transaction mode on a free loopback port, in front of ``server``'s DATABASE."""
    url = make_url(server.url(DATABASE))
    host = url.query.get("host") or url.host or "127.0.0.1"
    port = url.query.get("port") or url.port or 5432
    target = f"host={host} port={port} dbname={DATABASE} user={url.username or 'postgres'}"
    if url.password:
        target += f" password={url.password}"
    listen = live_server.free_port()
    config = folder / "pgbouncer.ini"
    config.write_text("\n".join([
        "[databases]",
        f"{DATABASE} = {target}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {listen}",
        "unix_socket_dir =",
        "auth_type = any",  # loopback only, a throwaway server: no passwords
        "pool_mode = transaction",
        "default_pool_size = 4",  # fewer server connections than clients: they are shared
        "max_client_conn = 200",
        "ignore_startup_parameters = extra_float_digits,options",
        f"logfile = {folder / 'pgbouncer.log'}",
        "",
    ]))
    log = folder / "pgbouncer.out"
    with log.open("wb") as out:
        process = subprocess.Popen([PGBOUNCER, str(config)], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, **_as_postgres_user())
    started = Started("pgbouncer", process, log)

    def answers():
        probe = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{listen}/{DATABASE}",
                              connect_args={"prepare_threshold": None, "connect_timeout": 2})
        try:
            with probe.connect() as conn:
                return conn.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            return False
        finally:
            probe.dispose()

    try:
        _wait_for("PgBouncer answering", answers, READY_SECONDS, process=started)
    except BaseException:
        started.stop()
        raise
    return started, listen


def _kontor(env: dict[str, str], cwd: Path, *args: str) -> str:
    return live_server.kontor(env, *args, cwd=cwd)


def _start_worker(cluster: Cluster, name: str) -> Started:
    """``kontor worker --scheduler``, connected to PostgreSQL directly; returns once it listens."""
    log = cluster.folder / f"worker-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([live_server.KONTOR, "worker", "--threads", "2", "--scheduler"],
                                   env=cluster.worker_env(name), cwd=cluster.folder, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started = Started(f"worker {name}", process, log)
    try:
        _wait_for(f"worker {name} starting", lambda: "with the scheduler" in started.output(), READY_SECONDS,
                  process=started)
    except BaseException:
        started.stop()
        raise
    return started


@pytest.fixture
def cluster():
    """The whole topology, started for the test and stopped after it (also when it fails)."""
    assert Path(PGBOUNCER).exists(), "PgBouncer is not installed: scripts/test.sh installs it"
    folder = Path(tempfile.mkdtemp(prefix="khosts"))
    os.chmod(folder, 0o777)  # PgBouncer runs as postgres and writes its log here
    postgres = pg.start()
    made: Cluster | None = None
    try:
        admin = create_engine(postgres.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        log = Path(postgres.folder) / "log" if postgres.folder else None
        bouncer, port = _start_pgbouncer(folder, postgres)
        made = Cluster(folder=folder, postgres=postgres, direct_url=postgres.url(DATABASE),
                       bouncer_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}",
                       others=[bouncer], log_offset=log.stat().st_size if log else 0)

        # kontor init on one host (through PgBouncer, as operators run it), then an administrator
        env_a = made.host_env("A")
        _kontor(env_a, folder, "init")
        created = _kontor(env_a, folder, "users", "create", "operator", "--admin")
        made.password = re.search(r"Password: (\S+)", created).group(1)
        made.token = _kontor(env_a, folder, "users", "token", "operator").strip()
        _kontor(env_a, folder, "modules", "install", "slowjob")

        # the four processes start side by side (each waits for its own readiness)
        with ThreadPoolExecutor(max_workers=4) as pool:
            hosts = {name: pool.submit(live_server.start, made.host_env(name), folder, "serve",
                                       "--bind", "127.0.0.1:{port}", "--workers", "2") for name in ("A", "B")}
            workers = [pool.submit(_start_worker, made, name) for name in ("1", "2")]
            for name, future in hosts.items():
                if future.exception() is None:
                    made.hosts[name] = future.result()
            made.workers.extend(future.result() for future in workers if future.exception() is None)
            for future in [*hosts.values(), *workers]:
                future.result()  # raises the first failure, once everything started is on record to stop
        yield made
    finally:
        if made is not None:
            _stop_all([*made.hosts.values(), *made.workers])
            _stop_all(made.others)
        postgres.stop()
        if postgres.folder is None:  # an external server: leave it as we found it
            admin = create_engine(postgres.url("postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _outputs(cluster: Cluster) -> str:
    return "\n".join(f"--- {name}:\n{server.output()}" for name, server in cluster.hosts.items())


# -- the tests ------------------------------------------------------------------------------------


def _a_module_installed_through_a_is_served_by_b_without_restart(cluster: Cluster) -> None:
    a, b = cluster.hosts["A"], cluster.hosts["B"]
    assert call(b.base_url, "GET", "/api/v1/hello/ping", token=cluster.token).status == 404

    installed = call(a.base_url, "POST", "/api/v1/modules", token=cluster.token,
                     json_body='{"name": "hello", "action": "install"}')
    assert installed.status == 200, installed.body

    # each request reads the modules revision: B's very next requests (on both its workers) see it
    answers = [call(b.base_url, "GET", "/api/v1/hello/ping", token=cluster.token) for _ in range(8)]
    assert [answer.status for answer in answers] == [200] * 8, _outputs(cluster)


def _csrf(page: Answer) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.body).group(1)


def _sign_in(cluster: Cluster, base_url: str) -> dict[str, str]:
    """Sign in as the operator on one host, as a browser does; the session cookie."""
    page = call(base_url, "GET", "/login")
    assert page.status == 200
    signed_in = call(base_url, "POST", "/login", cookies=page.cookies(),
                     form={"csrf_token": _csrf(page), "username": "operator", "password": cluster.password})
    assert signed_in.status == 302, signed_in.body
    session = signed_in.cookies()
    assert "kontor_session" in session
    return session


def _one_login_works_on_both_hosts(cluster: Cluster) -> None:
    a, b = cluster.hosts["A"], cluster.hosts["B"]
    session = _sign_in(cluster, a.base_url)

    # B has never seen this browser: it must accept A's session cookie as it is
    assert call(b.base_url, "GET", "/profile").status == 302  # without it: to the login page
    profile = call(b.base_url, "GET", "/profile", cookies=session)
    assert profile.status == 200, profile.body[:2000]
    assert "operator" in profile.body


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[str, bytes]:
    """A multipart/form-data body with ``fields`` and one file field ``file``; (content type, body)."""
    boundary = "kontor-several-hosts-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def _a_file_attached_through_a_downloads_from_b(cluster: Cluster) -> None:
    a, b = cluster.hosts["A"], cluster.hosts["B"]
    created = call(a.base_url, "POST", "/api/v1/parties", token=cluster.token, json_body='{"name": "Contract party"}')
    assert created.status == 201, created.body
    party_id = int(re.search(r'"id": (\d+)', created.body).group(1))

    session = _sign_in(cluster, a.base_url)
    panel = call(a.base_url, "GET", f"/attachments/core.party/{party_id}", cookies=session)
    assert panel.status == 200, panel.body[:2000]
    session.update(panel.cookies())  # the page's CSRF token lives in the session it renewed
    contract = b"%PDF-1.4\n" + os.urandom(2048) + b"\n%%EOF\n"  # random bytes: no other file matches
    content_type, body = _multipart({"csrf_token": _csrf(panel)}, "contract.pdf", contract)
    uploaded = call(a.base_url, "POST", f"/attachments/core.party/{party_id}", cookies=session, raw_body=body,
                    headers={"Content-Type": content_type})
    assert uploaded.status == 303, uploaded.body[:2000]  # back to the panel: see other

    listed = call(b.base_url, "GET", f"/api/v1/attachments?record=core.party:{party_id}", token=cluster.token)
    assert listed.status == 200, listed.body
    ids = [int(found) for found in re.findall(r'"id": (\d+)', listed.body)]
    assert len(ids) == 1, listed.body
    downloaded = call(b.base_url, "GET", f"/attachments/{ids[0]}/download", cookies=session, binary=True)
    assert downloaded.status == 200, downloaded.body[:500]
    assert downloaded.content == contract
    assert call(b.base_url, "GET", f"/api/v1/attachments/{ids[0]}/content", token=cluster.token,
                binary=True).content == contract


def _a_burst_over_both_hosts_leaves_no_error_in_postgresql(cluster: Cluster) -> None:
    hosts = list(cluster.hosts.values())

    def one(n: int) -> int:
        base = hosts[n % 2].base_url
        if n % 10 == 9:  # some writes, each its own transaction through PgBouncer
            return call(base, "POST", "/api/v1/parties", token=cluster.token,
                        json_body=f'{{"name": "Burst customer {n}"}}').status
        path = ("/api/v1/parties?limit=5", "/api/v1/modules", "/health")[n % 3]
        return call(base, "GET", path, token=cluster.token).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(BURST)))
    assert len(statuses) == BURST
    assert set(statuses) <= {200, 201}, f"{sorted(set(statuses))}\n{_outputs(cluster)}"
    assert cluster.postgres_errors() == []
    for name, server in cluster.hosts.items():
        log = server.log.read_text(errors="replace")
        assert "prepared statement" not in log, f"host {name}:\n{server.output()}"
        assert "Could not read the modules revision" not in log, f"host {name}:\n{server.output()}"


def _jobs(engine, kind: str) -> list[dict]:
    """The ``core_job`` rows of ``kind``, oldest first."""
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(
            "SELECT id, status, attempts, worker, idempotency_key, result FROM core_job "
            "WHERE kind = :kind ORDER BY id"), {"kind": kind}).mappings()]


def _two_schedulers_start_one_run_per_tick(cluster: Cluster) -> None:
    engine = cluster.database()
    try:
        done = _wait_for("four scheduled runs done",
                         lambda: len([j for j in _jobs(engine, "slowjob.tick") if j["status"] == "done"]) >= 4,
                         JOB_SECONDS, pace=0.25)
        assert done
        jobs = [j for j in _jobs(engine, "slowjob.tick") if j["status"] == "done"]
        with engine.connect() as conn:
            runs = dict(conn.execute(text("SELECT job_id, count(*) FROM slowjob_tick GROUP BY job_id")).all())
    finally:
        engine.dispose()
    ticks = [job["idempotency_key"].rsplit(":", 1)[1] for job in jobs]
    assert all(job["idempotency_key"].startswith("schedule:slowjob.every_two_seconds:group:") for job in jobs)
    assert len(set(ticks)) == len(ticks)  # one job per tick of the schedule
    assert {job["id"]: runs.get(job["id"], 0) for job in jobs} == {job["id"]: 1 for job in jobs}  # each ran once
    assert all(job["attempts"] == 1 for job in jobs)
    for worker in cluster.workers:  # both schedulers were started (one leads, the other stands by)
        assert worker.process.poll() is None, worker.output()
        assert "with the scheduler" in worker.output()


def _a_job_survives_kill_9_of_its_worker_and_finishes_once(cluster: Cluster) -> None:
    steps = 24
    started = call(cluster.hosts["A"].base_url, "POST", "/api/v1/slowjob/runs", token=cluster.token,
                   json_body=f'{{"run": "kill-9", "steps": {steps}, "pause": 0.25}}')
    assert started.status == 201, started.body
    job_id = int(re.search(r'"id": (\d+)', started.body).group(1))
    engine = cluster.database()
    by_pid = {worker.process.pid: worker for worker in cluster.workers}
    try:
        def running_a_while():
            with engine.connect() as conn:
                row = conn.execute(text("SELECT status, done, worker FROM core_job WHERE id = :id"),
                                   {"id": job_id}).one()
            return row if row.status == "running" and row.done >= 3 else None

        row = _wait_for("the job running its fourth step", running_a_while, JOB_SECONDS)
        pid = int(row.worker.split(":")[1])
        assert pid in by_pid, f"job {job_id} runs on {row.worker}, not on one of this test's workers"
        victim = by_pid[pid]
        victim.process.kill()  # SIGKILL: no chance to finish or to tell anyone
        victim.process.wait(timeout=STOP_SECONDS)
        survivor = next(worker for worker in cluster.workers if worker is not victim)

        def finished():
            with engine.connect() as conn:
                found = conn.execute(text("SELECT status, attempts, worker, result FROM core_job WHERE id = :id"),
                                     {"id": job_id}).one()
            return found if found.status in ("done", "failed", "cancelled") else None

        final = _wait_for("the job finishing on the other worker", finished, JOB_SECONDS, pace=0.25)
        with engine.connect() as conn:
            step_rows = conn.execute(text("SELECT step, count(*) FROM slowjob_step WHERE run = 'kill-9' "
                                          "GROUP BY step ORDER BY step")).all()
    finally:
        engine.dispose()
    assert final.status == "done", f"{final}\n{survivor.output()}"
    assert final.attempts == 2
    assert int(final.worker.split(":")[1]) == survivor.process.pid
    assert [tuple(r) for r in step_rows] == [(step, 1) for step in range(steps)]  # every step once
    assert final.result["steps"] == steps and final.result["skipped"] >= 3  # the second run went on from there


def test_kontor_on_several_hosts_against_one_postgresql(cluster):
    """One test on one cluster (the steps run in this order; a cluster per step would cost minutes)."""
    _a_module_installed_through_a_is_served_by_b_without_restart(cluster)
    _one_login_works_on_both_hosts(cluster)
    _a_file_attached_through_a_downloads_from_b(cluster)
    _a_burst_over_both_hosts_leaves_no_error_in_postgresql(cluster)
    _two_schedulers_start_one_run_per_tick(cluster)
    _a_job_survives_kill_9_of_its_worker_and_finishes_once(cluster)
    assert cluster.postgres_errors() == []  # not even from the killed worker's connections
