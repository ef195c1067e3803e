"""slowjob: a job kind that works in small steps (each recorded once, however often the job runs)
and a schedule every two seconds, started through an API endpoint."""
import time
from datetime import timedelta
from pathlib import Path

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core import (ApiBlueprint, JobKind, Manifest, Permission, Schedule, hookimpl, json_response, lazy_gettext as _l,
                  load_body, require, session, start_job, transaction)

manifest = Manifest(name="slowjob", version="1.0.0", title="Slow jobs", summary="A slow job and a fast schedule.",
                    category="Testing")
START = "slowjob.start"
api = ApiBlueprint("slowjob", __name__)
#: The longest a step may sleep: the job stays responsive to cancelling and to being killed.
SLICE = 0.05


class StartSchema(Schema):
    run = fields.String(required=True, validate=validate.Length(min=1, max=40))
    steps = fields.Integer(load_default=10, validate=validate.Range(min=1, max=1000))
    pause = fields.Float(load_default=0.2, validate=validate.Range(min=0, max=5))


@api.post("/runs")
@require(START)
def start_run():
    """Start the steps job for ``run`` (idempotent per run)."""
    body = load_body(StartSchema())
    with transaction():
        job = start_job(session, "slowjob.steps", body, title=f"Steps of {body['run']}", key=f"slowjob:{body['run']}")
    return json_response({"id": job.id}, 201)


def steps_job(job, run: str, steps: int, pause: float):
    """Sleep ``pause`` seconds per step and record each step once (skipping the steps done before)."""
    from slowjob.models import Step

    done = set(job.session.execute(select(Step.step).where(Step.run == run)).scalars())
    for step in range(steps):
        if step not in done:
            until = time.monotonic() + pause
            while time.monotonic() < until:
                time.sleep(min(SLICE, max(0.0, until - time.monotonic())))
            job.session.add(Step(run=run, step=step))
        job.progress(step + 1, steps, f"step {step + 1} of {steps}")  # commits the step with the progress
    return {"steps": steps, "skipped": len(done)}


def tick_job(job):
    """Record that the scheduled job ran."""
    from slowjob.models import Tick

    job.session.add(Tick(job_id=job.id))


@hookimpl
def register_api():
    return [api]


@hookimpl
def register_permissions():
    return [Permission(START, _l("Start slow jobs"))]


@hookimpl
def register_job_kinds():
    return [JobKind("slowjob.steps", run=steps_job, title=_l("Slow steps"), permission=START, max_attempts=3),
            JobKind("slowjob.tick", run=tick_job, title=_l("Tick"), max_attempts=1)]


@hookimpl
def register_schedules():
    return [Schedule("slowjob.every_two_seconds", kind="slowjob.tick", every=timedelta(seconds=2), per_company=False)]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
