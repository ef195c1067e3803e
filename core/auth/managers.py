"""The manager of each user: who approves for them where a step asks for "the requester's manager"."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.errors import InvalidInput
from core.i18n import gettext as _

#: The longest chain of managers followed when looking for a cycle (deeper is refused too).
MAX_DEPTH = 200


def set_manager(db: Session, user: User, manager_id: int | None) -> User:
    """Make the user ``manager_id`` (None: nobody) the manager of ``user``.

    Refused, naming ``manager_id``, for an unknown user, the user themselves, or a manager who is
    (through their own managers) managed by ``user``: the chain of managers never loops.
    """
    if manager_id is None:
        user.manager_id = None
        db.flush()
        return user
    manager = db.get(User, manager_id) if isinstance(manager_id, int) and 0 < manager_id < 2**31 else None
    if manager is None:
        raise InvalidInput(_("There is no such user to be the manager."), field="manager_id")
    if manager.id == user.id:
        raise InvalidInput(_("A user cannot be their own manager."), field="manager_id")
    seen, above = {user.id}, manager
    for _depth in range(MAX_DEPTH):
        if above.manager_id is None:
            break
        if above.manager_id in seen:
            raise InvalidInput(_("%(manager)s is managed by %(user)s: the managers would go round in a circle.",
                                 manager=manager.username, user=user.username), field="manager_id")
        seen.add(above.id)
        above = db.get(User, above.manager_id)
    else:
        raise InvalidInput(_("The chain of managers is too long."), field="manager_id")
    user.manager_id = manager.id
    db.flush()
    return user


def parse_manager_id(text: str | None) -> int | None:
    """The manager picked on the user form (empty: nobody); InvalidInput naming ``manager_id``."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 10:
        raise InvalidInput(_("Pick a user from the list."), field="manager_id")
    return int(text)


def manager_candidates(db: Session) -> list[User]:
    """The active users, by name: whom the user form offers as a manager."""
    return list(db.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
