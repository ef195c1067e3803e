"""Posting throughput of the ledger and the accounting module's install time, against the SQL floor.

    .venv/bin/python bench/accounting_posting.py              # SQLite, medians of 3 runs
    .venv/bin/python bench/accounting_posting.py --postgres   # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/accounting_posting.py --tryton-python /tmp/tryton-venv/bin/python

Each run gets a fresh initialised database (bench/run.py's ``Databases``) and measures:
- module install: ``lifecycle.install(ctx, ["accounting"])`` in process, with its default chart,
  journals, fiscal years, currencies and taxes (the currencies area's and the tax area's defaults for
  the company's country);
- one transaction per entry: ``--single`` two-line entries, each ``create_and_post`` + commit
  (numbering with the journal row locked, hash chain, audit records);
- batches: ``--batch-entries`` two-line entries through ``post_batch`` in batches of
  ``--batch-size`` (one commit per batch);
- the SQL floor: the same rows (entries and lines, numbered and hashed) inserted with plain
  executemany in one transaction through the raw driver, no audit.
Every posting run ends with ``verify_chains`` (not timed): the figures are for correct books.

With ``--tryton-python PATH`` it also runs Tryton's ``post`` peer benchmark
(``shared/peers/tryton/bench.py post --n N``, see that folder's README) in the same sitting and
prints the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from run import RESULTS, Databases, each_backend, in_app, log  # noqa: E402

PEER = ROOT.parent / "shared" / "peers" / "tryton" / "bench.py"
ACCOUNTS = ("1200", "4000", "1100", "5100", "6100", "2100")


def install_accounting(url: str, instance: Path):
    """Install accounting in process; (seconds, engine, sessionmaker)."""
    from core.db import get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    ctx = ModuleContext(engine, factory, discover(()), instance)
    t0 = time.perf_counter()
    install(ctx, ["accounting"])
    return time.perf_counter() - t0, engine, factory


def spec(i: int, day: date) -> dict:
    """The i-th two-line entry: alternating accounts, varied amounts."""
    amount = Decimal(i % 9973 + 1).scaleb(-2) + 1
    debit, credit = ACCOUNTS[i % 3 * 2], ACCOUNTS[i % 3 * 2 + 1]
    return {"journal": "GEN", "date": day, "reference": f"bench {i}",
            "lines": [{"account": debit, "debit": amount}, {"account": credit, "credit": amount}]}


def post_single(factory, n: int, day: date) -> float:
    """n entries, one transaction each (create_and_post + commit); entries per second."""
    from plugins.accounting.ledger import services

    t0 = time.perf_counter()
    for i in range(n):
        with factory() as db:
            services.create_and_post(db, **spec(i, day))
            db.commit()
    return n / (time.perf_counter() - t0)


def post_batches(factory, n: int, size: int, day: date) -> float:
    """n entries through post_batch, ``size`` per batch and transaction; entries per second."""
    from plugins.accounting.ledger import services

    t0 = time.perf_counter()
    for start in range(0, n, size):
        with factory() as db:
            services.post_batch(db, [spec(i, day) for i in range(start, min(n, start + size))])
            db.commit()
    return n / (time.perf_counter() - t0)


def sql_floor(engine, n: int, day: date, sqlite: bool) -> float:
    """The same rows, numbered and hashed, inserted with plain executemany in one transaction."""
    import hashlib

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        ph = "?" if sqlite else "%s"
        if sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute("SELECT id, code FROM accounting_account")
        ids = {code: i for i, code in cur.fetchall()}
        cur.execute("SELECT id FROM accounting_journal WHERE code = 'GEN'")
        journal = cur.fetchone()[0]
        cur.execute(f"SELECT id FROM accounting_fiscal_year WHERE start_date <= {ph} AND end_date >= {ph}",
                    (day.isoformat() if sqlite else day,) * 2)
        year = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0), coalesce(max(sequence), 0) FROM accounting_entry")
        first_id, first_seq = cur.fetchone()
        cur.execute("SELECT coalesce(max(id), 0) FROM accounting_line")
        first_line = cur.fetchone()[0]
        t0 = time.perf_counter()
        d = day.isoformat() if sqlite else day
        entries, lines, prev = [], [], ""
        for i in range(n):
            s = spec(i, day)
            eid, seq = first_id + i + 1, first_seq + i + 1
            number = f"FLOOR/{seq:07d}"
            debit = s["lines"][0]["debit"]
            text = f"{prev}\nGEN\n{number}\n{d}\n{s['lines'][0]['account']}||{debit}|0.00||\n" \
                   f"{s['lines'][1]['account']}||0.00|{debit}||"
            digest = hashlib.sha256(text.encode()).hexdigest()
            entries.append((eid, journal, d, s["reference"], "", "posted", year, seq, number, "", prev, digest,
                            "2026-01-01 00:00:00" if sqlite else "2026-01-01T00:00:00+00:00"))
            prev = digest
            cents = int(debit * 100) if sqlite else debit
            zero = 0 if sqlite else Decimal("0.00")
            lines.append((first_line + 2 * i + 1, eid, ids[s["lines"][0]["account"]], "", cents, zero, d, journal,
                          "posted"))
            lines.append((first_line + 2 * i + 2, eid, ids[s["lines"][1]["account"]], "", zero, cents, d, journal,
                          "posted"))
        # posted rows go in directly; the guard triggers still run for each row
        cur.executemany("INSERT INTO accounting_entry (id, journal_id, date, reference, narration, state, fiscal_year_id, "
                        "sequence, number, source, previous_hash, hash, created_at) VALUES "
                        f"({', '.join([ph] * 13)})", [(*e[:4], e[4], "draft", *e[6:]) for e in entries])
        cur.executemany("INSERT INTO accounting_line (id, entry_id, account_id, description, debit, credit, date, "
                        f"journal_id, state) VALUES ({', '.join([ph] * 9)})", lines)
        cur.execute(f"UPDATE accounting_entry SET state = 'posted' WHERE id > {ph}", (first_id,))
        raw.commit()
        return n / (time.perf_counter() - t0)
    finally:
        raw.close()


def verify(factory, expected: int) -> None:
    from plugins.accounting.ledger import services

    with factory() as db:
        checked, breaks = services.verify_chains(db)
    assert not breaks and checked >= expected, (checked, breaks)


def measure(backend: str, dbs: Databases, args) -> dict:
    figures: dict[str, list[float]] = {"install_s": [], "single_per_s": [], "batch_per_s": [], "floor_per_s": []}
    for run in range(args.runs):
        url, instance = dbs.initialised()
        seconds, engine, factory = install_accounting(url, instance)
        figures["install_s"].append(seconds)
        from plugins.accounting.ledger.models import FiscalYear
        from sqlalchemy import select
        with factory() as db:
            year = db.scalar(select(FiscalYear).order_by(FiscalYear.start_date))
            day = year.start_date + timedelta(days=1)
        with in_app(url, instance):
            figures["single_per_s"].append(post_single(factory, args.single, day))
            figures["batch_per_s"].append(post_batches(factory, args.batch_entries, args.batch_size, day))
            verify(factory, args.single + args.batch_entries)
        url2, instance2 = dbs.initialised()
        _s, engine2, _f = install_accounting(url2, instance2)
        figures["floor_per_s"].append(sql_floor(engine2, args.batch_entries, day, backend == "sqlite"))
        log(f"  run {run + 1}: install {seconds:.2f} s, single {figures['single_per_s'][-1]:.0f}/s, "
            f"batch {figures['batch_per_s'][-1]:.0f}/s, floor {figures['floor_per_s'][-1]:.0f}/s")
        from core.db import dispose_engine
        dispose_engine(url)
        dispose_engine(url2)
        dbs.drop(url)
        dbs.drop(url2)
    return {"backend": backend, **figures}


def tryton(python: str, n: int, runs: int) -> list[dict]:
    """Tryton's ``post`` peer benchmark, ``runs`` times."""
    env = {**os.environ, "TRYTON_BENCH_DATA": os.environ.get("TRYTON_BENCH_DATA", "/tmp/tryton-data")}
    if not (Path(env["TRYTON_BENCH_DATA"]) / "template.sqlite").exists():
        subprocess.run([python, str(PEER), "install", "--save-template"], env=env, check=True)
    records = []
    for _ in range(runs):
        done = subprocess.run([python, str(PEER), "post", "--n", str(n)], env=env, check=True, capture_output=True,
                              text=True)
        records += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return records


