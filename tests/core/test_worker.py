"""`kontor worker` as operators run it: a real worker process takes jobs from the queue on SQLite
(the instance's queue file), PostgreSQL and Redis, and SIGTERM lets a running job finish."""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.core import live_server
from tests.core.live_server import empty_database  # noqa: F401 (a fixture)

FIXTURE_PLUGINS = Path(__file__).resolve().parents[1] / "fixture_plugins"
DEADLINE = 60

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url(tmp_path):
    """A Redis server of the test's own on 127.0.0.1."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs it)")
    port = live_server.free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)  # pacing of the readiness poll
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


class Site:
    """An initialised database with ``everyhook`` installed, and the app of this test process."""

    def __init__(self, database_url: str, tmp_path: Path, queue_url: str):
        self.env = live_server.environment(database_url, tmp_path / "instance", KONTOR_QUEUE_URL=queue_url,
                                           KONTOR_PLUGINS="everyhook.plugin", PYTHONPATH=str(FIXTURE_PLUGINS),
                                           KONTOR_JOB_HEARTBEAT_SECONDS="0.5")
        self.tmp_path = tmp_path
        live_server.prepare(self.env, tmp_path)
        live_server.kontor(self.env, "modules", "install", "everyhook", cwd=tmp_path)
        from core.app import create_app

        self.app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
                               "QUEUE_URL": queue_url, "EXTRA_PLUGINS": ("everyhook.plugin",),
                               "SECRET_KEY": "live-test-secret"})

    def start_job(self, **arguments) -> int:
        from core import acting_as, start_job
        from core.auth.models import User
        from core.db import session

        with self.app.app_context():
            user = session.execute(select(User).where(User.username == "operator")).scalar_one()
            with acting_as(user):
                job = start_job(session, "everyhook.tally", arguments, title="Tally")
                session.commit()
                return job.id

    def job(self, job_id: int):
        from core import Job
        from core.company.scope import all_companies
        from core.db import session

        with self.app.app_context(), all_companies():
            return session.get(Job, job_id)

    def wait_for(self, job_id: int, *statuses: str, worker=None):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job.status in statuses:
                return job
            if worker is not None and worker.poll() is not None:
                raise AssertionError(f"the worker exited with {worker.returncode}:\n{self.log()}")
            time.sleep(0.05)  # pacing of the poll of the job row
        raise AssertionError(f"job {job_id} is still {job.status}:\n{self.log()}")

    @contextmanager
    def worker(self, *args: str):
        log = self.tmp_path / "worker.log"
        with log.open("ab") as out:
            process = subprocess.Popen([live_server.KONTOR, "worker", *args], env=self.env, cwd=self.tmp_path,
                                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)

    def log(self) -> str:
        path = self.tmp_path / "worker.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture
def queue_url(request, empty_database, tmp_path):  # noqa: F811
    kind = request.param
    if kind == "sqlite-file":
        return ""  # the default: queue.db in the instance folder
    if kind == "postgresql":
        if not empty_database.startswith("postgresql"):
            pytest.skip("the PostgreSQL queue is tried beside a PostgreSQL database")
        return empty_database
    return request.getfixturevalue("redis_url")


@pytest.mark.parametrize("queue_url", ["sqlite-file", "postgresql", "redis"], indirect=True)
def test_a_worker_process_runs_the_jobs_of_the_queue(empty_database, queue_url, tmp_path):  # noqa: F811
    site = Site(empty_database, tmp_path, queue_url)
    first = site.start_job(prefix="queued before the worker", count=2)
    with site.worker("--threads", "2") as worker:
        done = site.wait_for(first, "done", "failed", worker=worker)
        assert done.status == "done", done.error
        assert done.result == {"made": 2, "user": "operator"} and done.attempts == 1
        second = site.start_job(prefix="queued while it runs", count=1)
        assert site.wait_for(second, "done", "failed", worker=worker).status == "done"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sigterm_lets_the_running_job_finish(empty_database, tmp_path):  # noqa: F811
    site = Site(empty_database, tmp_path, "")
    job_id = site.start_job(prefix="slow", count=40, pause=0.25)
    with site.worker("--threads", "1") as worker:
        site.wait_for(job_id, "running", worker=worker)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=DEADLINE) == 0, site.log()
    job = site.job(job_id)
    assert (job.status, job.done, job.attempts) == ("done", 40, 1), site.log()
