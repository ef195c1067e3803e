"""Data generators for the benchmarks: many realistic parties, written in bulk with their audit trail.

Usage: ``python bench/datagen.py DATABASE_URL N`` adds N parties to an initialised database.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PREFIXES = (
    "Nordic", "Baltic", "Hanse", "Alpine", "Danube", "Fjord", "Polar", "Amber", "Granite", "Harbour",
    "Meadow", "Birch", "Copper", "Silver", "Golden", "Northern", "Coastal", "Highland", "Lakeside",
    "Riverside", "Oak", "Pine", "Maple", "Linden", "Aurora", "Vista", "Summit", "Horizon", "Beacon",
    "Anchor", "Compass", "Falcon", "Raven", "Wolf", "Lynx", "Elk", "Otter", "Heron", "Swan", "Crane",
)
TRADES = (
    "Timber", "Logistics", "Bakery", "Consulting", "Engineering", "Foods", "Textiles", "Metalworks",
    "Shipping", "Software", "Print", "Design", "Dairy", "Brewery", "Pharma", "Energy", "Robotics",
    "Furniture", "Optics", "Trading", "Ceramics", "Glassworks", "Media", "Solar", "Marine",
)
SUFFIXES = ("ApS", "A/S", "GmbH", "AB", "Oy", "Sp. z o.o.", "AG", "KG", "Ltd", "Oyj")
FIRST = (
    "Anna", "Lars", "Mette", "Søren", "Jürgen", "Katarzyna", "Piotr", "Aino", "Mikko", "Ingrid",
    "Erik", "Sofia", "Łukasz", "Zofia", "Helmut", "Greta", "Johan", "Karin", "Matti", "Liisa",
    "Frederik", "Ida", "Astrid", "Oskar", "Emil", "Freja", "Nils", "Agnieszka", "Tomasz", "Päivi",
)
LAST = (
    "Jensen", "Nielsen", "Hansen", "Müller", "Schmidt", "Kowalski", "Nowak", "Virtanen", "Korhonen",
    "Andersson", "Johansson", "Larsen", "Pedersen", "Wagner", "Becker", "Wiśniewski", "Mäkinen",
    "Lindqvist", "Berg", "Olsen", "Fischer", "Weber", "Lehtonen", "Nyström", "Dąbrowski",
)
CITIES = (
    ("Copenhagen", "DK", "1050"), ("Aarhus", "DK", "8000"), ("Hamburg", "DE", "20095"),
    ("Berlin", "DE", "10115"), ("Munich", "DE", "80331"), ("Warsaw", "PL", "00-001"),
    ("Gdańsk", "PL", "80-001"), ("Helsinki", "FI", "00100"), ("Tampere", "FI", "33100"),
    ("Stockholm", "SE", "111 20"), ("Gothenburg", "SE", "411 01"), ("Malmö", "SE", "211 20"),
)
STREETS = ("Strandvejen", "Hauptstraße", "ul. Długa", "Mannerheimintie", "Drottninggatan", "Bredgade")

#: the national part of a VAT id, in the format each country's ids have
VAT_DIGITS = {
    "DK": lambda rnd: f"{rnd.randrange(10**7, 10**8)}",
    "DE": lambda rnd: f"{rnd.randrange(10**8, 10**9)}",
    "PL": lambda rnd: f"{rnd.randrange(10**9, 10**10)}",
    "FI": lambda rnd: f"{rnd.randrange(10**7, 10**8)}",
    "SE": lambda rnd: f"{rnd.randrange(10**9, 10**10)}01",
}

#: the benchmark's search term: a word in about one company name in forty
SEARCH_TERM = "Harbour"


def party_rows(n: int, seed: int = 20261124, start: int = 0) -> list[dict]:
    """``n`` varied parties (three companies for every person), the same for the same seed."""
    rnd = random.Random(seed + start)
    rows = []
    for i in range(start, start + n):
        city, country, postal = rnd.choice(CITIES)
        if i % 4 == 3:
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            name = f"{first} {last}"
            kind = "person"
            email = f"{first}.{last}.{i}@example.com".lower()
            vat_id = ""
        else:
            name = f"{rnd.choice(PREFIXES)} {rnd.choice(TRADES)} {rnd.choice(SUFFIXES)}"
            if rnd.random() < 0.5:
                name += f" {i % 997}"
            kind = "company"
            email = f"info{i}@example.com"
            vat_id = country + VAT_DIGITS[country](rnd)
        rows.append({
            "kind": kind,
            "name": name,
            "email": email,
            "phone": f"+45 {rnd.randrange(10**7, 10**8)}",
            "vat_id": vat_id,
            "street": f"{rnd.choice(STREETS)} {rnd.randrange(1, 200)}",
            "postal_code": postal,
            "city": city,
            "country": country,
        })
    return rows


def numbered_rows(n: int) -> list[dict]:
    """``n`` parties named as Tryton's peer benchmark names them (``Party 0000000`` …)."""
    return [{"kind": "company", "name": f"Party {i:07d}"} for i in range(n)]


def generate(url: str, n: int, batch: int = 2_000) -> dict:
    """Add ``n`` parties to the initialised database at ``url``; returns the seconds it took."""
    from core.audit.recorder import Actor, acting_as
    from core.db import dispose_engine, get_engine, make_sessionmaker
    from core.parties.services import bulk_create_parties

    engine = get_engine(url)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with acting_as(Actor(None, "bench", "bench: datagen")):
        with factory() as db:
            for start in range(0, n, batch):
                bulk_create_parties(db, party_rows(min(batch, n - start), start=start))
            db.commit()
    seconds = time.perf_counter() - started
    dispose_engine(url)
    return {"n": n, "seconds": seconds, "rows_per_s": n / seconds if seconds else 0.0,
            "how": "core.parties.services.bulk_create_parties, 2,000 rows a call, one transaction"}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/datagen.py DATABASE_URL N")
    print(generate(sys.argv[1], int(sys.argv[2])))