def _cell(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}} – {max(values):{fmt}})"


def table(results: list[dict], peer: list[dict]) -> str:
    rows = ["| measure | " + " | ".join(r["backend"] for r in results) + " |", "|---|" + "---:|" * len(results)]
    for key, label, fmt in (("install_s", "module install (s)", ".2f"),
                            ("single_per_s", "entries/s, one transaction each", ",.0f"),
                            ("batch_per_s", "entries/s, post_batch", ",.0f"),
                            ("floor_per_s", "entries/s, SQL floor", ",.0f")):
        rows.append(f"| {label} | " + " | ".join(_cell(r[key], fmt) for r in results) + " |")
    rows.append("| post_batch ÷ floor | " + " | ".join(
        f"{statistics.median(r['floor_per_s']) / statistics.median(r['batch_per_s']):.1f}× slower" for r in results) + " |")
    if peer:
        # "post" is create + post of the moves, 1,000 per transaction (its sub-steps are reported too)
        tryton_rate = statistics.median([p["n"] / p["seconds"] for p in peer if p.get("op") == "post"])
        rows.append(f"| Tryton 8.2 create + post, entries/s (SQLite) | {tryton_rate:,.0f} |" +
                    " |" * (len(results) - 1))
        for key, label in (("single_per_s", "one transaction each"), ("batch_per_s", "post_batch")):
            rows.append(f"| ratio to Tryton, {label} | " + " | ".join(
                f"{statistics.median(r[key]) / tryton_rate:.1f}×" for r in results) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=1000, help="entries posted one transaction each")
    parser.add_argument("--batch-entries", type=int, default=10000, help="entries posted through post_batch")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--tryton-python", default="", help="run Tryton's post peer benchmark with this Python")
    parser.add_argument("--tryton-n", type=int, default=2000)
    args = parser.parse_args(argv)
    results = [measure(backend, dbs, args)
               for backend, dbs in each_backend(["sqlite", "postgresql"] if args.postgres else ["sqlite"], "kbench-posting-")]
    peer = tryton(args.tryton_python, args.tryton_n, args.runs) if args.tryton_python else []
    print(table(results, peer))
    for record in peer:
        print("tryton " + json.dumps(record))
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}; {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"accounting-posting-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"results": results, "tryton": peer, "load": os.getloadavg()}, indent=2, default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
