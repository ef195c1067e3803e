"""benchjobs: a no-op job kind (the queue's own cost) and a job that sleeps in small steps (a busy
worker to kill). Benchmark-only: bench/jobs.py installs it into its throwaway databases."""
import time

from core import JobKind, Manifest, hookimpl, lazy_gettext as _l

manifest = Manifest(name="benchjobs", version="1.0.0", title="Benchmark jobs",
                    summary="A no-op job and a sleeping job for bench/jobs.py.", category="Testing")
#: How often the sleeping job reports progress (which also notices a cancel).
STEP = 0.2


def noop_job(job):
    """Nothing: what remains is the cost of the queue, the claim and the outcome."""
    return None


def sleep_job(job, seconds: float):
    """Stay busy for ``seconds``, reporting progress every :data:`STEP` seconds (so a cancel stops it)."""
    steps = max(1, int(seconds / STEP))
    for step in range(steps):
        time.sleep(STEP)
        job.progress(step + 1, steps)
    return {"slept": seconds}


@hookimpl
def register_job_kinds():
    return [JobKind("benchjobs.noop", run=noop_job, title=_l("Nothing"), max_attempts=1),
            JobKind("benchjobs.sleep", run=sleep_job, title=_l("Sleep"), max_attempts=3)]
