"""Checking approval conditions: 1,000 supplier bills against 50 approval rules.

    .venv/bin/python bench/approvals.py              # SQLite
    .venv/bin/python bench/approvals.py --postgres   # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/approvals.py --records 200 --runs 2   # a quick run

Per backend one database is made (bench/run.py's ``Databases``: ``kontor init``, then the accounting
module installed in process, the user ``benchuser`` with the admin role). As ``benchuser``, through
the services: 8 suppliers, ``--records`` draft supplier bills (``accounting.bill``, the accounting
module's approvable kind: total, untaxed, currency, supplier, journal) of one to three lines with
seeded random amounts, and ``--rules`` active approval rules whose conditions read 2 to 5 of those
fields (``CONDITIONS``: thresholds on total and untaxed, the tax in between, the currency, the
supplier in a list, the journal, joined with and/or; each with a one-step chain). Then, each the
median of ``--runs`` runs after one warm-up run:

- *conditions*: every rule's compiled condition evaluated on every bill's values (read once
  beforehand with the approvable's ``values``): ``records × rules`` checks through
  ``core.approvals.conditions.holds`` (the compiled rule comes from ``compile_rule``'s cache);
- *floor*: the same checks written as Python lambdas over the same ``Decimal`` values;
- *approval_state*: ``core.approval_state(db, "accounting.bill", bill)`` for every bill, the whole
  service as a module calls it before posting: the bill's latest request, the active rules' conditions
  of the kind (one query each), the values, and the conditions (up to the first that holds);
- *values*: the approvable's ``values(bill)`` alone for every bill, the module's share of
  *approval_state* (the accounting module reads the supplier and looks up the purchase journal).

The conditions' results are checked against the lambdas' for every bill and rule (a mismatch fails
the run). Results: a printed table and ``bench/results/approvals-<UTC time>.json`` (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import traceback
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from run import RESULTS, Databases, each_backend, log  # noqa: E402

USERNAME = "benchuser"
PASSWORD = "bench password 1"
KIND = "accounting.bill"
SUPPLIERS = ["Hanse Stahl GmbH", "Nordlys Handel ApS", "Baltic Timber AB", "Kraków Tools Sp. z o.o.",
             "Suomi Paper Oy", "Rhein Logistik KG", "Øresund IT A/S", "Vistula Foods S.A."]


def conditions(count: int) -> list[tuple[str, object]]:
    """``count`` conditions as (rule text, the same test in Python), reading 2 to 5 of the bill's fields."""
    made = []
    for n in range(count):
        t = Decimal(15000 + 900 * n)
        a, b = SUPPLIERS[n % 8], SUPPLIERS[(n + 3) % 8]
        templates = [
            (f'total > {t} and currency == "DKK"',
             lambda v, t=t: v["total"] > t and v["currency"] == "DKK"),
            (f'untaxed >= {t} or (supplier == "{a}" and total > {t / 2})',
             lambda v, t=t, a=a: v["untaxed"] >= t or (v["supplier"] == a and v["total"] > t / 2)),
            (f'journal == "PUR" and total > {t} and supplier in ["{a}", "{b}"]',
             lambda v, t=t, a=a, b=b: v["journal"] == "PUR" and v["total"] > t and v["supplier"] in [a, b]),
            (f'(total - untaxed) > {t / 4} or (currency != "DKK" and untaxed > {t})',
             lambda v, t=t: (v["total"] - v["untaxed"]) > t / 4 or (v["currency"] != "DKK" and v["untaxed"] > t)),
            (f'total > {t} and untaxed < {t * 2} and not (supplier == "{a}") and journal != "MISC"',
             lambda v, t=t, a=a: v["total"] > t and v["untaxed"] < t * 2 and not (v["supplier"] == a)
             and v["journal"] != "MISC"),
        ]
        made.append(templates[n % len(templates)])
    return made


def timed_step(label: str):
    class Step:
        def __enter__(self):
            self.start = time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.start
            if exc[0] is None:
                log(f"    {label} in {self.seconds:.1f} s")
    return Step()


def build(dbs: Databases, args) -> tuple[str, Path]:
    """The database: initialised, accounting installed, the user, the suppliers, the bills and the rules."""
    from core.auth.services import ADMIN_ROLE, create_user
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    url, instance = dbs.initialised()
    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    with timed_step("accounting installed"):
        install(ModuleContext(engine, factory, discover(()), instance), ["accounting"])
    with factory() as db:
        create_user(db, USERNAME, password=PASSWORD, roles=[ADMIN_ROLE])
        db.commit()
    dispose_engine(url)
    with timed_step(f"{args.records:,} bills and {args.rules} rules"), in_app_as_user(url, instance) as db:
        make_bills(db, args.records)
        make_rules(db, args.rules)
        db.commit()
    return url, instance


class in_app_as_user:
    """An app context over ``url``, acting as ``benchuser`` in their company: yields the session."""

    def __init__(self, url: str, instance: Path):
        self.url, self.instance = url, instance

    def __enter__(self):
        from sqlalchemy import select

        from core.actor import acting_as
        from core.app import create_app
        from core.auth.models import User
        from core.db import session

        self.app = create_app({"DATABASE_URL": self.url, "INSTANCE_PATH": str(self.instance), "MARKETPLACE": ""})
        self.ctx = self.app.app_context()
        self.ctx.push()
        user = session.execute(select(User).where(User.username == USERNAME)).scalar_one()
        self.acting = acting_as(user, "bench: approvals")
        self.acting.__enter__()
        return session

    def __exit__(self, *exc):
        from core.db import session

        session.rollback()
        self.acting.__exit__(*exc)
        self.ctx.pop()


