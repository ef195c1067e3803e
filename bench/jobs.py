"""Background jobs: queue throughput, recovery after ``kill -9`` of a busy worker, and a 10,000-recipient campaign.

    .venv/bin/python bench/jobs.py              # SQLite (queue file) and Redis, beside a SQLite database
    .venv/bin/python bench/jobs.py --postgres   # also PostgreSQL (database and queue) and Redis beside it
    .venv/bin/python bench/jobs.py --jobs 300 --runs 1 --recipients 2000   # a quick run

Per backend one database is made (bench/run.py's ``Databases``: ``kontor init``, then the CRM and
the bench-only module ``benchjobs`` (bench/benchjobs/plugin.py: a no-op job kind and a job that
sleeps in 0.2 s steps) installed in process, the user ``benchadmin`` with the admin role, and
``--recipients`` parties with e-mail addresses through ``bulk_create_parties``, bench/datagen.py's
rows with their addresses spelt in ASCII, see ``ascii_addresses``). Workers are real ``kontor worker`` processes (``KONTOR_PLUGINS=benchjobs.plugin``, bench/
on ``PYTHONPATH``); jobs are started in this process through ``core.start_job`` on an app built
with the same database and queue.

1. **Throughput** of ``--jobs`` no-op jobs on each queue: the SQLite queue file in the instance
   (database SQLite), PostgreSQL (``KONTOR_QUEUE_URL`` = the database's own ``postgresql://`` URL,
   a direct connection) and Redis (a ``redis-server`` this script starts on a free 127.0.0.1 port,
   no persistence; database PostgreSQL with ``--postgres``, else SQLite). Per run:

   - *enqueue*: with no worker running, ``start_job`` is called ``--jobs`` times as ``benchadmin``,
     committed every ``--batch`` jobs (default 100); each commit writes the ``core_job`` rows and
     then hands each id to the queue (the after-commit listener). Jobs/s = jobs ÷ the time from
     the first call to the last commit's return.
   - *drain*: then the workers go on: Jobs/s = jobs ÷ (last ``finished_at`` − first ``started_at``
     of the run's ``core_job`` rows), i.e. from the first job picked to the last job done; the wall
     time from resuming the workers to the last job done (which adds the idle consumers' next poll
     of the queue, at most 1 s) is kept beside it. Every job must be done.
   The workers (``--workers`` processes ``kontor worker --threads 1``) are started once per queue
   and warmed up with a few jobs; in each run they are paused (SIGSTOP) while the jobs are
   written and resumed (SIGCONT) to drain them, so their start-up is left out and enqueue and
   drain do not overlap. They are stopped with SIGTERM at the end; the rows of earlier runs stay.

2. **Recovery after ``kill -9``** on SQLite (queue file) and PostgreSQL (queue in PostgreSQL), with
   ``KONTOR_JOB_STALE_SECONDS=5``, ``KONTOR_SCHEDULER_TICK=1`` and ``KONTOR_JOB_HEARTBEAT_SECONDS=1``:
   two ``kontor worker --threads 1 --scheduler`` processes (on PostgreSQL one of them leads through
   the advisory lock), one ``benchjobs.sleep`` job of 120 s; once it runs, the worker its row names
   is killed with SIGKILL and the time from the kill to the job's second ``started_at``
   (``attempts == 2``, on the other worker) is measured, split at the reaper's ``enqueued_at``
   (kill → handed to the queue again → picked). The job then is cancelled and the survivor stopped.
   The recovery is bounded by stale + tick (+ up to 1 s for the idle consumer's next poll of the
   queue, huey's ``max_delay``), less the age of the last heartbeat at the kill.

3. **A campaign of ``--recipients`` recipients** to a local SMTP server (aiosmtpd's ``Sink`` handler
   in its own process on 127.0.0.1: accepts and discards), per backend on its default queue, one
   ``kontor worker --threads 1``. The mail settings are the core's (``core.save_mail_settings``:
   127.0.0.1, no TLS, the default batch of 50 messages per connection and commit); a segment of
   every party and a draft campaign are made through the CRM's services. Through the in-process
   dispatcher and Werkzeug's test client, signed in as ``benchadmin``:

   - *Send*: the POST of the campaign page's Send button (``/crm/campaigns/<id>/send``: fixes the
     10,000 recipients, writes the job, enqueues it after the commit); its own duration is kept;
   - *send → progress*: from the start of that POST to the first answer of the page's progress
     fragment (``/crm/campaigns/<id>/progress``, polled every 0.1 s) whose ``<progress value>``
     is above 0, i.e. the first batch's commit as the page sees it;
   - *messages/s*: recipients sent ÷ (the job's ``finished_at`` − ``started_at``); and, end to end,
     recipients ÷ the time from the start of the POST to the fragment showing the campaign sent
     (polled every 0.5 s after the first progress).

Medians of ``--runs`` runs (``--campaign-runs`` for the campaign, each run a new campaign to the
same segment). Results: a printed table and ``bench/results/jobs-<UTC time>.json`` (git-ignored).
Every server listens on 127.0.0.1 and is stopped by its PID; the scratch folder goes at the end.
Exit status 1 when a section failed (the others' figures are still printed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import unicodedata
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
for extra in (ROOT, BENCH):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import datagen  # noqa: E402
from run import RESULTS, SECRET, Databases, Figure, each_backend, free_port, kontor_argv, log  # noqa: E402

PLUGIN = "benchjobs.plugin"
USERNAME = "benchadmin"
PASSWORD = "bench password 1"
DEADLINE = 300
RECOVERY = {"KONTOR_JOB_STALE_SECONDS": "5", "KONTOR_SCHEDULER_TICK": "1", "KONTOR_JOB_HEARTBEAT_SECONDS": "1"}


def _throwaway_postgres_importable() -> None:
    """``each_backend`` starts PostgreSQL through ``tests.pg``, which moved to ``core.testing.pg``."""
    import tests

    try:
        from tests import pg  # noqa: F401
    except ImportError:
        from core.testing import pg

        sys.modules["tests.pg"] = tests.pg = pg


def wait_until(what: str, check, deadline: float = DEADLINE, pause: float = 0.05, alive=()):
    """Poll ``check()`` until it returns something true; fail after ``deadline`` seconds or when a
    process of ``alive`` exits."""
    end = time.monotonic() + deadline
    while True:
        found = check()
        if found:
            return found
        for process in alive:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > end:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(pause)  # pacing of the poll


# --------------------------------------------------------------------------------------------------
# Servers


@contextmanager
def redis_server(workdir: Path):
    """A redis-server of our own on a free loopback port, without persistence: its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        wait_until("redis-server", lambda: _answers(client), deadline=20, alive=[process])
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _answers(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def smtp_sink():
    """aiosmtpd in its own process on a free loopback port, accepting and discarding: its port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                "-c", "aiosmtpd.handlers.Sink"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until("the SMTP server", lambda: _listening(port), deadline=20, alive=[process])
        yield port
    finally:
        _stop(process)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(3) == b"220"
    except OSError:
        return False


def _stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process of ours by its PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# --------------------------------------------------------------------------------------------------
# The site: one database, its queue, this process's app and the workers


def prepare(dbs: Databases, recipients: int) -> tuple[str, Path]:
    """An initialised database with the CRM and benchjobs installed, benchadmin, and the parties."""
    from core.audit.recorder import Actor, acting_as
    from core.auth.services import ADMIN_ROLE, create_user
    from core.parties.services import bulk_create_parties
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    url, instance = dbs.initialised()
    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    install(ModuleContext(engine, factory, discover((PLUGIN,)), instance), ["crm", "benchjobs"])
    with factory() as db:
        create_user(db, USERNAME, password=PASSWORD, roles=[ADMIN_ROLE])
        db.commit()
        t0 = time.perf_counter()
        with acting_as(Actor(None, "bench", "bench: datagen")):
            for start in range(0, recipients, 2_000):
                bulk_create_parties(db, ascii_addresses(datagen.party_rows(min(2_000, recipients - start),
                                                                           start=start)))
            db.commit()
    dispose_engine(url)
    log(f"  CRM and benchjobs installed; {recipients:,} parties in {time.perf_counter() - t0:.1f} s")
    return url, instance


def ascii_addresses(rows: list[dict]) -> list[dict]:
    """datagen's rows with the e-mail addresses spelt in ASCII (jürgen → jurgen): the campaign
    mailer records an address with a non-ASCII local part as failed (formataddr needs ASCII)."""
    for row in rows:
        row["email"] = unicodedata.normalize("NFKD", row["email"]).encode("ascii", "ignore").decode()
    return rows


class Site:
    """A database and a queue: an app of this process over them, and ``kontor worker`` processes."""

    def __init__(self, url: str, instance: Path, queue_url: str, **env: str):
        from core.app import create_app

        self.url, self.instance, self.queue_url = url, instance, queue_url
        self.config = {"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "QUEUE_URL": queue_url,
                       "EXTRA_PLUGINS": (PLUGIN,), "SECRET_KEY": SECRET, "MARKETPLACE": ""}
        self.config.update({key.removeprefix("KONTOR_"): float(value) for key, value in env.items()})
        self.app = create_app(dict(self.config))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_") and k != "PYTHONPATH"}
        self.env.update(KONTOR_DATABASE_URL=url, KONTOR_INSTANCE=str(instance), KONTOR_SECRET_KEY=SECRET,
                        KONTOR_QUEUE_URL=queue_url, KONTOR_PLUGINS=PLUGIN, PYTHONDONTWRITEBYTECODE="1",
                        PYTHONPATH=os.pathsep.join([str(ROOT), str(BENCH)]), **env)
        self.started = 0

    def worker(self, *args: str) -> subprocess.Popen:
        """Start ``kontor worker ARGS`` (its output in the instance folder)."""
        self.started += 1
        with (self.instance / f"worker-{self.started}.log").open("wb") as out:
            return subprocess.Popen(kontor_argv() + ["worker", *args], env=self.env, cwd=self.instance,
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(self.instance.glob("worker-*.log")))

    @contextmanager
    def session(self, as_user: bool = True):
        """The app's session in an app context, acting as benchadmin (or the system)."""
        from sqlalchemy import select

        from core import acting_as
        from core.auth.models import User
        from core.company.scope import all_companies
        from core.db import session

        with self.app.app_context():
            if as_user:
                user = session.execute(select(User).where(User.username == USERNAME)).scalar_one()
                with acting_as(user):
                    yield session
            else:
                with all_companies():
                    yield session

    def job(self, job_id: int):
        from core import Job

        with self.session(as_user=False) as db:
            job = db.get(Job, job_id)
            db.expunge(job)
            return job


# --------------------------------------------------------------------------------------------------
# 1. Throughput


def enqueue(site: Site, count: int, batch: int) -> dict:
    """``count`` no-op jobs started as benchadmin, committed every ``batch``: timings and the ids."""
    from core import start_job

    ids = []
    with site.session() as db:
        writing = committing = 0.0
        t0 = time.perf_counter()
        for n in range(count):
            t = time.perf_counter()
            ids.append(start_job(db, "benchjobs.noop", {}, title=f"No-op {n}").id)
            writing += time.perf_counter() - t
            if (n + 1) % batch == 0 or n + 1 == count:
                t = time.perf_counter()
                db.commit()  # writes the rows, then hands each id to the queue
                committing += time.perf_counter() - t
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "start_job_s": writing, "commit_and_enqueue_s": committing,
            "first": min(ids), "last": max(ids)}


