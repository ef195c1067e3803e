"""Demo leads for every company of the group: contacts from Nordic, German and Polish companies, at every
stage of a lead's life, owned by the salespeople of that company."""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Callable

from sqlalchemy.orm import Session

from plugins.crm.companies import each_company, members
from plugins.crm.leads import services

LEADS = 60

# (first names, last names, company stems, legal forms, phone format, VAT id, e-mail domain)
COUNTRIES = {
    "DK": (["Mette", "Lars", "Anne", "Søren", "Camilla", "Jens", "Freja", "Mads"],
           ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Møller"],
           ["Nordlys", "Havnefront", "Skovbryn", "Kystlinje", "Vindmølle", "Bølgen"], ["ApS", "A/S"],
           "+45 {:02d} {:02d} {:02d} {:02d}", lambda r: f"DK{r.randint(10000000, 99999999)}", "dk"),
    "SE": (["Elsa", "Erik", "Maja", "Oskar", "Ebba", "Lars"], ["Andersson", "Johansson", "Karlsson", "Lindqvist"],
           ["Fjällvind", "Skärgård", "Norrsken", "Älvdal", "Granskog"], ["AB"],
           "+46 {:02d} {:02d}{:02d} {:02d}", lambda r: f"SE{r.randint(1000000000, 9999999999)}01", "se"),
    "NO": (["Ingrid", "Ola", "Kari", "Henrik", "Sigrid"], ["Hansen", "Olsen", "Berg", "Haugen", "Dahl"],
           ["Fjordkraft", "Polarlys", "Vestland", "Nordkapp"], ["AS"],
           "+47 {:02d} {:02d} {:02d} {:02d}", None, "no"),
    "FI": (["Aino", "Juha", "Emilia", "Mikko", "Sanna"], ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Laine"],
           ["Revontuli", "Saimaan", "Pohjolan", "Lumikide", "Kivijärvi"], ["Oy", "Oyj"],
           "+358 {:02d} {:02d}{:02d} {:02d}", lambda r: f"FI{r.randint(10000000, 99999999)}", "fi"),
    "DE": (["Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix"], ["Müller", "Schmidt", "Fischer", "Weber", "Becker"],
           ["Hansekontor", "Elbbrücke", "Rheinblick", "Alpenglühen", "Nordstern"], ["GmbH", "AG", "GmbH & Co. KG"],
           "+49 {:02d} {:02d}{:02d}{:02d}", lambda r: f"DE{r.randint(100000000, 999999999)}", "de"),
    "PL": (["Katarzyna", "Piotr", "Magdalena", "Tomasz", "Agnieszka", "Michał"],
           ["Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Lewandowski"],
           ["Bałtycka", "Wiślana", "Tatrzańska", "Mazowiecka", "Jantarowa"], ["Sp. z o.o.", "S.A."],
           "+48 {:02d} {:02d}{:02d} {:02d}", lambda r: f"PL{r.randint(1000000000, 9999999999)}", "pl"),
}
TRADES = ["Logistik", "Energi", "Byg", "Design", "Data", "Marine", "Foods", "Solutions"]
TAGS = ["fleet", "solar", "retail", "export", "priority", "trade fair", "partner"]
SOURCES = ["website", "website", "referral", "event", "campaign", "import", "other"]
NOTES = [
    "Asked for a quote for 40 units before the end of the quarter.",
    "Met at the Hannover Messe booth; interested in the subscription plan.",
    "Referred by an existing customer; wants a call next week.",
    "Downloaded the product sheet twice; follow up by phone.",
    "Budget decision in the spring.",
    "",
]
DISQUALIFY_REASONS = ["No budget this year", "Chose a competitor", "Not a fit: too small", "Unreachable"]
# status distribution: most leads are still being worked
STATUSES = ["new"] * 5 + ["contacted"] * 4 + ["qualified"] * 2 + ["disqualified"] * 2


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                           "ł": "l", "ś": "s", "ń": "n", "ó": "o", "ą": "a", "ę": "e", "ż": "z", "ź": "z",
                           "ć": "c"})
    return text.casefold().translate(table)


def load_demo_leads(db: Session, progress: Callable[[int], None]) -> None:
    """Add the demo leads of every company of the group (sixty for the first, thirty for the others)."""
    for number, company in enumerate(each_company(db)):
        _load_company_leads(db, progress, company, LEADS if number == 0 else LEADS // 2, seed=4 + number)


def _load_company_leads(db: Session, progress: Callable[[int], None], seller_company, count: int, *,
                        seed: int) -> None:
    """Leads of ``seller_company`` owned by its demo salespeople and admin, some unassigned."""
    rng = random.Random(seed)
    currency = seller_company.base_currency
    users = {u.username: u.id for u in members(db, seller_company, ("admin", "sales", "verkauf"))}
    seller = users.get("sales") or users.get("verkauf")
    owners = [seller, seller, users.get("admin"), None]
    for index in range(count):
        country = list(COUNTRIES)[index % len(COUNTRIES)]
        first, last, stems, forms, phone, vat, domain = COUNTRIES[country]
        person = f"{rng.choice(first)} {rng.choice(last)}"
        stem = rng.choice(stems)
        company = f"{stem} {rng.choice(TRADES)} {rng.choice(forms)}"
        slug = _ascii(stem)
        data = {
            "name": person,
            "company_name": company,
            "email": f"{_ascii(person.split()[0])}.{_ascii(person.split()[1])}@{slug}.{domain}",
            "phone": phone.format(*(rng.randint(10, 99) for _ in range(4))),
            "vat_id": vat(rng) if vat and rng.random() < 0.6 else "",
            "source": rng.choice(SOURCES),
            "status": "new",
            "owner_id": owners[index % len(owners)],
            "notes": rng.choice(NOTES),
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
        }
        lead = services.create_lead(db, data, user=None)
        status = rng.choice(STATUSES)
        if status == "contacted":
            lead.status = "contacted"
        elif status == "qualified" and lead.owner_id:
            services.convert_lead(db, lead, user=None, create_party=True,
                                  expected_revenue=Decimal(rng.randrange(5, 120) * 1000),
                                  currency=currency)
        elif status == "disqualified":
            services.disqualify_lead(db, lead, rng.choice(DISQUALIFY_REASONS), user=None)
        progress(1)
    db.flush()