def make_bills(db, count: int) -> None:
    from core.parties.services import create_party
    from plugins.accounting.invoicing import services as invoicing

    parties = [create_party(db, {"name": name, "kind": "company"}).id for name in SUPPLIERS]
    rng = random.Random(11)
    for n in range(count):
        lines = [{"description": f"Item {k}", "quantity": str(rng.randint(1, 5)),
                  "unit_price": f"{rng.randint(10, 4000)}.{rng.randint(0, 99):02d}"} for k in range(rng.randint(1, 3))]
        invoicing.create_invoice(db, "in_invoice", {"party_id": parties[n % len(parties)],
                                                    "invoice_date": date(2026, 12, 1), "lines": lines})
        if n % 200 == 199:
            db.flush()


def make_rules(db, count: int) -> None:
    from core.approvals.chains import save_rule

    for n, (text, _python) in enumerate(conditions(count)):
        save_rule(db, None, {"kind": KIND, "name": f"Rule {n + 1}", "condition": text, "active": True,
                             "sequence": n, "steps": [{"approver": "user", "user": USERNAME}]})


def measure(backend: str, dbs: Databases, args) -> dict:
    from sqlalchemy import select

    from core import approval_state
    from core.approvals.conditions import holds
    from core.approvals.registry import approvable
    from plugins.accounting.invoicing.models import Invoice

    result = {"backend": backend, "records": args.records, "rules": args.rules, "runs": {}}
    try:
        url, instance = build(dbs, args)
        pairs = conditions(args.rules)
        with in_app_as_user(url, instance) as db:
            bills = list(db.scalars(select(Invoice).where(Invoice.kind == "in_invoice").order_by(Invoice.id)))
            target = approvable(KIND)
            values = [target.values(bill) for bill in bills]

            def by_rules():
                return [[holds(db, KIND, text, v) for text, _python in pairs] for v in values]

            def by_python():
                return [[python(v) for _text, python in pairs] for v in values]

            def states():
                return [approval_state(db, KIND, bill) for bill in bills]

            def read_values():
                return [target.values(bill) for bill in bills]

            expected = by_python()
            if by_rules() != expected:
                raise AssertionError("a condition's result differs from the same test in Python")
            matched = sum(any(row) for row in expected)
            result["bills_needing_approval"] = matched
            if states().count("required") != matched:
                raise AssertionError("approval_state disagrees with the conditions")
            for name, fn in (("conditions", by_rules), ("floor", by_python), ("approval_state", states),
                             ("values", read_values)):
                runs = []
                for _run in range(args.runs):
                    start = time.perf_counter()
                    fn()
                    runs.append(time.perf_counter() - start)
                result["runs"][name] = runs
                log(f"    {name}: median {statistics.median(runs) * 1000:.1f} ms")
        dbs.drop(url)
    except Exception:
        result["error"] = traceback.format_exc()
    return result


def table(results: list[dict]) -> str:
    rows = ["| backend | measure | median (ms) | min – max (ms) | per record (µs) | per check (µs) |",
            "|---|---|---:|---:|---:|---:|"]
    for r in results:
        if "error" in r:
            continue
        for name, label in (("conditions", "conditions, compiled rules"), ("floor", "the same in Python (floor)"),
                            ("approval_state", "approval_state (service)"),
                            ("values", "of which: the bills' values (the module's)")):
            runs = r["runs"][name]
            median = statistics.median(runs)
            checks = r["records"] * r["rules"]
            rows.append(f"| {r['backend']} | {label} | {median * 1000:.1f} | {min(runs) * 1000:.1f} – "
                        f"{max(runs) * 1000:.1f} | {median / r['records'] * 1e6:.0f} | "
                        f"{median / checks * 1e6:.2f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--records", type=int, default=1000, help="supplier bills (default 1,000)")
    parser.add_argument("--rules", type=int, default=50, help="active approval rules (default 50)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    args = parser.parse_args(argv)
    started, load_start = time.time(), os.getloadavg()
    from companies import _throwaway_postgres_importable

    _throwaway_postgres_importable()
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    results = [measure(backend, dbs, args) for backend, dbs in each_backend(backends, "kbench-approvals-")]
    print(f"{args.records:,} supplier bills × {args.rules} approval rules; median of {args.runs} runs, in process")
    print(table(results))
    for r in results:
        if "error" in r:
            print(f"\n{r['backend']} FAILED:\n{r['error']}")
        else:
            print(f"{r['backend']}: {r['bills_needing_approval']} of {r['records']} bills need approval")
    load_end = os.getloadavg()
    print("load average (1, 5, 15 min): start {:.2f} {:.2f} {:.2f}, end {:.2f} {:.2f} {:.2f}; {} CPUs; {:.0f} s"
          .format(*load_start, *load_end, os.cpu_count(), time.time() - started))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"approvals-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"args": vars(args), "results": results, "load_start": load_start,
                                "load_end": load_end, "cpus": os.cpu_count(),
                                "seconds": time.time() - started}, indent=2, default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