def drain(site: Site, first: int, last: int, processes: list[subprocess.Popen]) -> dict:
    """Let the paused workers go on and wait until every job in [first, last] is done: the timings."""
    from sqlalchemy import func, select

    from core import Job

    count = last - first + 1
    t0 = time.perf_counter()
    for process in processes:
        os.kill(process.pid, signal.SIGCONT)

    def finished():
        with site.session(as_user=False) as db:
            return db.execute(select(func.count()).select_from(Job).where(
                Job.id.between(first, last), Job.status.in_(("done", "failed", "cancelled")))).scalar_one() == count

    wait_until(f"{count} jobs done", finished, pause=0.1, alive=processes)
    wall = time.perf_counter() - t0
    with site.session(as_user=False) as db:
        statuses = dict(db.execute(select(Job.status, func.count()).where(Job.id.between(first, last))
                                   .group_by(Job.status)).all())
        began, ended = db.execute(select(func.min(Job.started_at), func.max(Job.finished_at))
                                  .where(Job.id.between(first, last))).one()
    if statuses != {"done": count}:
        raise RuntimeError(f"jobs not all done: {statuses}\n{site.logs()}")
    return {"seconds": (ended - began).total_seconds(), "wall_s": wall}


def throughput(site: Site, label: str, args, report) -> None:
    processes = [site.worker("--threads", "1") for _ in range(args.workers)]
    try:
        warm = enqueue(site, 4 * args.workers, args.batch)  # the workers up, their apps built and connected
        drain(site, warm["first"], warm["last"], processes)
        enqueued, drained, walls = [], [], []
        for run in range(args.runs):
            for process in processes:  # paused while the jobs are written, so the two rates stay apart
                os.kill(process.pid, signal.SIGSTOP)
            e = enqueue(site, args.jobs, args.batch)
            d = drain(site, e["first"], e["last"], processes)
            enqueued.append(args.jobs / e["seconds"])
            drained.append(args.jobs / d["seconds"])
            walls.append(args.jobs / d["wall_s"])
            log(f"    run {run + 1}: enqueue {enqueued[-1]:.0f} jobs/s (start_job {e['start_job_s']:.2f} s, "
                f"commits + enqueue {e['commit_and_enqueue_s']:.2f} s); drain {drained[-1]:.0f} jobs/s "
                f"({d['seconds']:.2f} s first picked → last done, {d['wall_s']:.2f} s from resuming the workers)")
    finally:
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
            _stop(process)
    report("throughput", "enqueue (start_job + commit every %d)" % args.batch, label, "jobs/s", enqueued)
    report("throughput", "drain (first picked → last done)", label, "jobs/s", drained)
    report("throughput", "drain (workers resumed → last done)", label, "jobs/s", walls)


