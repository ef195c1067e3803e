"""The CRM's default data: the CSV files of ``plugins/crm/data/``, which the areas'
``load_default_data`` hooks load for each company (on install, and for a company created later):
the pipeline's stages, the tickets' service levels, as accounting loads its chart and taxes from
``plugins/accounting/data/``. Names a person reads are loaded in the company's language
(:func:`in_company_language`)."""
from __future__ import annotations

import csv
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flask import has_app_context
from flask_babel import force_locale
from sqlalchemy.orm import Session

from core import N_, get_company, gettext

DATA = Path(__file__).resolve().parent / "data"

#: The names of ``pipeline_stages.csv``, marked for the catalogs: a company gets them in its language.
STAGE_NAMES = (N_("New"), N_("Qualified"), N_("Proposal"), N_("Negotiation"), N_("Won"), N_("Lost"))


def read_data_csv(name: str) -> list[dict[str, str]]:
    """The rows of the CSV file ``name`` of the module's data folder."""
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@contextmanager
def in_company_language(db: Session) -> Iterator[None]:
    """Translate into the language of the company being loaded for (``core.get_company``) inside the block."""
    if not has_app_context():
        yield
        return
    with force_locale(get_company(db).locale or "en"):
        yield


def translated(name: str) -> str:
    """``name`` (one of the data files' English names) in the language in force, within the column's bounds."""
    return gettext(name)[:80] if name else name
