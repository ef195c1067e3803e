"""Adding, finding and moving things."""
from sqlalchemy import select, update

from core import Changes, InvariantCheck
from core import session as request_session
from everyhook.models import Thing

#: The names of the things each run of the invariant check was shown, in order (for the tests).
checked: list[list[str]] = []


def add_thing(session, name: str, party_id: int | None = None) -> Thing:
    """Add a thing named ``name``."""
    thing = Thing(name=name, party_id=party_id)
    session.add(thing)
    session.flush()
    return thing


def thing_named(session, name: str) -> Thing | None:
    """The first thing named ``name``."""
    return session.execute(select(Thing).where(Thing.name == name)).scalars().first()


def all_things(session) -> list[Thing]:
    """Every thing, oldest first."""
    return list(session.execute(select(Thing).order_by(Thing.id)).scalars())


def things_of_party(party_id: int, session=None) -> list[Thing]:
    """The things of party ``party_id``."""
    session = session or request_session
    return list(session.execute(select(Thing).where(Thing.party_id == party_id).order_by(Thing.id)).scalars())


def move_things(session, source_id: int, target_id: int) -> None:
    """Give the things of party ``source_id`` to ``target_id``."""
    session.execute(update(Thing).where(Thing.party_id == source_id).values(party_id=target_id))


def no_forbidden_thing(session, changes: Changes) -> str | None:
    """The fixture's invariant: no thing is named "forbidden" (it looks only at the things touched)."""
    touched = changes.of(Thing)
    checked.append(sorted(t.name for t in touched))
    if any(t.name == "forbidden" for t in touched if t not in changes.deleted):
        return "A thing must not be named 'forbidden'."
    return None


NO_FORBIDDEN_THING = InvariantCheck("everyhook.no_forbidden_thing", no_forbidden_thing, watches=(Thing,))


def tally_things(job, prefix: str, count: int, fail_first: int = 0, pause: float = 0) -> dict:
    """A job: add things "<prefix> 1" … "<prefix> <count>", each once however often the job runs;
    the first ``fail_first`` attempts fail after the first thing (to try retries); ``pause``
    seconds of pretended work per thing (to catch a worker while it runs the job)."""
    import time

    made = 0
    for number in range(1, count + 1):
        if pause:
            time.sleep(pause)
        name = f"{prefix} {number}"
        if thing_named(job.session, name) is None:
            add_thing(job.session, name)
            made += 1
        job.progress(number, count, f"{number} of {count}")
        if fail_first and _attempt_of(job) <= fail_first:
            raise RuntimeError(f"failing on purpose, attempt {_attempt_of(job)}")
    return {"made": made, "user": job.user.username if job.user else None}


def _attempt_of(job) -> int:
    from core import Job

    return job.session.get(Job, job.id).attempts