# --------------------------------------------------------------------------------------------------
# 2. Recovery after kill -9


def recovery_run(site: Site) -> dict:
    from core import start_job
    from core.jobs.services import cancel_job

    processes = [site.worker("--threads", "1", "--scheduler") for _ in range(2)]
    try:
        with site.session() as db:
            job_id = start_job(db, "benchjobs.sleep", {"seconds": 120}, title="Sleep").id
            db.commit()
        first = wait_until("the job running", lambda: _running(site, job_id, 1), alive=processes)
        pid = int(first.worker.split(":")[1])
        victim = next((p for p in processes if p.pid == pid), None)
        if victim is None:
            raise RuntimeError(f"job {job_id} runs in {first.worker}, not one of our workers")
        killed_at = datetime.now(timezone.utc)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=15)
        survivor = [p for p in processes if p is not victim]
        second = wait_until("the job running again", lambda: _running(site, job_id, 2), pause=0.02, alive=survivor)
        with site.session(as_user=False) as db:
            from core import Job

            cancel_job(db, db.get(Job, job_id))
            db.commit()
        wait_until("the job cancelled", lambda: site.job(job_id).status == "cancelled", alive=survivor)
        return {"seconds": (second.started_at - killed_at).total_seconds(),
                "to_requeue_s": (second.enqueued_at - killed_at).total_seconds(),
                "requeue_to_start_s": (second.started_at - second.enqueued_at).total_seconds(),
                "heartbeat_age_at_kill_s": (killed_at - first.heartbeat_at).total_seconds()}
    finally:
        for process in processes:
            if process.poll() is None:
                _stop(process)


