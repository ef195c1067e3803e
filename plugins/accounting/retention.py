"""How long the books are kept: purging accounting is refused while posted entries are within their
legal retention period, unless the admin explicitly overrides it (audited)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import ModuleError, Setting, gettext as _, lazy_gettext as _l, record_event, setting_values

from plugins.accounting.ledger.models import POSTED, Entry, FiscalYear
from plugins.accounting.tax import services as tax_services

#: Years the books must be kept after the end of their fiscal year, by the company's country.
YEARS_BY_COUNTRY = {"DK": 5, "SE": 7, "DE": 10, "PL": 10, "FI": 10}
#: Where the country is not known: the longest of them.
DEFAULT_YEARS = 10

RETENTION_YEARS = Setting(
    "accounting.retention_years", _l("Years the books are kept"), default="0", type="integer",
    help=_l("Years the books of a fiscal year are kept after it ends; accounting cannot be purged before. "
            "0: the legal period of the company's country (Denmark 5, Sweden 7, Germany, Poland and Finland "
            "10, elsewhere 10)."))


def retention_years(db: Session) -> int:
    """The years the books are kept: the setting, or the company country's legal period when it is 0."""
    chosen = int(setting_values(db, [RETENTION_YEARS])[RETENTION_YEARS.key] or 0)
    return chosen if chosen > 0 else YEARS_BY_COUNTRY.get(tax_services.company_country(db), DEFAULT_YEARS)


def kept_until(db: Session) -> date | None:
    """The last day the books must still be kept: the end of the newest posted entry's fiscal year
    plus the retention years; None when nothing is posted."""
    year_end = db.execute(select(func.max(FiscalYear.end_date)).join(Entry, Entry.fiscal_year_id == FiscalYear.id)
                          .where(Entry.state == POSTED)).scalar()
    if year_end is None:
        return None
    years = retention_years(db)
    try:
        return year_end.replace(year=year_end.year + years)
    except ValueError:  # a year ending on 29 February
        return year_end.replace(year=year_end.year + years, day=28)


def check_purge(db: Session, *, force: bool, today: date | None = None) -> None:
    """Refuse to purge books still within their retention period, unless ``force`` (then audit it)."""
    until = kept_until(db)
    if until is None or (today or date.today()) > until:
        return
    if not force:
        raise ModuleError(_("Accounting holds posted books that must be kept until %(date)s; purging would lose "
                            "them. Purge only past that date, or explicitly accept losing the books.",
                            date=until.isoformat()), field="force_lose_records")
    posted = db.execute(select(func.count()).select_from(Entry).where(Entry.state == POSTED)).scalar_one()
    record_event(db, "accounting.books_lost", module="accounting", table_name="accounting_entry",
                 changes={"posted_entries": posted, "kept_until": until.isoformat(),
                          "retention_years": retention_years(db)})
