"""CSV import of 50,000 leads through the import service, in rows per second.

    .venv/bin/python bench/crm_leads_import.py              # SQLite, median of 3 runs
    .venv/bin/python bench/crm_leads_import.py --postgres   # SQLite and a throwaway PostgreSQL
    .venv/bin/python bench/crm_leads_import.py --rows 10000 --runs 1   # a quicker run

A CSV file of ``--rows`` leads is generated once (Nordic, German and Polish names and companies,
semicolon-separated as a European spreadsheet writes it, one row in a hundred with a bad email,
one in fifty a company met before with a letter changed).
Each run gets a fresh initialised database (bench/run.py's ``Databases``) with the CRM installed
(not timed), then times what ``kontor crm import-leads FILE --valid-only`` does: read the file
(``core.read_csv``), map the columns, check every row (validation and duplicate detection
against the leads and parties already there and the rows before it), insert the valid rows in
bulk with their tags and audit records, and commit. Rows per second counts the file's rows.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from run import RESULTS, Databases, each_backend, in_app, log  # noqa: E402

FIRST = ["Mette", "Lars", "Anne", "Søren", "Freja", "Elsa", "Oskar", "Ingrid", "Ola", "Aino", "Juha", "Anna",
         "Lukas", "Sophie", "Jonas", "Katarzyna", "Piotr", "Magdalena", "Tomasz", "Michał", "Emilia", "Mikko"]
LAST = ["Nielsen", "Jensen", "Hansen", "Andersson", "Johansson", "Berg", "Haugen", "Korhonen", "Virtanen",
        "Müller", "Schmidt", "Fischer", "Weber", "Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Laine"]
SYLLABLES = ["nor", "fjo", "hav", "sko", "kys", "vin", "pol", "han", "el", "rhe", "alp", "bal", "wis", "tat",
             "jan", "sai", "re", "von", "tu", "li", "po", "la", "ka", "mi", "sta", "berg", "lund", "dal", "vik",
             "ska", "ri", "ma", "to", "ne", "su", "gen", "ko", "ra"]
STEMS = ["Nord", "Fjord", "Havn", "Skov", "Kyst", "Vind", "Polar", "Hanse", "Elb", "Rhein", "Alpen", "Bałtyk",
         "Wisła", "Tatry", "Jantar", "Saimaa", "Revontuli", "Pohjola", "Norrsken", "Skärgård", "Älv", "Lys"]
MIDDLES = ["", "land", "berg", "dal", "vik", "holm", "stad", "feld", "haven", "port", "strand", "by"]
TRADES = ["Logistik", "Energi", "Byg", "Design", "Data", "Marine", "Foods", "Solutions", "Technik", "Transport",
          "Handel", "Medical", "Consulting", "Systems", "Automation"]
FORMS = {"dk": ["ApS", "A/S"], "se": ["AB"], "no": ["AS"], "fi": ["Oy"], "de": ["GmbH", "AG"],
         "pl": ["Sp. z o.o.", "S.A."]}
PHONES = {"dk": "+45", "se": "+46", "no": "+47", "fi": "+358", "de": "+49", "pl": "+48"}
TAGS = ["fleet", "solar", "retail", "export", "priority", "trade fair", "partner", ""]
SOURCES = ["website", "referral", "event", "campaign", "", ""]
HEADERS = ["Name", "Company", "E-mail", "Phone", "Source", "Tags", "Notes"]


def typo(rng: random.Random, text: str) -> str:
    """``text`` with one letter changed."""
    index = rng.randrange(len(text))
    return text[:index] + rng.choice("aeiourstln") + text[index + 1:]


def generate_csv(rows: int, seed: int = 7) -> bytes:
    """A semicolon-separated CSV of ``rows`` leads, one in a hundred with a bad email."""
    rng = random.Random(seed)
    companies: list[str] = []
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(HEADERS)
    for i in range(rows):
        country = rng.choice(list(FORMS))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if companies and rng.random() < 0.02:  # a company met before, written a little differently
            company = typo(rng, rng.choice(companies))
        else:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 4))).capitalize()
            stem = f"{rng.choice(STEMS)}{rng.choice(MIDDLES)}" if rng.random() < 0.05 else word
            company = f"{stem} {rng.choice(TRADES)} {rng.choice(FORMS[country])}"
            companies.append(company)
        email = f"lead{i}.{country}example.com" if i % 100 == 99 else f"{first[0]}.{last}.{i}@example.{country}"
        phone = f"{PHONES[country]} {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        tags = ", ".join(t for t in {rng.choice(TAGS), rng.choice(TAGS)} if t)
        writer.writerow([f"{first} {last}", company, email.lower(), phone, rng.choice(SOURCES), tags,
                         "Asked for a quote." if i % 7 == 0 else ""])
    return out.getvalue().encode("utf-8")


def install_crm(url: str, instance: Path):
    """Install the CRM in process; a sessionmaker on the database."""
    from core.db import get_engine, make_sessionmaker
    from core.modules.lifecycle import ModuleContext, install
    from core.plugins import discover

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    install(ModuleContext(engine, factory, discover(()), instance), ["crm"])
    return engine, factory


def import_once(factory, content: bytes) -> dict:
    """Import ``content`` as the command does; the timings of its phases and what it did."""
    from core import map_rows
    from plugins.crm.leads import imports

    with factory() as db:
        t0 = time.perf_counter()
        csv_file = imports.read_file(content)
        rows = map_rows(csv_file, imports.check_mapping(imports.guess_mapping(csv_file), csv_file.headers))
        t1 = time.perf_counter()
        check = imports.check_rows(db, rows, user=None)
        t2 = time.perf_counter()
        result = imports.import_checked(db, check, user=None, valid_only=True)
        db.commit()
        t3 = time.perf_counter()
    return {"read_s": t1 - t0, "check_s": t2 - t1, "insert_s": t3 - t2, "total_s": t3 - t0,
            "created": result.created, "bad": len(check.bad_lines), "duplicates": len(check.duplicates)}


def measure(backend: str, dbs: Databases, content: bytes, rows: int, runs: int) -> dict:
    from sqlalchemy import func, select

    from plugins.crm.leads.models import Lead

    figures = {"backend": backend, "rows": rows, "runs": []}
    for run in range(runs):
        url, instance = dbs.initialised()
        engine, factory = install_crm(url, instance)
        with in_app(url, instance):
            figure = import_once(factory, content)
        with factory() as db:
            assert db.execute(select(func.count()).select_from(Lead)).scalar_one() == figure["created"]
        figure["rows_per_s"] = rows / figure["total_s"]
        log(f"  run {run + 1}: {figure['rows_per_s']:,.0f} rows/s ({figure['total_s']:.1f} s: read "
            f"{figure['read_s']:.1f}, check {figure['check_s']:.1f}, insert {figure['insert_s']:.1f}); "
            f"{figure['created']:,} imported, {figure['bad']} bad rows, {figure['duplicates']:,} flagged duplicates")
        figures["runs"].append(figure)
        engine.dispose()
        dbs.drop(url)
    figures["median_rows_per_s"] = statistics.median(r["rows_per_s"] for r in figures["runs"])
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    content = generate_csv(args.rows)
    log(f"generated a CSV of {args.rows:,} leads ({len(content) / 1e6:.1f} MB)")
    results = [measure(backend, dbs, content, args.rows, args.runs)
               for backend, dbs in each_backend(["sqlite", "postgresql"] if args.postgres else ["sqlite"],
                                                "kbench-leads-")]
    for r in results:
        values = [run["rows_per_s"] for run in r["runs"]]
        print(f"{r['backend']}: CSV import of {r['rows']:,} leads: {r['median_rows_per_s']:,.0f} rows/s "
              f"(median of {len(values)}; {min(values):,.0f} – {max(values):,.0f})")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}; {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"crm-leads-import-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps({"results": results, "load": os.getloadavg()}, indent=2, default=str))
    print(f"JSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