def _running(site: Site, job_id: int, attempt: int):
    job = site.job(job_id)
    return job if job.status == "running" and job.attempts == attempt and job.worker else None


def recovery(site: Site, label: str, args, report) -> None:
    runs = []
    for run in range(args.runs):
        runs.append(recovery_run(site))
        log(f"    run {run + 1}: running again {runs[-1]['seconds']:.2f} s after the kill (handed to the queue "
            f"after {runs[-1]['to_requeue_s']:.2f} s, picked {runs[-1]['requeue_to_start_s']:.2f} s later)")
    bound = float(RECOVERY["KONTOR_JOB_STALE_SECONDS"]) + float(RECOVERY["KONTOR_SCHEDULER_TICK"])
    report("recovery", "kill -9 → job running again", label, "s", [r["seconds"] for r in runs],
           note=f"stale 5 s, tick 1 s, heartbeat 1 s: bound stale + tick = {bound:g} s (+ ≤1 s queue poll)",
           runs=runs)
    report("recovery", "kill -9 → handed to the queue (reaper)", label, "s", [r["to_requeue_s"] for r in runs])


# --------------------------------------------------------------------------------------------------
# 3. A campaign


def configure(site: Site, smtp_port: int) -> int:
    """The core mail settings pointed at the sink, and a segment of every party: its id."""
    from core import mail_config, save_mail_settings
    from plugins.crm.campaigns import services

    with site.session() as db:
        save_mail_settings(db, {"core.mail.smtp_host": "127.0.0.1", "core.mail.smtp_port": str(smtp_port),
                                "core.mail.smtp_security": "none", "core.mail.sender_name": "Bench",
                                "core.mail.sender_address": "news@bench.example",
                                "core.mail.site_url": "http://kontor.bench.example"})
        db.commit()
        assert mail_config(db).configured
        segment = services.create_segment(db, {"name": "Everyone", "include_parties": True, "include_leads": False})
        db.commit()
        return segment.id


