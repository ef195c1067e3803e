"""Demo invoices and bills: a year of sales to the demo customers and purchases from suppliers.

About 150 customer invoices and 80 supplier bills dated across the last twelve months, posted,
some in euros, a few corrected by credit notes, and a handful of drafts, in every company of the
group. The default company also sells to the other companies of the group every month: each sale
drafts its mirrored bill in the buyer (intercompany invoicing), whose demo posts all but the last.
Deterministic (seeded), so every demo looks the same. Payments are left to the banking area's demo,
which runs after.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Company, KontorError, Party, create_party, current_company_id

from plugins.accounting.companies import in_each_company
from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing import services
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger import years
from plugins.accounting.tax import services as tax_services
from plugins.accounting.tax.models import Tax

INVOICES = 150
BILLS = 80
DRAFTS = 5
#: months back from today in which the default company sells to each other company of the group
INTERCOMPANY_MONTHS = 6
#: description, unit price, account
SALES = [
    ("Consulting, hour", "950.00", "4100"), ("Design workshop, one day", "7500.00", "4100"),
    ("Hosting and support, monthly", "1200.00", "4100"), ("Training session", "3800.00", "4100"),
    ("Office chair Ergo", "2450.00", "4000"), ("Standing desk 160 cm", "5200.00", "4000"),
    ("Monitor 27 inch", "2100.00", "4000"), ("Cable kit", "149.95", "4000"), ("Docking station", "1349.50", "4000"),
]
PURCHASES = [
    ("Office rent", "18000.00", "6100"), ("Steel sheet 2 mm", "12.50", "5100"), ("Electricity", "2300.00", "6900"),
    ("Packaging material", "3.20", "5100"), ("Software licences", "890.00", "6900"), ("Freight", "1450.00", "6900"),
    ("Chair components", "640.00", "5100"), ("Cleaning service", "1800.00", "6900"),
]
FALLBACK_CUSTOMERS = [
    {"name": "Nordisk Lys ApS", "country": "DK", "city": "Aarhus C", "postal_code": "8000", "street": "Vestergade 12",
     "vat_id": "DK31245678"},
    {"name": "Fjord Logistik A/S", "country": "DK", "city": "Esbjerg", "postal_code": "6700", "street": "Havnegade 3",
     "vat_id": "DK28765432"},
    {"name": "Hanse Brücken GmbH", "country": "DE", "city": "Hamburg", "postal_code": "20095",
     "street": "Hafenstraße 8", "vat_id": "DE123456789"},
    {"name": "Wisła Meble Sp. z o.o.", "country": "PL", "city": "Kraków", "postal_code": "30-001",
     "street": "ul. Długa 5", "vat_id": "PL5260001246"},
]
FALLBACK_SUPPLIERS = [
    {"name": "Stål & Co ApS", "country": "DK", "city": "Odense C", "postal_code": "5000", "street": "Algade 1",
     "vat_id": "DK30123456"},
    {"name": "Rhein Stahl AG", "country": "DE", "city": "Köln", "postal_code": "50667", "street": "Lindenallee 2",
     "vat_id": "DE987654321"},
]


def load(db: Session, progress, today: date | None = None) -> None:
    """Add the demo invoices and bills of every company of the group, in its currency with its taxes."""
    in_each_company(db, lambda: _load(db, progress, today))


def _load(db: Session, progress, today: date | None = None) -> None:
    """Add the current company's demo invoices and bills (once: nothing is added when it has invoices of
    its own already; bills mirrored from another company of the group do not count)."""
    if db.execute(select(Invoice.id).where(Invoice.intercompany_source_id.is_(None)).limit(1)).first() is not None:
        return
    today = today or date.today()
    start = today - timedelta(days=364)
    years.ensure_years(db, start)
    years.ensure_years(db, today)
    rng = random.Random(3)
    customers, suppliers = _parties(db)
    home = tax_services.company_country(db)
    base = fx.company_currency(db)
    sale_tax, sale_zero = _taxes(db, "sale", home)
    purchase_tax, purchase_reverse = _taxes(db, "purchase", home)
    sales, bills = [], []
    for n in range(INVOICES):
        day = start + timedelta(days=n * 364 // INVOICES + rng.randint(0, 2))
        party = rng.choice(customers)
        abroad = bool(party.country) and party.country != home
        lines = [_line(rng, SALES, sale_zero if abroad else sale_tax) for _ in range(rng.randint(1, 4))]
        sales.append(_document(db, "out_invoice", party, min(day, today), lines, rng, base,
                               currency="EUR" if abroad and rng.random() < 0.7 else base,
                               reference=f"PO-{4100 + n}" if rng.random() < 0.4 else ""))
    for n in range(BILLS):
        day = start + timedelta(days=n * 364 // BILLS + rng.randint(0, 3))
        party = rng.choice(suppliers)
        abroad = bool(party.country) and party.country != home
        lines = [_line(rng, PURCHASES, purchase_reverse if abroad else purchase_tax) for _ in range(rng.randint(1, 3))]
        bills.append(_document(db, "in_invoice", party, min(day, today), lines, rng, base,
                               currency="EUR" if abroad else base, reference=f"INV-{rng.randint(10000, 99999)}"))
    sales += _intercompany_sales(db, rng, today, sale_zero, sale_tax, home, base)
    # Numbers follow dates: every document, credit notes included, is posted in the order of its date,
    # the bills mirrored from the default company too (but the latest, left for the bookkeeper to post).
    mirrored = list(db.scalars(select(Invoice).where(Invoice.intercompany_source_id.is_not(None),
                                                     Invoice.state == "draft").order_by(Invoice.invoice_date)))
    acts = [(doc.invoice_date, "post", doc, None) for doc in sales + bills + mirrored[:-1]]
    acts += _credit_notes(rng, sales[5::12], today)
    for day, act, doc, full in sorted(acts, key=lambda a: (a[0], a[1] != "post", a[2].id)):
        if act == "post":
            services.post_invoice(db, doc)
        else:
            _credit(db, doc, day, full)
        progress(1)
    for n in range(DRAFTS):
        party = rng.choice(customers)
        lines = [_line(rng, SALES, sale_tax) for _ in range(rng.randint(1, 3))]
        if _document(db, "out_invoice", party, today - timedelta(days=n), lines, rng, base, currency=base):
            progress(1)
    db.flush()


def _intercompany_sales(db: Session, rng: random.Random, today: date, abroad_tax: Tax | None, home_tax: Tax | None,
                        home: str, base: str) -> list[Invoice]:
    """The default company's monthly sales of goods to each other company of the group (to its party),
    on the intercompany revenue account; none from the other companies."""
    group = list(db.scalars(select(Company).where(Company.active.is_(True)).order_by(Company.id)))
    if not any(c.is_default and c.id == current_company_id(db) for c in group):
        return []
    from plugins.accounting.invoicing import intercompany

    revenue = intercompany.role_account(db, intercompany.REVENUE)
    sales = []
    for buyer in group:
        if buyer.is_default or buyer.party_id is None:
            continue
        party = db.get(Party, buyer.party_id)
        tax = abroad_tax if buyer.country and buyer.country != home else home_tax
        for months in range(INTERCOMPANY_MONTHS, 0, -1):
            day = today - timedelta(days=30 * months - 10)
            lines = [_line(rng, SALES[4:], tax) for _ in range(rng.randint(1, 3))]
            if revenue is not None:
                lines = [{**line, "account": revenue.code} for line in lines]
            sales.append(_document(db, "out_invoice", party, day, lines, rng, base, currency=buyer.base_currency,
                                   reference=f"IC-{day:%Y%m}"))
    return sales


def _parties(db: Session) -> tuple[list[Party], list[Party]]:
    """Demo customers and suppliers: the core's demo companies (but the group's own), or a few of our own."""
    group = select(Company.party_id).where(Company.party_id.is_not(None))
    companies = list(db.execute(select(Party).where(Party.kind == "company", Party.active.is_(True),
                                                    Party.id.not_in(group))
                                .order_by(Party.id).limit(60)).scalars())
    if len(companies) >= 10:
        cut = len(companies) * 2 // 3
        return companies[:cut], companies[cut:]
    customers = [create_party(db, {"kind": "company", **row}) for row in FALLBACK_CUSTOMERS]
    suppliers = [create_party(db, {"kind": "company", **row}) for row in FALLBACK_SUPPLIERS]
    return customers, suppliers


def _taxes(db: Session, scope: str, country: str) -> tuple[Tax | None, Tax | None]:
    """The usual tax of ``scope`` at home, and the one for trade abroad (0 % sales, reverse charge)."""
    taxes = [t for t in services.taxes_for_scope(db, scope) if not country or t.country in (country, "")]
    usual = next((t for t in taxes if t.rate > 0 and not t.price_included and not t.reverse_charge), None)
    if scope == "sale":
        abroad = next((t for t in taxes if t.rate == 0), None)
    else:
        abroad = next((t for t in taxes if t.reverse_charge), usual)
    return usual, abroad


def _line(rng: random.Random, catalogue, tax: Tax | None) -> dict:
    description, price, account = rng.choice(catalogue)
    quantity = rng.choice([1, 1, 1, 2, 3, 5, 10]) if Decimal(price) > 100 else rng.choice([50, 100, 250, 400])
    discount = rng.choice(["0", "0", "0", "5", "10"])
    return {"description": description, "quantity": str(quantity), "unit_price": price, "discount_percent": discount,
            "taxes": [tax.id] if tax else [], "account": account}


def _document(db: Session, kind: str, party: Party, day: date, lines: list[dict], rng: random.Random, base: str,
              *, currency: str, reference: str = ""):
    data = {"party_id": party.id, "invoice_date": day, "payment_terms_days": rng.choice([8, 14, 14, 30]),
            "currency": currency, "reference": reference, "lines": lines}
    try:
        if currency != base:
            # the catalogue is priced in the company currency: the same goods cost the same abroad
            rate = fx.rate_on(db, currency, day)
            data["lines"] = [{**line, "unit_price": str(_converted(Decimal(line["unit_price"]), rate))} for line in lines]
        return services.create_invoice(db, kind, data)
    except KontorError:
        if currency == base:
            raise
        # no exchange rate that far back: invoice in the company currency instead
        return services.create_invoice(db, kind, {**data, "currency": base})


def _converted(price: Decimal, rate: Decimal) -> Decimal:
    """``price`` in a foreign currency at ``rate`` (company units per foreign unit), as a list price would be."""
    amount = price / rate
    return amount.quantize(Decimal("1") if amount >= 100 else Decimal("0.01"))


def _credit_notes(rng: random.Random, invoices: list[Invoice], today: date) -> list[tuple]:
    """Credit every invoice given, some days after it: in full (cancelling it) or one line of it."""
    acts = []
    for inv in invoices:
        day = min(today, inv.invoice_date + timedelta(days=rng.randint(3, 20)))
        acts.append((day, "credit", inv, rng.random() < 0.4))
    return acts


def _credit(db: Session, inv: Invoice, day: date, full: bool) -> None:
    if full:
        services.cancel_invoice(db, inv, date=day)
        return
    first = inv.lines[0]
    note = services.create_credit_note(db, inv, date=day, lines=[{
        "description": f"{first.description} (returned)", "quantity": "1", "unit_price": first.unit_price,
        "discount_percent": first.discount_percent, "taxes": [t.id for t in first.taxes],
        "account": first.account_id}])
    services.post_invoice(db, note)
