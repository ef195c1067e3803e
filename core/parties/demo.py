"""Demo parties: companies across the Nordics, Germany and Poland, their people, and tags."""
from __future__ import annotations

import random
import unicodedata
from typing import Callable

from sqlalchemy.orm import Session

from core.parties import services

COMPANIES = 120
PEOPLE = 80

COUNTRIES = {
    "DK": {
        "cities": [("København K", "1050"), ("Aarhus C", "8000"), ("Odense C", "5000"), ("Aalborg", "9000"),
                   ("Esbjerg", "6700"), ("Roskilde", "4000")],
        "streets": ["Vestergade", "Nørregade", "Havnegade", "Strandvejen", "Bredgade", "Algade"],
        "stems": ["Nordisk", "Fjord", "Havne", "Lys", "Skov", "Kyst", "Dansk", "Vind"],
        "suffixes": ["ApS", "A/S", "I/S"],
        "first": ["Mette", "Lars", "Anne", "Søren", "Camilla", "Jens", "Freja", "Mads"],
        "last": ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Kristensen", "Møller"],
        "phone": "+45 {:02d} {:02d} {:02d} {:02d}", "vat": lambda r: f"DK{r.randint(10000000, 99999999)}",
        "domain": "dk",
    },
    "DE": {
        "cities": [("Hamburg", "20095"), ("Berlin", "10115"), ("München", "80331"), ("Köln", "50667"),
                   ("Bremen", "28195"), ("Lübeck", "23552")],
        "streets": ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Hafenstraße", "Lindenallee"],
        "stems": ["Hanse", "Rhein", "Alpen", "Elbe", "Nord", "Süd", "Brücken", "Stahl"],
        "suffixes": ["GmbH", "AG", "GmbH & Co. KG"],
        "first": ["Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Lena", "Paul"],
        "last": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner"],
        "phone": "+49 {:02d} {:02d}{:02d}{:02d}", "vat": lambda r: f"DE{r.randint(100000000, 999999999)}",
        "domain": "de",
    },
    "PL": {
        "cities": [("Warszawa", "00-001"), ("Kraków", "30-001"), ("Gdańsk", "80-001"), ("Wrocław", "50-001"),
                   ("Poznań", "60-001"), ("Łódź", "90-001")],
        "streets": ["ul. Długa", "ul. Marszałkowska", "ul. Floriańska", "ul. Piotrkowska", "ul. Wiejska"],
        "stems": ["Bałtyk", "Wisła", "Tatry", "Polbud", "Mazowsze", "Orzeł", "Jantar", "Sokół"],
        "suffixes": ["Sp. z o.o.", "S.A.", "Sp.j."],
        "first": ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał"],
        "last": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski"],
        "phone": "+48 {:02d} {:02d}{:02d} {:02d}", "vat": lambda r: f"PL{r.randint(1000000000, 9999999999)}",
        "domain": "pl",
    },
    "FI": {
        "cities": [("Helsinki", "00100"), ("Espoo", "02100"), ("Tampere", "33100"), ("Turku", "20100"),
                   ("Oulu", "90100"), ("Vaasa", "65100")],
        "streets": ["Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu", "Kauppakatu", "Rantatie"],
        "stems": ["Järvi", "Saimaa", "Revontuli", "Metsä", "Pohjola", "Kivi", "Lumi", "Sisu"],
        "suffixes": ["Oy", "Oyj", "Ky"],
        "first": ["Aino", "Juha", "Emilia", "Mikko", "Sanna", "Antti", "Laura", "Ville"],
        "last": ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine"],
        "phone": "+358 {:02d} {:02d}{:02d} {:02d}", "vat": lambda r: f"FI{r.randint(10000000, 99999999)}",
        "domain": "fi",
    },
    "SE": {
        "cities": [("Stockholm", "111 20"), ("Göteborg", "411 01"), ("Malmö", "211 20"), ("Uppsala", "753 20"),
                   ("Västerås", "721 30"), ("Umeå", "903 25")],
        "streets": ["Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen", "Hamngatan", "Vasagatan"],
        "stems": ["Norrland", "Skog", "Vasa", "Fjäll", "Älv", "Sjö", "Mälar", "Kust"],
        "suffixes": ["AB", "HB", "AB (publ)"],
        "first": ["Elsa", "Erik", "Maja", "Oskar", "Ebba", "Karl", "Alva", "Nils"],
        "last": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Lindberg"],
        "phone": "+46 {:02d} {:02d}{:02d} {:02d}", "vat": lambda r: f"SE{r.randint(1000000000, 9999999999)}01",
        "domain": "se",
    },
}
TRADES = ["Logistik", "Byg", "Design", "Data", "Trading", "Consult", "Foods", "Energi", "Maskin", "Media",
          "Solutions", "Systems", "Marine", "Tekstil", "Print"]
TAGS = ["customer", "supplier", "prospect", "partner", "key account", "reseller"]


def slug(text: str) -> str:
    """``text`` in plain lowercase ASCII letters and digits, for made-up addresses."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L")).encode("ascii", "ignore")
    return "".join(ch for ch in ascii_text.decode().lower() if ch.isalnum())


def _phone(rng: random.Random, pattern: str) -> str:
    return pattern.format(*(rng.randint(10, 99) for _ in range(4)))


def _company(rng: random.Random, code: str, names: set[str]) -> dict:
    land = COUNTRIES[code]
    while True:
        base = f"{rng.choice(land['stems'])} {rng.choice(TRADES)}"
        name = f"{base} {rng.choice(land['suffixes'])}"
        if name not in names:
            names.add(name)
            break
    city, postal_code = rng.choice(land["cities"])
    return {
        "kind": "company", "name": name, "country": code, "city": city, "postal_code": postal_code,
        "street": f"{rng.choice(land['streets'])} {rng.randint(1, 120)}", "vat_id": land["vat"](rng),
        "email": f"info@{slug(base)}.{land['domain']}", "phone": _phone(rng, land["phone"]),
        "website": f"https://www.{slug(base)}.{land['domain']}",
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
    }


def _person(rng: random.Random, company) -> dict:
    land = COUNTRIES[company.country]
    first, last = rng.choice(land["first"]), rng.choice(land["last"])
    domain = company.email.split("@", 1)[1]
    return {
        "kind": "person", "name": f"{first} {last}", "company_id": company.id, "country": company.country,
        "city": company.city, "email": f"{slug(first)}.{slug(last)}@{domain}", "phone": _phone(rng, land["phone"]),
        "tags": rng.sample(["decision maker", "billing", "technical"], rng.randint(0, 1)),
    }


def load_demo_parties(db: Session, progress: Callable[[int], None], *, seed: int = 7) -> int:
    """Create about 200 plausible parties; calls ``progress(1)`` per party and returns the count."""
    rng = random.Random(seed)
    names: set[str] = set()
    companies = []
    for index in range(COMPANIES):
        companies.append(services.create_party(db, _company(rng, list(COUNTRIES)[index % len(COUNTRIES)], names)))
        progress(1)
    for _ in range(PEOPLE):
        services.create_party(db, _person(rng, rng.choice(companies)))
        progress(1)
    return COMPANIES + PEOPLE
