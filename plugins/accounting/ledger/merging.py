"""Party merges: draft lines follow the merged party; posted lines keep theirs (they are immutable,
and the merged party's row stays, pointing at the party it went into)."""
from __future__ import annotations

from sqlalchemy import update

from plugins.accounting.ledger.models import DRAFT, Line


def party_merging(source, target, session) -> None:
    """Move the draft lines of party ``source`` to ``target``."""
    session.execute(update(Line).where(Line.party_id == source.id, Line.state == DRAFT)
                    .values(party_id=target.id).execution_options(synchronize_session=False))
