"""The CRM's default data: the CSV files of ``plugins/crm/data/``, which the areas'
``load_default_data`` hooks load on install (the pipeline's stages, the tickets' service levels),
as accounting loads its chart and taxes from ``plugins/accounting/data/``."""
from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def read_data_csv(name: str) -> list[dict[str, str]]:
    """The rows of the CSV file ``name`` of the module's data folder."""
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
