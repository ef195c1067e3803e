"""Measurements that must run in a fresh process; ``bench/run.py`` starts them and reads their JSON.

Usage: ``python bench/probes.py PROBE [ARG…]``; each probe prints one JSON object on its last line.
"""
from __future__ import annotations

import time

_STARTED = time.perf_counter()

import json  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests" / "example_plugin"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def coldstart() -> dict:
    """Seconds to import the app factory and to build the app, in this fresh process."""
    t0 = time.perf_counter()
    import core.app

    t1 = time.perf_counter()
    app = core.app.create_app()
    t2 = time.perf_counter()
    return {"before_import_s": t0 - _STARTED, "import_s": t1 - t0, "create_app_s": t2 - t1,
            "modules": app.extensions["kontor"].active_names}


def initialise(url: str) -> dict:
    """Seconds to initialise an empty database in process (what ``kontor init`` does after start-up)."""
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.modules.lifecycle import initialise as init

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    t0 = time.perf_counter()
    init(engine, factory, company_name="Bench ApS", currency="DKK", country="DK")
    seconds = time.perf_counter() - t0
    dispose_engine(url)
    return {"seconds": seconds}


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on the login page")
    return match.group(1)


def flask_client(url: str, instance: str, username: str, password: str, count: str, *paths: str) -> dict:
    """Per-request seconds of ``paths`` through the in-process Flask test client, single-threaded."""
    from core.wsgi import Dispatcher

    from werkzeug.test import Client

    # the dispatcher is what gunicorn serves: requests go through it as they really run
    wsgi = Client(Dispatcher({"DATABASE_URL": url, "INSTANCE_PATH": instance}))
    token = _csrf(wsgi.get("/login").get_data(as_text=True))
    response = wsgi.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")
    out = {}
    for path in paths:
        for _ in range(3):
            warm = wsgi.get(path)
            if warm.status_code != 200:
                raise SystemExit(f"{path}: HTTP {warm.status_code}")
        seconds = []
        for _ in range(int(count)):
            t0 = time.perf_counter()
            wsgi.get(path).close()
            seconds.append(time.perf_counter() - t0)
        out[path] = {"median_s": statistics.median(seconds),
                     "p95_s": statistics.quantiles(seconds, n=20)[-1] if len(seconds) > 1 else seconds[0]}
    return out


def install(url: str, instance: str, *names: str) -> dict:
    """Seconds to install ``names`` with the lifecycle service on an initialised database."""
    from core.app import create_app
    from core.modules import lifecycle

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "EXTRA_PLUGINS": ("kontor_hello.plugin",)})
    with app.app_context():
        kontor = app.extensions["kontor"]
        ctx = lifecycle.context_from_app(app)
        t0 = time.perf_counter()
        lifecycle.install(ctx, list(names))
        seconds = time.perf_counter() - t0
    from core.db import dispose_engine
    from core.modules.registry import read_state

    _, installed = read_state(kontor.engine)
    dispose_engine(url)
    missing = [n for n in names if n not in installed]
    if missing:
        raise SystemExit(f"not installed after install(): {missing}")
    return {"seconds": seconds}


def create_parties(url: str, how: str, count: str) -> dict:
    """Seconds to create ``count`` parties named ``Party 0000000``…, in transactions of 1,000.

    ``how`` is ``bulk`` (one ``bulk_create_parties`` call per transaction) or ``one`` (one
    ``create_party`` call per party).
    """
    sys.path.insert(0, str(ROOT / "bench"))
    import datagen
    from core.audit.recorder import Actor, acting_as
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.parties.services import bulk_create_parties, create_party

    n = int(count)
    rows = datagen.numbered_rows(n)
    factory = make_sessionmaker(get_engine(url))
    with acting_as(Actor(None, "bench", "bench: create parties")):
        t0 = time.perf_counter()
        for start in range(0, n, 1000):
            with factory() as db:
                batch = rows[start:start + 1000]
                if how == "bulk":
                    bulk_create_parties(db, batch)
                else:
                    for row in batch:
                        create_party(db, row)
                db.commit()
        seconds = time.perf_counter() - t0
    dispose_engine(url)
    path = "bulk_create_parties" if how == "bulk" else "create_party"
    return {"seconds": seconds, "n": n, "rows_per_s": n / seconds, "path": path}


PROBES = {"coldstart": coldstart, "init": initialise, "flask_client": flask_client, "install": install,
          "create_parties": create_parties}

if __name__ == "__main__":
    print(json.dumps(PROBES[sys.argv[1]](*sys.argv[2:]), default=str))
