"""``kontor worker`` runs jobs (and, with ``--scheduler``, the schedules); ``kontor jobs`` lists,
cancels and retries them."""
from __future__ import annotations

import logging
import os

import click
from flask.cli import with_appcontext

from core.actor import current_actor
from core.cli import fail
from core.db import session as db
from core.errors import KontorError
from core.jobs import services
from core.web.transaction import cli_refusal, transaction


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="How many jobs this worker runs at once.")
@click.option("--scheduler", is_flag=True, help="Also start scheduled jobs and hand lost jobs to the queue again "
              "(run at least one worker with it; on PostgreSQL one of them leads, the others stand by).")
def worker_command(threads, scheduler):
    """Run background jobs until stopped; SIGTERM or Ctrl+C lets the running jobs finish first."""
    from core.jobs.queue import queue_for, queue_url, serve_apps
    from core.jobs.scheduler import SchedulerThread
    from core.wsgi import Dispatcher

    logging.basicConfig(level=os.environ.get("KONTOR_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("huey").setLevel(logging.WARNING)  # its lines name only the task; ours name the job
    dispatcher = Dispatcher()
    app = dispatcher.app
    if not app.extensions["kontor"].initialised:
        fail("the database is not initialised: run `kontor init` first")
    huey = queue_for(app)
    if huey.immediate:
        fail("KONTOR_QUEUE_URL=memory:// runs jobs inside the web process; a worker needs a shared queue "
             "(leave it empty for the instance's SQLite queue, or give a postgresql:// or redis:// URL)")
    serve_apps(lambda: dispatcher.app)
    ticker = None
    if scheduler:
        ticker = SchedulerThread(lambda: dispatcher.app, float(app.config.get("SCHEDULER_TICK", 30)))
        ticker.start()
    click.echo(f"Kontor worker: {threads} thread(s) on {_safe(queue_url(app))}"
               f"{', with the scheduler' if scheduler else ''}.", err=True)
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=False, max_delay=1.0,
                                    graceful_signal="TERM", check_worker_health=True)
    try:
        consumer.run()
    finally:
        if ticker is not None:
            ticker.stopping.set()
            ticker.join(timeout=5)
        dispatcher.close()


def _safe(url: str) -> str:
    """``url`` without its password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


@click.group("jobs")
def jobs_group():
    """List, cancel and retry background jobs."""


def _everyone() -> bool:
    return current_actor() is None  # the system, in a command without --as


@jobs_group.command("list")
@click.option("--status", default="", help="queued, running, done, failed or cancelled.")
@click.option("--kind", default="", help="Only jobs of this kind.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def list_command(status, kind, limit):
    """The newest jobs: id, status, progress, kind and title (tab-separated)."""
    try:
        query = services.jobs_query(current_actor(), status=status, kind=kind, everyone=_everyone())
    except KontorError as exc:
        cli_refusal(exc)
    for job in db.execute(query.limit(limit)).scalars():
        progress = f"{job.done}/{job.total}" if job.total else str(job.done)
        click.echo("\t".join([str(job.id), job.status, progress, job.kind, services.job_title(job)]))


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@with_appcontext
def cancel_command(job_id):
    """Cancel a job (a running one stops at its next step)."""
    with transaction():
        job = services.cancel_job(db, services.get_job(db, job_id, current_actor(), everyone=_everyone()))
    click.echo(f"Job {job.id}: {job.status}{' (stopping)' if job.cancel_requested else ''}")


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def retry_command(job_id):
    """Run a failed or cancelled job again."""
    with transaction():
        job = services.retry_job(db, services.get_job(db, job_id, current_actor(), everyone=_everyone()))
    click.echo(f"Job {job.id}: {job.status}")


