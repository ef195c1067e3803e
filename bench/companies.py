"""The cost of the company filter: the party list, the invoice list and the trial balance with five
companies in one instance, beside the same with one company.

    .venv/bin/python bench/companies.py              # SQLite: 1,000,000 lines, 100,000 parties and invoices
    .venv/bin/python bench/companies.py --postgres   # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/companies.py --lines 20000 --parties 2000 --invoices 2000 --runs 2   # a quick run

Per backend, one base database is made (bench/run.py's ``Databases``: ``kontor init``, then the
accounting module and the CRM installed in process, the measured user ``benchuser`` with the admin
role, and ``--parties`` parties through ``bulk_create_parties``, bench/datagen.py's rows). Three
instances are copied from it:

- ``one``: one company (the default one, id 1) holding ``--lines`` posted ledger lines and
  ``--invoices`` invoice rows;
- ``five``: five companies holding the same totals, a fifth each (companies 2 to 5 are created
  through ``core.company.services.create_company``, so each loads its default data: chart,
  journals, taxes of its country); each company's lines are on its own accounts and journal, and
  the companies' rows are interleaved by date in the tables, as they would be when the companies
  book side by side. ``benchuser`` works in all five, company 1 being their current company;
- ``fifth``: one company holding only what company 1 holds in ``five`` (``--lines / 5`` lines and
  ``--invoices / 5`` invoices, the very same rows: company 1's rows are generated from the same seed
  in both).

Parties are shared by the group (not per company), so every instance holds all ``--parties``.
Lines are written as bench/accounting_reports.py writes them (two-line entries in the general
journal over 2025 and 2026, the driver's bulk path, without hashes or audit records: a fixture,
not a posting test), with ``company_id`` set explicitly; invoices (customer invoices, credit notes
and supplier bills, posted or paid) with SQLAlchemy Core's executemany.

Measured in every instance, each the median of ``--runs`` runs after one warm-up call; a run of a
measure is the mean of ``--repeat`` calls, and the three instances take turns call by call (the
order rotating), so a change of the machine's load touches them alike:

- the party list's first page: ``GET /parties`` and ``core.parties.services.list_parties``;
- the invoice list's first page: ``GET /accounting/invoices`` and the list's statement
  (``invoicing.services.invoices_query`` through ``keyset_page``, newest first);
- the trial balance of 2026: ``GET /accounting/reports/trial-balance`` and
  ``reports.trial_balance.trial_balance``.

Pages go through the in-process WSGI dispatcher and Werkzeug's test client, signed in as
``benchuser`` (as bench/run.py's in-process figures); service calls run in a session acting as
``benchuser`` (so the scope is their current company, as in a request). In the one-company
instance the service calls are also timed under ``core.all_companies()`` (no filter at all), which
isolates what the scope itself adds.

The filter's cost is ``five / fifth - 1``: the filtered query on a table shared by five companies
against the same query on a table holding only that company's rows. The issue's budget is 10%.
Wall-clock medians are the figures; the process's CPU time of each call is kept beside them
(``cpu:`` in the JSON) and its filter cost shown for SQLite, where all the work is in this
process: on a loaded machine it wavers much less. The party list reads no per-company table, so
its "filter cost" is the noise floor of the sitting.
For every measure the statements of one service call in each instance are captured and their
query plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL) kept in the JSON; those
of ``five`` and ``fifth`` are printed for a measure over budget. ``--try-index "CREATE INDEX …"`` (repeatable) measures again after
adding the given indexes to every instance, to test a proposed index without touching the models.

Exit status: 1 when a section failed (an error, or company 1's figures in ``five`` differ from
``fifth``'s), 2 when everything ran but a filter cost is over budget, else 0.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import re
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import datagen  # noqa: E402
from run import RESULTS, Databases, each_backend, log  # noqa: E402


def _throwaway_postgres_importable() -> None:
    """``each_backend`` starts PostgreSQL through ``tests.pg``, which moved to ``core.testing.pg``."""
    import tests

    try:
        from tests import pg  # noqa: F401
    except ImportError:
        from core.testing import pg

        sys.modules["tests.pg"] = tests.pg = pg

USERNAME = "benchuser"
PASSWORD = "bench password 1"
YEAR_START = date(2025, 1, 1)
DAYS = 730
REPORT_FROM, REPORT_TO = date(2026, 1, 1), date(2026, 12, 31)
BUDGET = 0.10
#: companies 2 to 5 of the five-company instance: legal name, country, currency, locale
OTHERS = (("Nordlys Vertrieb GmbH", "DE", "EUR", "de"), ("Nordlys Sverige AB", "SE", "SEK", "sv"),
          ("Nordlys Polska Sp. z o.o.", "PL", "PLN", "pl"), ("Nordlys Suomi Oy", "FI", "EUR", "fi"))
PAGES = {
    "parties": "/parties",
    "invoices": "/accounting/invoices",
    "trial_balance": f"/accounting/reports/trial-balance?date_from={REPORT_FROM}&date_to={REPORT_TO}",
}
MEASURES = (("parties", "party list, first page"), ("invoices", "invoice list, first page"),
            ("trial_balance", "trial balance of 2026"))
INSTANCES = (("one", "one company, all rows"), ("five", "five companies, company 1"),
             ("fifth", "one company, company 1's rows only"))


# --------------------------------------------------------------------------------------------------
# Building the instances


def timed_step(label: str):
    class Step:
        def __enter__(self):
            self.t0 = time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.t0
            if exc[0] is None:
                log(f"    {label} in {self.seconds:.1f} s")
    return Step()


def build_base(dbs: Databases, parties: int, modules: list[str]) -> dict:
    """The base database: initialised, accounting and the CRM installed, the user and the parties."""
    from core.auth.services import ADMIN_ROLE, create_user
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    url, instance = dbs.initialised()
    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    figures = {}
    with timed_step(f"{' and '.join(modules)} installed") as step:
        install(ModuleContext(engine, factory, discover(()), instance), modules)
    figures["install_s"] = step.seconds
    with factory() as db:
        create_user(db, USERNAME, password=PASSWORD, roles=[ADMIN_ROLE])
        db.commit()
    dispose_engine(url)
    with timed_step(f"{parties:,} parties") as step:
        datagen.generate(url, parties)
    figures["parties_s"] = step.seconds
    dispose_engine(url)
    return {"url": url, "figures": figures}


@dataclass
class Instance:
    name: str
    url: str
    path: Path
    companies: list[int]
    lines_per_company: int
    invoices_per_company: int
    engine: object = None
    factory: object = None
    app: object = None
    client: object = None
    user_id: int = 0
    figures: dict = field(default_factory=dict)


def make_instance(dbs: Databases, base_url: str, name: str, args) -> Instance:
    """A copy of the base with its companies, fiscal years, lines and invoices."""
    from core.actor import acting_as
    from core.app import create_app
    from core.auth.models import User
    from core.company.services import create_company
    from core.db import get_engine, make_sessionmaker
    from sqlalchemy import select

    dbs.template = base_url
    url, path = dbs.initialised()
    n_companies = 5 if name == "five" else 1
    share = 1 if name == "one" else 5
    inst = Instance(name, url, path, [], args.lines // share, args.invoices // share)
    log(f"  instance {name!r}: {n_companies} compan{'ies' if n_companies > 1 else 'y'}, "
        f"{inst.lines_per_company * n_companies:,} lines, {inst.invoices_per_company * n_companies:,} invoices")
    inst.engine = get_engine(url)
    inst.factory = make_sessionmaker(inst.engine)
    inst.app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(path), "MARKETPLACE": ""})
    with inst.app.app_context(), acting_as(None, "bench: companies"):
        with inst.factory() as db:
            user = db.execute(select(User).where(User.username == USERNAME)).scalar_one()
            inst.user_id = user.id
            with timed_step(f"{n_companies - 1} companies created") as step:
                for legal_name, country, currency, locale in OTHERS[:n_companies - 1]:
                    create_company(db, {"legal_name": legal_name, "country": country, "base_currency": currency,
                                        "locale": locale}, members=[user])
                db.commit()
            inst.figures["create_companies_s"] = step.seconds
            from core.company.models import Company

            inst.companies = sorted(db.execute(select(Company.id)).scalars())
        books = {company: prepare_books(inst.factory, company) for company in inst.companies}
        with timed_step("lines written") as step:
            load_lines(inst.engine, books, inst.lines_per_company)
        inst.figures["lines_s"] = step.seconds
        with timed_step("invoices written") as step:
            load_invoices(inst.engine, inst.factory, books, inst.invoices_per_company)
        inst.figures["invoices_s"] = step.seconds
    analyse(inst.engine)
    return inst


def prepare_books(factory, company: int) -> dict:
    """Fiscal years 2025 and 2026 of ``company``; the ids and the currency the fixture needs."""
    from sqlalchemy import select

    from core.company.models import Company
    from core.company.scope import in_company
    from plugins.accounting.ledger import years
    from plugins.accounting.ledger.models import Account, FiscalYear, Journal

    with in_company(company), factory() as db:
        for start in (date(2025, 1, 1), date(2026, 1, 1)):
            if db.execute(select(FiscalYear.id).where(FiscalYear.start_date == start)).scalar() is None:
                years.create_fiscal_year(db, start)
        db.commit()
        accounts = [i for (i,) in db.execute(select(Account.id).where(Account.postable.is_(True))
                                             .order_by(Account.code)).all()]
        kinds = dict(db.execute(select(Account.kind, Account.id).where(Account.postable.is_(True))
                                .order_by(Account.code.desc())).all())
        journal = db.execute(select(Journal.id).where(Journal.code == "GEN")).scalar_one()
        fiscal_years = dict(db.execute(select(FiscalYear.start_date, FiscalYear.id)).all())
        currency = db.execute(select(Company.base_currency).where(Company.id == company)).scalar_one()
    return {"company": company, "accounts": accounts, "receivable": kinds.get("receivable", accounts[0]),
            "journal": journal, "years": {d.year: i for d, i in fiscal_years.items()}, "currency": currency}


def company_entries(books: dict, n_lines: int):
    """``n_lines / 2`` two-line entries of one company, in date order: (day, company, amounts…).

    Seeded by the company's position in the group (its id), so company 1 gets the same rows in
    every instance."""
    rng = random.Random(1000 + books["company"])
    receivable, accounts = books["receivable"], books["accounts"]
    others = [a for a in accounts if a != receivable]
    n_entries = n_lines // 2
    for i in range(n_entries):
        day = YEAR_START + timedelta(days=i * DAYS // n_entries)
        amount = rng.randint(1, 10_000_000)  # cents
        if i % 5 == 0:
            debit_account, credit_account = receivable, rng.choice(others)
        else:
            debit_account, credit_account = rng.sample(others, 2)
        yield day, books["company"], i, amount, debit_account, credit_account


ENTRY_COLUMNS = ("id, company_id, journal_id, date, reference, narration, state, fiscal_year_id, sequence, number, "
                 "posted_at, source, previous_hash, hash, created_at")
LINE_COLUMNS = "id, company_id, entry_id, account_id, description, debit, credit, date, journal_id, state"


def load_lines(engine, books: dict[int, dict], per_company: int) -> None:
    """Every company's entries and lines, interleaved by date, in one transaction (executemany on
    SQLite, COPY on PostgreSQL); the journals' sequences follow."""
    sqlite = engine.dialect.name == "sqlite"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    sequences: dict[tuple[int, int], int] = {}
    entries, lines = [], []
    entry_id = line_id = 0
    merged = heapq.merge(*(company_entries(b, per_company) for b in books.values()), key=lambda row: row[:2])
    for day, company, _i, amount, debit_account, credit_account in merged:
        b = books[company]
        year_id = b["years"][day.year]
        key = (b["journal"], year_id)
        sequences[key] = sequence = sequences.get(key, 0) + 1
        entry_id += 1
        when = day.isoformat() if sqlite else day
        entries.append((entry_id, company, b["journal"], when, "", "", "draft", year_id, sequence,
                        f"GEN/{day.year}/{sequence:07d}", now, "", "", "", now))
        value = amount if sqlite else f"{amount // 100}.{amount % 100:02d}"
        zero = 0 if sqlite else "0.00"
        for account_id, debit, credit in ((debit_account, value, zero), (credit_account, zero, value)):
            line_id += 1
            lines.append((line_id, company, entry_id, account_id, "", debit, credit, when, b["journal"], "posted"))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(f"INSERT INTO accounting_entry ({ENTRY_COLUMNS}) VALUES ({', '.join('?' * 15)})", entries)
            cursor.executemany(f"INSERT INTO accounting_line ({LINE_COLUMNS}) VALUES ({', '.join('?' * 10)})", lines)
        else:
            with cursor.copy(f"COPY accounting_entry ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                for row in entries:
                    copy.write_row(row)
            with cursor.copy(f"COPY accounting_line ({LINE_COLUMNS}) FROM STDIN") as copy:
                for row in lines:
                    copy.write_row(row)
            for table in ("accounting_entry", "accounting_line"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("UPDATE accounting_entry SET state = 'posted'")
        for (journal_id, year_id), last in sequences.items():
            cursor.execute("DELETE FROM accounting_journal_sequence WHERE journal_id = %d AND fiscal_year_id = %d"
                           % (journal_id, year_id))
            cursor.execute("INSERT INTO accounting_journal_sequence (journal_id, fiscal_year_id, next_number) "
                           f"VALUES ({journal_id}, {year_id}, {last + 1})")
        raw.commit()
    finally:
        raw.close()


#: (kind, number prefix, share in a hundred); the invoice list shows the customer kinds
INVOICE_KINDS = (("out_invoice", "INV", 75), ("out_refund", "RINV", 5), ("in_invoice", "BILL", 20))


def company_invoices(books: dict, count: int, parties: tuple[int, int]):
    """``count`` issued documents of one company in date order: (day, company, row)."""
    rng = random.Random(2000 + books["company"])
    sequences: dict[tuple[str, int], int] = {}
    kinds = [k for k, _p, share in INVOICE_KINDS for _ in range(share)]
    prefixes = {k: p for k, p, _s in INVOICE_KINDS}
    for i in range(count):
        day = YEAR_START + timedelta(days=i * DAYS // max(count, 1))
        kind = rng.choice(kinds)
        key = (kind, day.year)
        sequences[key] = sequence = sequences.get(key, 0) + 1
        untaxed = Decimal(rng.randint(1_000, 5_000_000)) / 100
        tax = (untaxed * Decimal("0.25")).quantize(Decimal("0.01"))
        paid = rng.random() < 0.6 and day < date(2026, 10, 1)
        yield day, books["company"], {
            "company_id": books["company"], "kind": kind, "number": f"{prefixes[kind]}/{day.year}/{sequence:06d}",
            "party_id": rng.randint(*parties), "invoice_date": day, "due_date": day + timedelta(days=14),
            "payment_terms_days": 14, "currency": books["currency"], "rate": Decimal(1),
            "state": "paid" if paid else "posted", "amount_untaxed": untaxed, "amount_tax": tax,
            "amount_total": untaxed + tax, "amount_residual": Decimal("0.00") if paid else untaxed + tax,
            "reference": f"PO-{rng.randint(10_000, 99_999)}", "notes": "",
        }


def load_invoices(engine, factory, books: dict[int, dict], per_company: int) -> None:
    """Every company's invoices, interleaved by date, with SQLAlchemy Core's executemany."""
    from sqlalchemy import func, insert, select

    from core import Party
    from core.db import utcnow
    from plugins.accounting.invoicing.models import Invoice

    with factory() as db:
        parties = db.execute(select(func.min(Party.id), func.max(Party.id))).one()
    now = utcnow()
    merged = heapq.merge(*(company_invoices(b, per_company, parties) for b in books.values()),
                         key=lambda row: row[:2])
    batch = []
    with engine.begin() as conn:
        for _day, _company, row in merged:
            row.update(created_at=now, posted_at=now)
            batch.append(row)
            if len(batch) == 5_000:
                conn.execute(insert(Invoice.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Invoice.__table__), batch)


def analyse(engine) -> None:
    """PostgreSQL: fresh statistics and visibility maps, as autovacuum keeps them after a load.

    SQLite: nothing. Kontor never runs ANALYZE there, so its planner works without statistics,
    as it does here. (Beware: on Kontor's SQLite engine a connection opened with
    ``isolation_level="AUTOCOMMIT"`` still begins a transaction, and one closed without a commit
    rolls back what ran in it, ANALYZE and CREATE INDEX included.)"""
    if engine.dialect.name == "sqlite":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("accounting_line", "accounting_entry", "accounting_invoice", "core_party"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
        conn.exec_driver_sql("ANALYZE")


# --------------------------------------------------------------------------------------------------
# Measuring


def sign_in(inst: Instance) -> None:
    """A test client over the in-process dispatcher, signed in as the measured user."""
    from werkzeug.test import Client

    from core.wsgi import Dispatcher

    inst.client = Client(Dispatcher({"DATABASE_URL": inst.url, "INSTANCE_PATH": str(inst.path)}))
    page = inst.client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', page).group(1)
    response = inst.client.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"{inst.name}: sign-in failed, HTTP {response.status_code}")


def page_call(inst: Instance, path: str):
    def call():
        response = inst.client.get(path)
        body = response.get_data(as_text=True)
        if response.status_code != 200:
            raise RuntimeError(f"{inst.name}: {path} answered HTTP {response.status_code}")
        return body
    return call


def service_calls(inst: Instance, db, unfiltered: bool = False) -> dict:
    """The three service calls over ``db``, acting as the measured user (``unfiltered``: under
    ``all_companies()``)."""
    from contextlib import ExitStack

    from sqlalchemy.orm import selectinload

    from core.actor import acting_as
    from core.auth.models import User
    from core.company.scope import all_companies
    from core.db import reading_transactions
    from core.parties.services import list_parties
    from core.web.listing import keyset_page
    from plugins.accounting.invoicing import services as invoicing
    from plugins.accounting.invoicing.models import CUSTOMER_KINDS, Invoice
    from plugins.accounting.reports.trial_balance import trial_balance

    size = inst.app.config["PAGE_SIZE"]

    def run(fn):
        def call():
            # as a GET request reads: a deferred transaction (SQLite), ended after the call
            with ExitStack() as stack:
                stack.enter_context(inst.app.app_context())
                stack.enter_context(reading_transactions())
                stack.callback(db.rollback)
                user = db.get(User, inst.user_id)
                stack.enter_context(acting_as(user, "bench"))
                if unfiltered:
                    stack.enter_context(all_companies())
                return fn()
        return call

    def invoices():
        stmt = invoicing.invoices_query(kinds=CUSTOMER_KINDS).options(selectinload(Invoice.party))
        page = keyset_page(db, stmt, sort_keys=invoicing.SORT_KEYS, id_column=Invoice.id, sort="-date",
                           cursor=None, size=size)
        return [(i.number, i.amount_total) for i in page.rows]

    def tb():
        report = trial_balance(db, REPORT_FROM, REPORT_TO)
        return [(row.code, *row.values) for row in report.rows], report.totals

    return {"parties": run(lambda: [p.id for p in list_parties(db, limit=size).rows]),
            "invoices": run(invoices), "trial_balance": run(tb)}


def captured_statements(engine, fn) -> list[tuple[str, object]]:
    """The SQL statements (with their parameters) that ``fn()`` runs."""
    from sqlalchemy import event

    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def query_plans(engine, statements, tables: tuple[str, ...]) -> list[dict]:
    """The plans of the statements that read ``tables``."""
    sqlite = engine.dialect.name == "sqlite"
    plans = []
    for statement, parameters in statements:
        if not any(t in statement for t in tables):
            continue
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) ") + statement,
                           parameters)
            rows = cursor.fetchall()
            plan = [" ".join(str(c) for c in row[1:]) if sqlite else row[0] for row in rows]
            raw.rollback()
        finally:
            raw.close()
        plans.append({"sql": " ".join(statement.split()), "plan": plan})
    return plans


PLAN_TABLES = {"parties": ("core_party",), "invoices": ("accounting_invoice",),
               "trial_balance": ("accounting_line",)}


def measure_all(instances: list[Instance], args) -> dict:
    """Every measure in every instance: {instance: {"page:<m>" / "service:<m>" / "unfiltered:<m>": [ms …]}}."""
    sessions = {inst.name: inst.factory() for inst in instances}
    calls: dict[str, dict] = {}
    results: dict[str, dict] = {}
    checks: dict[str, dict] = {}
    for inst in instances:
        sign_in(inst)
        db = sessions[inst.name]
        services = service_calls(inst, db)
        calls[inst.name] = {}
        for key, _label in MEASURES:
            calls[inst.name][f"page:{key}"] = page_call(inst, PAGES[key])
            calls[inst.name][f"service:{key}"] = services[key]
        if inst.name == "one":
            for key, fn in service_calls(inst, db, unfiltered=True).items():
                calls[inst.name][f"unfiltered:{key}"] = fn
        results[inst.name] = {f"{cpu}{name}": [] for name in calls[inst.name] for cpu in ("", "cpu:")}
        # warm-up, and what the service calls return (compared between instances below)
        checks[inst.name] = {name: fn() for name, fn in calls[inst.name].items() if name.startswith("service:")}
        for name, fn in calls[inst.name].items():
            fn()
    order = [inst.name for inst in instances]
    kinds = list(dict.fromkeys(what for name in order for what in calls[name]))
    for run in range(args.runs):
        for what in kinds:
            spent = {name: [0.0, 0.0] for name in order if what in calls[name]}
            for n in range(args.repeat):
                turn = run * args.repeat + n
                for name in order[turn % len(order):] + order[:turn % len(order)]:
                    if name in spent:
                        t0, c0 = time.perf_counter(), time.process_time()
                        calls[name][what]()
                        spent[name][0] += time.perf_counter() - t0
                        spent[name][1] += time.process_time() - c0
            for name, (seconds, cpu) in spent.items():
                results[name][what].append(seconds * 1000 / args.repeat)
                results[name][f"cpu:{what}"].append(cpu * 1000 / args.repeat)
        log(f"    run {run + 1}/{args.runs} done")
    for db in sessions.values():
        db.close()
    return {"times": results, "checks": checks}


def compare(checks: dict) -> list[str]:
    """What company 1 sees in the five-company instance must be what the instance of its rows
    alone shows; the one-company instance's unfiltered figures are its filtered ones."""
    problems = []
    if "five" in checks and "fifth" in checks:
        five, fifth = checks["five"], checks["fifth"]
        for key, _label in MEASURES:
            if five[f"service:{key}"] != fifth[f"service:{key}"]:
                problems.append(f"{key}: company 1 in the five-company instance sees other figures than "
                                "the instance holding its rows alone")
    return problems


def cost(times: dict, measure: str) -> dict:
    """The medians and the ratios of one measure."""
    med = {name: statistics.median(t[measure]) for name, t in times.items() if measure in t}
    out = {f"{name}_ms": value for name, value in med.items()}
    if "one" in med and "five" in med:
        out["five_over_one"] = med["five"] / med["one"]
    if "fifth" in med and "five" in med:
        out["filter_cost"] = med["five"] / med["fifth"] - 1
    cpu = {name: statistics.median(t[f"cpu:{measure}"]) for name, t in times.items() if f"cpu:{measure}" in t}
    if "fifth" in cpu and "five" in cpu:
        out["cpu_ms"] = cpu
        out["filter_cost_cpu"] = cpu["five"] / cpu["fifth"] - 1
    return out


def summary(times: dict) -> dict:
    out = {}
    for key, _label in MEASURES:
        for how in ("page", "service"):
            out[f"{how}:{key}"] = cost(times, f"{how}:{key}")
        one = times.get("one", {})
        if f"unfiltered:{key}" in one:
            filtered, bare = statistics.median(one[f"service:{key}"]), statistics.median(one[f"unfiltered:{key}"])
            out[f"service:{key}"]["one_unfiltered_ms"] = bare
            out[f"service:{key}"]["scope_overhead"] = filtered / bare - 1
    return out


def instance_plans(inst: Instance) -> dict:
    """{measure: the plans of the statements one service call runs} in ``inst``."""
    with inst.app.app_context():
        db = inst.factory()
        try:
            return {key: query_plans(inst.engine, captured_statements(inst.engine, fn), PLAN_TABLES[key])
                    for key, fn in service_calls(inst, db).items()}
        finally:
            db.close()


def add_indexes(instances: list[Instance], statements: list[str]) -> None:
    for inst in instances:
        with inst.engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
        analyse(inst.engine)


def measure(backend: str, dbs: Databases, args) -> dict:
    """Build the three instances on one backend and measure them; the figures (and the error of a
    failed section)."""
    figures: dict = {"backend": backend, "sections": {}}
    instances: list[Instance] = []
    try:
        base = build_base(dbs, args.parties, args.modules.split(","))
        figures["base"] = base["figures"]
        for name, _label in INSTANCES:
            inst = make_instance(dbs, base["url"], name, args)
            instances.append(inst)
            figures.setdefault("build", {})[name] = inst.figures
        with instances[0].app.app_context():
            figures["counts"] = counts(instances)
        variants = [("", [])] + ([("with the tried indexes", args.try_index)] if args.try_index else [])
        for variant, indexes in variants:
            if indexes:
                log(f"  adding {len(indexes)} index(es) to every instance")
                add_indexes(instances, indexes)
            log(f"  measuring{' ' + variant if variant else ''}: {args.runs} runs of {args.repeat} calls")
            measured = measure_all(instances, args)
            problems = compare(measured["checks"])
            plans = {inst.name: instance_plans(inst) for inst in instances}
            figures["sections"][variant or "plain"] = {
                "times": measured["times"], "summary": summary(measured["times"]), "plans": plans,
                "problems": problems, "indexes": indexes,
            }
            for problem in problems:
                log(f"  PROBLEM: {problem}")
    except Exception as exc:  # noqa: BLE001 - a failed section is reported, the others still print
        log(f"  FAILED: {exc!r}")
        figures["error"] = traceback.format_exc()
    finally:
        for inst in instances:
            if inst.client is not None:
                inst.client.application.close()
            inst.engine.dispose()
        from core.db import dispose_engines

        dispose_engines()
        for inst in instances:
            dbs.drop(inst.url)
    return figures


def counts(instances: list[Instance]) -> dict:
    """Rows per table and company in each instance (what the figures are over)."""
    from sqlalchemy import text

    out = {}
    for inst in instances:
        with inst.engine.connect() as conn:
            out[inst.name] = {table: dict(conn.execute(text(
                f"SELECT company_id, count(*) FROM {table} GROUP BY company_id ORDER BY company_id")).all())
                for table in ("accounting_line", "accounting_invoice")}
            out[inst.name]["core_party"] = conn.execute(text("SELECT count(*) FROM core_party")).scalar_one()
    return out


# --------------------------------------------------------------------------------------------------
# Reporting


def pct(value: float) -> str:
    return f"{value * 100:+.1f}%"


def table(results: list[dict]) -> str:
    rows = ["| backend | measure | one company (ms) | five companies (ms) | five ÷ one | "
            "company 1's rows alone (ms) | filter cost | filter cost, CPU time | scope vs no filter |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        for variant, section in result.get("sections", {}).items():
            suffix = "" if variant == "plain" else f" ({variant})"
            for key, label in MEASURES:
                for how, what in (("page", "page"), ("service", "service")):
                    s = section["summary"][f"{how}:{key}"]
                    spread = {name: (min(t), max(t)) for name, t in
                              ((n, section["times"][n][f"{how}:{key}"]) for n in section["times"])}
                    cells = [f"{s[f'{n}_ms']:.1f} ({spread[n][0]:.1f} – {spread[n][1]:.1f})" for n in ("one", "five", "fifth")]
                    mark = " ✗" if s["filter_cost"] > BUDGET else ""
                    overhead = pct(s["scope_overhead"]) if "scope_overhead" in s else ""
                    cpu = pct(s["filter_cost_cpu"]) if result["backend"] == "sqlite" else "–"
                    rows.append(f"| {result['backend']} | {label}: {what}{suffix} | {cells[0]} | {cells[1]} | "
                                f"{s['five_over_one']:.2f}× | {cells[2]} | {pct(s['filter_cost'])}{mark} | {cpu} | "
                                f"{overhead} |")
    return "\n".join(rows)


def over_budget(results: list[dict]) -> list[tuple[str, str, str, str]]:
    out = []
    for result in results:
        for variant, section in result.get("sections", {}).items():
            for key, _label in MEASURES:
                for how in ("page", "service"):
                    if section["summary"][f"{how}:{key}"]["filter_cost"] > BUDGET:
                        out.append((result["backend"], variant, how, key))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true", help="with --postgres: PostgreSQL only")
    parser.add_argument("--lines", type=int, default=1_000_000, help="ledger lines in all (default 1,000,000)")
    parser.add_argument("--parties", type=int, default=100_000, help="parties, shared by the group (default 100,000)")
    parser.add_argument("--invoices", type=int, default=100_000, help="invoice rows in all (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the warm-up (default 5)")
    parser.add_argument("--repeat", type=int, default=5, help="calls a run, averaged (default 5)")
    parser.add_argument("--modules", default="accounting,crm", help="the modules installed (default accounting,crm)")
    parser.add_argument("--try-index", action="append", default=[], metavar="SQL",
                        help="measure again after running this CREATE INDEX in every instance (repeatable)")
    args = parser.parse_args(argv)
    started = time.time()
    load_start = os.getloadavg()
    _throwaway_postgres_importable()
    backends = (["sqlite"] if not args.skip_sqlite else []) + (["postgresql"] if args.postgres else [])
    results = [measure(backend, dbs, args) for backend, dbs in each_backend(backends, "kbench-companies-")]
    print(f"{args.lines:,} ledger lines, {args.invoices:,} invoices, {args.parties:,} parties; "
          f"median (min – max) of {args.runs} runs of {args.repeat} calls, in process; "
          f"filter cost = five companies ÷ company 1's rows alone − 1 (budget {BUDGET:.0%})")
    print(table(results))
    for backend, variant, how, key in over_budget(results):
        section = next(r for r in results if r["backend"] == backend)["sections"][variant]
        print(f"\nover budget: {backend} {key} ({how}, {variant}); plans of the service's statements:")
        for name in ("five", "fifth"):
            print(f"  in {dict(INSTANCES)[name]}:")
            for plan in section["plans"][name][key]:
                print(f"    {plan['sql'][:240]}")
                for line in plan["plan"]:
                    print(f"      {line}")
    failed = [r["backend"] for r in results if "error" in r or any(s["problems"] for s in r["sections"].values())]
    for r in results:
        if "error" in r:
            print(f"\n{r['backend']} FAILED:\n{r['error']}")
        for variant, s in r.get("sections", {}).items():
            for problem in s["problems"]:
                print(f"{r['backend']} ({variant}) PROBLEM: {problem}")
    load_end = os.getloadavg()
    print("load average (1, 5, 15 min): start {:.2f} {:.2f} {:.2f}, end {:.2f} {:.2f} {:.2f}; {} CPUs; {:.0f} s"
          .format(*load_start, *load_end, os.cpu_count(), time.time() - started))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"companies-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"args": vars(args), "results": results, "load_start": load_start,
                                "load_end": load_end, "cpus": os.cpu_count(),
                                "seconds": time.time() - started}, indent=2, default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    if failed:
        return 1
    return 2 if over_budget(results) else 0


if __name__ == "__main__":
    sys.exit(main())
