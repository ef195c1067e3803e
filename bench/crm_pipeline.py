"""The pipeline board with 10,000 open opportunities, and party search beside 1,000,000 activities.

    .venv/bin/python bench/crm_pipeline.py                 # SQLite, 100,000 parties, 1,000,000 activities
    .venv/bin/python bench/crm_pipeline.py --postgres      # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/crm_pipeline.py --parties 20000 --activities 100000 --requests 10   # quicker

One fresh initialised database per backend (bench/run.py's ``Databases``) with the CRM installed
(not timed); then, timed and reported separately:

- ``--parties`` parties through the core's ``bulk_create_parties`` (bench/datagen.py's rows);
- ``--opportunities`` open opportunities spread over the four open stages and six salespeople,
  in DKK and EUR, inserted in bulk (executemany of 5,000 rows);
- ``--activities`` activities spread over the parties (and a tenth of them over the
  opportunities), inserted in bulk (executemany of 20,000 rows).

Then, through the in-process dispatcher and Werkzeug's test client (what gunicorn serves), signed
in as a sales manager (who sees every opportunity), each page is requested 3 times to warm up and
then ``--requests`` times; the median and p95 of the per-request time are reported:

- ``/parties``: the first page of the party list, the core's own reference page (see bench/README.md);
- ``/crm/board``: the board (counts and sums per column aggregated in SQL, 20 cards a column);
- ``/parties?q=<word>``: the first page of a party search;
- ``/crm/party-options?party_q=<word>``: the customer picker of the opportunity and activity forms;
- ``/parties/<id>`` of a party with many activities: the customer 360 page with the CRM panels;
- ``/crm/timeline?party_id=<id>``: the first page of that party's timeline.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import datagen  # noqa: E402
from run import RESULTS, Databases, each_backend, log  # noqa: E402

PASSWORD = "bench password 1"
SEARCH = "harbour"


def install_crm(url: str, instance: Path):
    """Install the CRM in process; the engine and a sessionmaker on the database."""
    from core.db import get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    install(ModuleContext(engine, factory, discover(()), instance), ["crm"])
    return engine, factory


def make_users(factory) -> list[int]:
    """A sales manager (``benchmanager``) and six salespeople; returns the salespeople's ids."""
    from core.auth.services import create_user

    with factory() as db:
        create_user(db, "benchmanager", password=PASSWORD, roles=["sales_manager", "staff"])
        ids = [create_user(db, f"seller{n}", password=PASSWORD, roles=["salesperson"])[0].id for n in range(6)]
        db.commit()
    return ids


def add_opportunities(factory, count: int, owners: list[int], seed: int = 11) -> float:
    """Insert ``count`` open opportunities in bulk; seconds taken."""
    from sqlalchemy import func, insert, select

    from core.db import utcnow
    from plugins.crm.pipeline.models import Opportunity, Stage

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with factory() as db:
        stages = db.execute(select(Stage).where(Stage.is_won.is_(False), Stage.is_lost.is_(False))
                            .order_by(Stage.sequence)).scalars().all()
        low, high = db.execute(select(func.min(datagen_party_id()), func.max(datagen_party_id()))).one()
        now = utcnow()
        today = date.today()
        batch = []
        for n in range(count):
            stage = stages[n % len(stages)]
            batch.append({
                "party_id": rng.randint(low, high), "title": f"Deal {n:05d} – {rng.choice(PRODUCTS)}",
                "expected_revenue": Decimal(rng.randrange(5_000, 2_000_000, 250)),
                "currency": "EUR" if n % 4 == 0 else "DKK", "probability": stage.probability,
                "expected_close": today + timedelta(days=rng.randint(-30, 365)), "owner_id": owners[n % len(owners)],
                "stage_id": stage.id, "lost_reason": "", "lead_id": None, "campaign_id": None,
                "created_at": now, "updated_at": now, "closed_at": None,
            })
            if len(batch) == 5_000:
                db.execute(insert(Opportunity.__table__), batch)
                batch = []
        if batch:
            db.execute(insert(Opportunity.__table__), batch)
        db.commit()
    return time.perf_counter() - t0


def datagen_party_id():
    """The party id column (the core's table, reached through the pipeline's mapping)."""
    from plugins.crm.pipeline.services import party_model

    return party_model().id


PRODUCTS = ["Fleet tracking", "Solar carport", "Service agreement", "Racking upgrade", "ERP integration",
            "Heat pumps", "Forklift lease", "Webshop relaunch", "Cold-chain sensors", "Training"]
KINDS = ("call", "meeting", "email", "task")
SUBJECTS = ["Follow-up call", "Send the proposal", "Demo on site", "Check budget", "Contract review",
            "Quarterly review", "Price list", "Reference call"]


