"""Financial reports over a million posted ledger lines, against the plain SQL floor.

    .venv/bin/python bench/accounting_reports.py              # SQLite, medians of 5 runs
    .venv/bin/python bench/accounting_reports.py --postgres   # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/accounting_reports.py --lines 200000 --runs 3   # a quicker run

Each backend gets a fresh initialised database (bench/run.py's ``Databases``) with the accounting
module installed, then ``--lines`` posted lines (two-line entries in the general journal over two
fiscal years; one account in ten lines is the receivable account, so it holds a tenth of the
lines). The fixture writes rows the way ``post_batch`` does (entries as drafts, their lines, then
one UPDATE posting the entries) with the driver's bulk path (executemany on SQLite, COPY on
PostgreSQL), without hashes or audit records: it is a benchmark fixture, not a posting test.

Measured, each the median of ``--runs`` runs after one warm-up:
- the trial balance service (``reports.trial_balance.trial_balance``, in a session, as the page calls
  it) over the whole year, against the SQL floor: the plain ``SELECT account_id, SUM(debit),
  SUM(credit) FROM accounting_line GROUP BY account_id`` through the raw driver, and the service's own
  statement run through the raw driver (what the ORM layer adds);
- the first page (100 lines with their running balance) of the general ledger of the receivable
  account, a page in the middle of it (reached by its cursor), and the period's totals of that
  account (one aggregate over all its lines, which the page loads after the lines).

With ``--tryton-python PATH`` it also runs Tryton's ``balance`` peer benchmark
(``shared/peers/tryton/bench.py balance --n 10000``, see that folder's README) in the same sitting.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from run import RESULTS, Databases, each_backend, in_app, log  # noqa: E402

YEAR_START = date(2025, 1, 1)
DAYS = 730
RECEIVABLE = "1200"
COVERING = "ix_bench_accounting_line_account_state_date_amounts"
PEER = ROOT.parent / "shared" / "peers" / "tryton" / "bench.py"


def timed(fn, runs: int) -> tuple[list[float], object]:
    """One warm-up call, then ``runs`` timed calls; the times in ms and the last result."""
    result = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


def install_accounting(url: str, instance: Path):
    """Install the accounting module in process; an engine and a sessionmaker on the database."""
    from core.db import get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    t0 = time.perf_counter()
    install(ModuleContext(engine, factory, discover(()), instance), ["accounting"])
    log(f"  accounting installed in {time.perf_counter() - t0:.2f} s")
    return engine, factory


def prepare_books(factory) -> dict:
    """Fiscal years 2025 and 2026; the ids the fixture needs."""
    from sqlalchemy import select

    from plugins.accounting.ledger import years
    from plugins.accounting.ledger.models import Account, FiscalYear, Journal

    with factory() as db:
        for start in (date(2025, 1, 1), date(2026, 1, 1)):
            if db.execute(select(FiscalYear.id).where(FiscalYear.start_date == start)).scalar() is None:
                years.create_fiscal_year(db, start)
        db.commit()
        accounts = dict(db.execute(select(Account.code, Account.id).where(Account.postable.is_(True))).all())
        journal = db.execute(select(Journal.id).where(Journal.code == "GEN")).scalar_one()
        fiscal_years = dict(db.execute(select(FiscalYear.start_date, FiscalYear.id)).all())
    return {"accounts": accounts, "journal": journal, "years": {d.year: i for d, i in fiscal_years.items()}}


def generate(books: dict, n_lines: int, sqlite: bool):
    """Entry rows and line rows of ``n_lines / 2`` two-line entries, in date order."""
    rng = random.Random(42)
    receivable = books["accounts"][RECEIVABLE]
    others = [i for code, i in books["accounts"].items() if code != RECEIVABLE]
    n_entries = n_lines // 2
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    sequences: dict[int, int] = {}
    entries, lines = [], []
    line_id = 0
    for i in range(n_entries):
        day = YEAR_START + timedelta(days=i * DAYS // n_entries)
        year_id = books["years"][day.year]
        sequences[year_id] = sequence = sequences.get(year_id, 0) + 1
        entry_id = i + 1
        entries.append((entry_id, books["journal"], day.isoformat() if sqlite else day, "", "", "draft", year_id,
                        sequence, f"GEN/{day.year}/{sequence:07d}", now, "", "", "", now))
        amount = rng.randint(1, 10_000_000)  # cents
        if i % 5 == 0:
            debit_account, credit_account = receivable, rng.choice(others)
        else:
            debit_account, credit_account = rng.sample(others, 2)
        value = amount if sqlite else f"{amount // 100}.{amount % 100:02d}"
        zero = 0 if sqlite else "0.00"
        for account_id, debit, credit in ((debit_account, value, zero), (credit_account, zero, value)):
            line_id += 1
            lines.append((line_id, entry_id, account_id, "", debit, credit, day.isoformat() if sqlite else day,
                          books["journal"], "posted"))
    return entries, lines, sequences


ENTRY_COLUMNS = ("id, journal_id, date, reference, narration, state, fiscal_year_id, sequence, number, posted_at, "
                 "source, previous_hash, hash, created_at")
LINE_COLUMNS = "id, entry_id, account_id, description, debit, credit, date, journal_id, state"


def load_lines(engine, books: dict, n_lines: int) -> float:
    """Write the fixture; returns the seconds it took (generation included)."""
    sqlite = engine.dialect.name == "sqlite"
    t0 = time.perf_counter()
    entries, lines, sequences = generate(books, n_lines, sqlite)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(f"INSERT INTO accounting_entry ({ENTRY_COLUMNS}) VALUES ({', '.join('?' * 14)})", entries)
            cursor.executemany(f"INSERT INTO accounting_line ({LINE_COLUMNS}) VALUES ({', '.join('?' * 9)})", lines)
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
        for year_id, last in sequences.items():
            cursor.execute("INSERT INTO accounting_journal_sequence (journal_id, fiscal_year_id, next_number) "
                           f"VALUES ({books['journal']}, {year_id}, {last + 1})")
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if sqlite else "VACUUM ANALYZE accounting_line")
        if not sqlite:
            conn.exec_driver_sql("VACUUM ANALYZE accounting_entry")
    return time.perf_counter() - t0


def raw_query(engine, sql: str, params=()):
    """Run ``sql`` through the raw driver connection and fetch every row."""
    def run():
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            raw.close()
    return run


def time_reports(engine, factory, books: dict, runs: int, backend: str) -> dict:
    """Time the trial balance (service, floor, the service's SQL raw) and two ledger pages."""
    from sqlalchemy import func, select
    from sqlalchemy.dialects import postgresql, sqlite as sqlite_dialect

    from plugins.accounting.ledger.models import Line
    from plugins.accounting.reports import general_ledger as ledger_report, trial_balance as trial_balance_report

    figures = {}
    date_from, date_to = date(2026, 1, 1), date(2026, 12, 31)
    with factory() as db:
        def service():
            db.rollback()
            return trial_balance_report.trial_balance(db, date_from, date_to)

        times, report = timed(service, runs)
        assert report.totals[0] == 0 and report.totals[3] == 0 and report.totals[1] == report.totals[2]
        figures["trial_balance_ms"] = times

        floor_sql = "SELECT account_id, SUM(debit), SUM(credit) FROM accounting_line GROUP BY account_id"
        times, floor_rows = timed(raw_query(engine, floor_sql), runs)
        figures["floor_group_by_ms"] = times
        assert len(floor_rows) == len(report.rows)

        dialect = sqlite_dialect.dialect() if backend == "sqlite" else postgresql.dialect()
        service_sql = [str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                       for stmt in trial_balance_report.account_figures_statements(date_from, date_to, backend)]
        times, _rows = timed(lambda: [raw_query(engine, sql)() for sql in service_sql], runs)
        figures["service_sql_raw_ms"] = times

        def first_page():
            db.rollback()
            return ledger_report.general_ledger(db, RECEIVABLE, YEAR_START, date_to, totals=False)

        times, page = timed(first_page, runs)
        assert len(page.lines) == 100
        figures["ledger_first_page_ms"] = times
        figures["ledger_account_lines"] = db.execute(
            select(func.count()).where(Line.account_id == books["accounts"][RECEIVABLE])
        ).scalar_one()

        middle = db.execute(
            select(Line.date, Line.id)
            .where(Line.account_id == books["accounts"][RECEIVABLE])
            .order_by(Line.date, Line.id).offset(figures["ledger_account_lines"] // 2).limit(1)).one()
        cursor = ledger_report.encode_position(middle[0], middle[1])

        def middle_page():
            db.rollback()
            return ledger_report.general_ledger(db, RECEIVABLE, YEAR_START, date_to, after=cursor, totals=False)

        times, page = timed(middle_page, runs)
        assert len(page.lines) == 100
        figures["ledger_middle_page_ms"] = times

        def totals():
            db.rollback()
            return ledger_report.general_ledger_totals(db, RECEIVABLE, YEAR_START, date_to)

        figures["ledger_totals_ms"], _totals = timed(totals, runs)
    return figures


def measure(backend: str, dbs: Databases, n_lines: int, runs: int, covering: bool) -> dict:
    """A fresh database with the fixture; the figures, and with ``covering`` those after adding
    an index that holds the amounts too (so sums read the index alone)."""
    url, instance = dbs.initialised()
    engine, factory = install_accounting(url, instance)
    with in_app(url, instance):
        books = prepare_books(factory)
        log(f"  writing {n_lines:,} posted lines …")
        seconds = load_lines(engine, books, n_lines)
        log(f"  fixture written in {seconds:.1f} s")
        figures = {"backend": backend, "lines": n_lines, "fixture_s": round(seconds, 1)}
        figures.update(time_reports(engine, factory, books, runs, backend))
        if covering:
            log("  adding the covering index (account_id, state, date, id, debit, credit) …")
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"CREATE INDEX {COVERING} ON accounting_line (account_id, state, date, id, debit, credit)")
                conn.exec_driver_sql("ANALYZE" if backend == "sqlite" else "VACUUM ANALYZE accounting_line")
            figures["covering"] = time_reports(engine, factory, books, runs, backend)
    dbs.drop(url)
    return figures


def tryton(python: str, n: int) -> list[dict]:
    """Tryton's balance peer benchmark (after its ``post`` run when the data is missing)."""
    env = {**os.environ, "TRYTON_BENCH_DATA": os.environ.get("TRYTON_BENCH_DATA", "/tmp/tryton-data")}
    data = Path(env["TRYTON_BENCH_DATA"])
    if not (data / f"post_n{n}.sqlite").exists():
        if not (data / "template.sqlite").exists():
            subprocess.run([python, str(PEER), "install", "--save-template"], env=env, check=True)
        subprocess.run([python, str(PEER), "post", "--n", str(n)], env=env, check=True, capture_output=True)
    done = subprocess.run([python, str(PEER), "balance", "--n", str(n)], env=env, check=True, capture_output=True,
                          text=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


MEASURES = (("trial_balance_ms", "trial balance service"),
            ("floor_group_by_ms", "SQL floor: plain GROUP BY, raw driver"),
            ("service_sql_raw_ms", "the service's statements, raw driver"),
            ("ledger_first_page_ms", "general ledger, first page of 100"),
            ("ledger_middle_page_ms", "general ledger, a page in the middle"),
            ("ledger_totals_ms", "general ledger, the period's totals (loaded after the page)"))


def table(results: list[dict]) -> str:
    """The medians (min – max) as a Markdown table, one column per backend."""
    rows = ["| measure | " + " | ".join(r["backend"] for r in results) + " |", "|---|" + "---:|" * len(results)]
    variants = [("", lambda r: r)] + ([(" (covering index)", lambda r: r["covering"])]
                                      if all("covering" in r for r in results) else [])
    for suffix, pick in variants:
        for key, label in MEASURES:
            cells = [f"{statistics.median(pick(r)[key]):.1f} ms ({min(pick(r)[key]):.1f} – {max(pick(r)[key]):.1f})"
                     for r in results]
            rows.append(f"| {label}{suffix} | " + " | ".join(cells) + " |")
        rows.append(f"| trial balance ÷ floor{suffix} | " + " | ".join(
            f"{statistics.median(pick(r)['trial_balance_ms']) / statistics.median(pick(r)['floor_group_by_ms']):.2f}×"
            for r in results) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--skip-sqlite", action="store_true", help="with --postgres: PostgreSQL only")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--covering-index", action="store_true",
                        help="measure again after adding an index on (account_id, state, date, id, debit, credit)")
    parser.add_argument("--tryton-python", default="", help="run Tryton's balance peer benchmark with this Python")
    parser.add_argument("--tryton-n", type=int, default=10000)
    args = parser.parse_args(argv)
    results = [measure(backend, dbs, args.lines, args.runs, args.covering_index)
               for backend, dbs in each_backend((["sqlite"] if not args.skip_sqlite else []) + (["postgresql"] if args.postgres else []), "kbench-reports-")]
    peer = tryton(args.tryton_python, args.tryton_n) if args.tryton_python else []
    print(table(results))
    for record in peer:
        print(f"tryton {record['op']}: n={record['n']} {record['seconds'] * 1000:.1f} ms "
              f"(floor {record['floor_seconds'] * 1000:.1f} ms, ratio {record['ratio']}×)")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}; {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"accounting-reports-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"results": results, "tryton": peer, "load": os.getloadavg()}, indent=2, default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
