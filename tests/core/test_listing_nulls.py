"""Keyset paging over a sort column that may be empty: every row once, in one order on both backends."""
import pytest
from sqlalchemy import select

from core.parties.models import Party
from core.testing.factories import party
from core.web.listing import keyset_page


def _all_pages(db, sort: str, size: int) -> list[int]:
    stmt = select(Party)
    seen, cursor = [], None
    while True:
        page = keyset_page(db, stmt, sort_keys={"company": Party.company_id}, id_column=Party.id, sort=sort,
                           cursor=cursor, size=size)
        seen += [row.id for row in page.rows]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("size", [1, 2, 3])
def test_pages_over_empty_values_list_every_row_once(db, size):
    firms = [party(db, f"Firm {n}") for n in range(3)]
    people = [party(db, f"Person {n}", kind="person", company_id=firms[n % 2].id) for n in range(4)]
    db.flush()
    with_company = sorted(people, key=lambda p: (p.company_id, p.id))
    without = sorted(firms, key=lambda p: p.id)  # no company: empty values

    up = _all_pages(db, "company", size)
    assert up == [p.id for p in with_company] + [p.id for p in without]  # empty values last going up
    down = _all_pages(db, "-company", size)
    assert down == list(reversed(up))  # and first going down