def add_activities(factory, count: int, users: list[int], focus_party: int, seed: int = 13) -> float:
    """Insert ``count`` activities in bulk (2,000 of them on ``focus_party``); seconds taken."""
    from sqlalchemy import func, insert, select

    from plugins.crm.activities.models import Activity
    from plugins.crm.pipeline.models import Opportunity

    rng = random.Random(seed)
    t0 = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with factory() as db:
        low, high = db.execute(select(func.min(datagen_party_id()), func.max(datagen_party_id()))).one()
        opp_low, opp_high = db.execute(select(func.min(Opportunity.id), func.max(Opportunity.id))).one()
        batch = []
        for n in range(count):
            when = base + timedelta(minutes=rng.randint(0, 480_000))
            party_id = focus_party if n % 500 == 0 else rng.randint(low, high)
            done = when < base + timedelta(days=300) and n % 3 != 0
            batch.append({
                "kind": KINDS[n % 4], "subject": rng.choice(SUBJECTS), "due_at": when,
                "assignee_id": users[n % len(users)], "done": done, "done_at": when if done else None, "notes": "",
                "party_id": party_id, "lead_id": None,
                "opportunity_id": rng.randint(opp_low, opp_high) if n % 10 == 0 and opp_low else None,
                "created_by_id": users[n % len(users)], "created_at": when - timedelta(days=2),
            })
            if len(batch) == 20_000:
                db.execute(insert(Activity.__table__), batch)
                batch = []
        if batch:
            db.execute(insert(Activity.__table__), batch)
        db.commit()
    return time.perf_counter() - t0


def timed_pages(url: str, instance: Path, paths: list[str], requests: int) -> dict:
    """Median and p95 seconds of each path through the in-process dispatcher, signed in."""
    from werkzeug.test import Client

    from core.wsgi import Dispatcher

    wsgi = Client(Dispatcher({"DATABASE_URL": url, "INSTANCE_PATH": str(instance)}))
    page = wsgi.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', page).group(1)
    response = wsgi.post("/login", data={"username": "benchmanager", "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: HTTP {response.status_code}")
    out = {}
    for path in paths:
        for _ in range(3):
            warm = wsgi.get(path)
            if warm.status_code != 200:
                raise SystemExit(f"{path}: HTTP {warm.status_code}")
        body = warm.get_data(as_text=True)
        seconds = []
        for _ in range(requests):
            t0 = time.perf_counter()
            wsgi.get(path).close()
            seconds.append(time.perf_counter() - t0)
        out[path] = {"median_s": statistics.median(seconds),
                     "p95_s": statistics.quantiles(seconds, n=20)[-1] if len(seconds) > 1 else seconds[0],
                     "bytes": len(body), "cards": body.count('class="board-card"'),
                     "rows": body.count("<tr")}
    return out


def measure(backend: str, dbs: Databases, args) -> dict:
    from sqlalchemy import func, select

    url, instance = dbs.initialised()
    engine, factory = install_crm(url, instance)
    sellers = make_users(factory)
    figures: dict = {"backend": backend}
    t0 = time.perf_counter()
    datagen.generate(url, args.parties)
    figures["parties_s"] = time.perf_counter() - t0
    log(f"  {args.parties:,} parties in {figures['parties_s']:.1f} s")
    figures["opportunities_s"] = add_opportunities(factory, args.opportunities, sellers)
    log(f"  {args.opportunities:,} open opportunities in {figures['opportunities_s']:.1f} s")
    with factory() as db:
        focus = db.execute(select(datagen_party_id()).order_by(datagen_party_id()).limit(1).offset(7)).scalar_one()
    figures["activities_s"] = add_activities(factory, args.activities, sellers, focus)
    log(f"  {args.activities:,} activities in {figures['activities_s']:.1f} s")
    if backend == "postgresql":  # as autovacuum would after such a load; SQLite keeps no statistics unasked
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    with factory() as db:
        from plugins.crm.activities.models import Activity
        from plugins.crm.pipeline.models import Opportunity

        figures["counts"] = {
            "opportunities": db.execute(select(func.count()).select_from(Opportunity)).scalar_one(),
            "activities": db.execute(select(func.count()).select_from(Activity)).scalar_one(),
            "focus_party_activities": db.execute(select(func.count()).select_from(Activity)
                                                 .where(Activity.party_id == focus)).scalar_one(),
        }
    paths = ["/parties", "/crm/board", f"/parties?q={SEARCH}", f"/crm/party-options?party_q={SEARCH}",
             f"/parties/{focus}", f"/crm/timeline?party_id={focus}"]
    figures["pages"] = timed_pages(url, instance, paths, args.requests)
    for path, page in figures["pages"].items():
        log(f"  {path}: median {page['median_s'] * 1000:.1f} ms, p95 {page['p95_s'] * 1000:.1f} ms")
    engine.dispose()
    dbs.drop(url)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=25, help="timed requests per page")
    args = parser.parse_args(argv)
    results = [measure(backend, dbs, args)
               for backend, dbs in each_backend(["sqlite", "postgresql"] if args.postgres else ["sqlite"], "kbench-pipeline-")]
    print(f"{args.parties:,} parties, {args.opportunities:,} open opportunities, {args.activities:,} activities; "
          f"median (p95) of {args.requests} requests, in process:")
    for r in results:
        for path, page in r["pages"].items():
            print(f"  {r['backend']:<10} {path:<40} {page['median_s'] * 1000:8.1f} ms ({page['p95_s'] * 1000:.1f} ms)")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}; {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"crm-pipeline-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"args": vars(args), "results": results, "load": os.getloadavg()}, indent=2,
                               default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
