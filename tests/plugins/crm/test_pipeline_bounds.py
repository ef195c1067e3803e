"""The pipeline's numbers and months stay inside what it documents and what a date can hold."""
from datetime import date

import pytest

from core.errors import KontorError
from plugins.crm.pipeline import services


def test_a_new_stage_after_the_last_possible_sequence_keeps_within_the_bound(db):
    last = services.create_stage(db, {"name": "Far away", "sequence": services.MAX_SEQUENCE})
    after = services.create_stage(db, {"name": "After it"})
    assert last.sequence == after.sequence == services.MAX_SEQUENCE
    assert services.list_stages(db)[-1].id == after.id  # ties are ordered by id
    with pytest.raises(KontorError) as caught:
        services.create_stage(db, {"name": "Too far", "sequence": services.MAX_SEQUENCE + 1})
    assert caught.value.field == "sequence"


def test_month_bounds_from_the_first_month_to_the_last_a_date_holds():
    assert services.month_bounds("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    assert services.month_bounds("0001-01") == (date(1, 1, 1), date(1, 2, 1))
    assert services.month_bounds("9999-12") == (date(9999, 12, 1), None)
    for month in ("0000-01", "2026-13", "2026-00", "x"):
        with pytest.raises(KontorError) as caught:
            services.month_bounds(month)
        assert caught.value.field == "close_month" and caught.value.status == 422