def new_campaign(site: Site, segment_id: int, n: int) -> int:
    from plugins.crm.campaigns import services

    with site.session() as db:
        campaign = services.create_campaign(db, {
            "name": f"Bench campaign {n}", "segment_id": segment_id, "subject": "News for {{company}}",
            "body": "Hello {{name}},\n\nour winter prices are out.\n\nUnsubscribe: {{unsubscribe_url}}\n"})
        db.commit()
        return campaign.id


def signed_in_client(site: Site):
    from werkzeug.test import Client

    from core.wsgi import Dispatcher

    dispatcher = Dispatcher(dict(site.config))
    client = Client(dispatcher)
    page = client.get("/login").get_data(as_text=True)
    token = _csrf(page)
    response = client.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}")
    return client, dispatcher


def _csrf(page: str) -> str:
    return re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', page).group(1)


PROGRESS = re.compile(r'<progress id="campaign-progress-bar" value="(\d+)" max="(\d+)"')


def campaign_run(site: Site, client, campaign_id: int, worker: subprocess.Popen) -> dict:
    from sqlalchemy import select

    from core import Job
    from plugins.crm.campaigns.models import CampaignRecipient

    page = client.get(f"/crm/campaigns/{campaign_id}")
    if page.status_code != 200:
        raise RuntimeError(f"campaign page: HTTP {page.status_code}")
    token = _csrf(page.get_data(as_text=True))
    fragment = f"/crm/campaigns/{campaign_id}/progress?following=1"
    t0 = time.perf_counter()
    sent = client.post(f"/crm/campaigns/{campaign_id}/send", data={"csrf_token": token})
    post_s = time.perf_counter() - t0
    if sent.status_code != 303:
        raise RuntimeError(f"Send: HTTP {sent.status_code}")

    def shown(pause_done: bool):
        def check():
            body = client.get(fragment).get_data(as_text=True)
            if pause_done:
                return "The campaign is sent." in body
            found = PROGRESS.search(body)
            return found and int(found.group(1)) > 0
        return check

    wait_until("the first progress", shown(False), pause=0.1, alive=[worker])
    progress_s = time.perf_counter() - t0
    wait_until("the campaign sent", shown(True), deadline=1800, pause=0.5, alive=[worker])
    end_to_end_s = time.perf_counter() - t0
    with site.session(as_user=False) as db:
        job = db.execute(select(Job).where(Job.record == f"crm.campaign:{campaign_id}")).scalar_one()
        rows = db.execute(select(CampaignRecipient.status, CampaignRecipient.reason)
                          .where(CampaignRecipient.campaign_id == campaign_id)).all()
        statuses = [status for status, _ in rows]
        job_s = (job.finished_at - job.started_at).total_seconds()
        result = job.result
    count = statuses.count("sent")
    if job.status != "done" or count != len(statuses):
        reasons = Counter(f"{status}: {reason}" for status, reason in rows if status != "sent")
        raise RuntimeError(f"campaign {campaign_id}: job {job.status} {job.error}; {count} of {len(statuses)} sent; "
                           f"{reasons.most_common(5)}")
    return {"recipients": len(statuses), "post_s": post_s, "send_to_progress_s": progress_s,
            "job_s": job_s, "per_s": count / job_s, "end_to_end_s": end_to_end_s,
            "end_to_end_per_s": count / end_to_end_s, "result": result}


def campaign(site: Site, label: str, args, report) -> None:
    with smtp_sink() as port:
        segment_id = configure(site, port)
        client, dispatcher = signed_in_client(site)
        worker = site.worker("--threads", "1")
        runs = []
        try:
            for run in range(args.campaign_runs):
                runs.append(campaign_run(site, client, new_campaign(site, segment_id, run + 1), worker))
                r = runs[-1]
                log(f"    run {run + 1}: {r['recipients']:,} recipients; Send answered in {r['post_s']:.2f} s, "
                    f"progress shown after {r['send_to_progress_s']:.2f} s; {r['per_s']:.0f} messages/s in the job "
                    f"({r['job_s']:.1f} s), {r['end_to_end_per_s']:.0f}/s from Send to sent")
        finally:
            _stop(worker)
            dispatcher.close()
    note = f"{runs[0]['recipients']:,} recipients, batches of 50"
    report("campaign", "Send (the POST: recipients fixed, job enqueued)", label, "s", [r["post_s"] for r in runs],
           note=note, runs=runs)
    report("campaign", "Send → progress shown (done > 0)", label, "s", [r["send_to_progress_s"] for r in runs])
    report("campaign", "messages/s in the job (started → finished)", label, "msg/s", [r["per_s"] for r in runs])
    report("campaign", "messages/s from Send to the page showing sent", label, "msg/s",
           [r["end_to_end_per_s"] for r in runs])


# --------------------------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.figures: list[Figure] = []
        self.notes: list[str] = []

    def __call__(self, section, what, backend, unit, values, note="", **extra) -> None:
        figure = Figure(section, what, backend, unit, [float(v) for v in values], note, extra)
        self.figures.append(figure)
        log(f"  {what} [{backend}]: median {figure.median:.4g} {unit}  (runs: "
            + ", ".join(f"{v:.4g}" for v in figure.values) + ")")

    def table(self) -> str:
        headers = ("section", "measure", "queue / backend", "median", "unit", "runs", "min – max")
        rows = [(f.section, f.what, f.backend, _fmt(f.median), f.unit, str(len(f.values)),
                 f"{_fmt(min(f.values))} – {_fmt(max(f.values))}" if len(f.values) > 1 else "")
                for f in self.figures]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        lines = [" | ".join(h.ljust(w) for h, w in zip(headers, widths)), "-+-".join("-" * w for w in widths)]
        lines += [" | ".join(c.rjust(w) if i in (3, 5) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in rows]
        return "\n".join(lines)


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


SECTIONS = ("throughput", "recovery", "campaign")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--runs", type=int, default=3, help="runs of the throughput and recovery figures")
    parser.add_argument("--jobs", type=int, default=1_000, help="no-op jobs per throughput run")
    parser.add_argument("--batch", type=int, default=100, help="start_job calls per commit when enqueuing")
    parser.add_argument("--workers", type=int, default=2, help="kontor worker --threads 1 processes draining")
    parser.add_argument("--recipients", type=int, default=10_000, help="parties, so campaign recipients")
    parser.add_argument("--campaign-runs", type=int, default=1, help="campaigns sent per backend")
    parser.add_argument("--no-redis", action="store_true", help="leave out the Redis queue")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sections = args.only or list(SECTIONS)
    report = Report()
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    failed = False
    _throwaway_postgres_importable()

    def section(name: str, run, *run_args) -> None:
        nonlocal failed
        if name not in sections:
            return
        log(f"  {name} on {run_args[1]}")
        try:
            run(*run_args, args, report)
        except Exception as exc:  # one section failing must not hide the others' figures
            failed = True
            report.notes.append(f"{name} on {run_args[1]} failed: {type(exc).__name__}: {exc}")
            log(f"  {name} on {run_args[1]} FAILED:\n{traceback.format_exc()}")

    backends = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    for backend, dbs in each_backend(backends, "kbench-jobs-"):
        url, instance = prepare(dbs, args.recipients)
        default = Site(url, instance, "" if backend == "sqlite" else url)
        label = "SQLite (queue file)" if backend == "sqlite" else "PostgreSQL (queue in PostgreSQL)"
        section("throughput", throughput, default, label)
        if "throughput" in sections and not args.no_redis and (backend == "postgresql" or not args.postgres):
            with redis_server(dbs.workdir) as redis_url:
                section("throughput", throughput, Site(url, instance, redis_url),
                        f"Redis (database {'PostgreSQL' if backend == 'postgresql' else 'SQLite'})")
        section("recovery", recovery, Site(url, instance, default.queue_url, **RECOVERY), label)
        section("campaign", campaign, default, "SQLite" if backend == "sqlite" else "PostgreSQL")
        from core.db import dispose_engines

        dispose_engines()
        dbs.drop(url)
    print(report.table())
    print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}; at end: {:.2f} {:.2f} {:.2f}; {} CPUs".format(
        *load_at_start, *os.getloadavg(), os.cpu_count()))
    for note in report.notes:
        print(f"note: {note}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc)
    path = RESULTS / f"jobs-{stamp:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({
        "date": stamp.isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg()},
        "options": vars(args), "recovery_settings": RECOVERY,
        "figures": [{"section": f.section, "what": f.what, "backend": f.backend, "unit": f.unit,
                     "values": f.values, "median": f.median, "note": f.note, "extra": f.extra}
                    for f in report.figures],
        "notes": report.notes,
    }, indent=2, default=str))
    print(f"\n{len(report.figures)} figures in {time.perf_counter() - started:.0f} s; JSON: {path.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
