"""Who is acting: the one context that permission checks and the audit log read.

A request sets it from its session cookie or bearer token; a ``kontor`` command sets it from
``--as USER`` (else it acts as the system, named ``cli``); a background job or a script wraps its
work in :func:`acting_as`. Services never read Flask's ``current_user``: they take the user as an
argument or ask :func:`current_actor`, so a service gives the same answer from a page, the API, a
command or a job.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from typing import Any, Iterator


@dataclass(frozen=True)
class Actor:
    """Who acts and from which request or command, as the audit log records it.

    ``user`` is the acting :class:`~core.User`, or None for the system (a command run without
    ``--as``, a scheduled job); ``username`` may then still name the actor ("cli").
    """

    user_id: int | None = None
    username: str = ""
    origin: str = ""
    user: Any = field(default=None, compare=False, repr=False)


SYSTEM = Actor(origin="system")
_actor: ContextVar[Actor] = ContextVar("kontor_actor", default=SYSTEM)


def as_actor(who: Any, origin: str | None = None, *, username: str = "") -> Actor:
    """An :class:`Actor` for ``who``: a user, None (the system) or an Actor (``origin`` replaces its own)."""
    if isinstance(who, Actor):
        return who if origin is None else replace(who, origin=origin)
    if who is None:
        return Actor(None, username, origin if origin is not None else "system")
    return Actor(who.id, who.username, origin or "", who)


def current_actor():
    """The acting :class:`~core.User`, or None when the system acts (or nobody is signed in)."""
    return _actor.get().user


def acting() -> Actor:
    """Who acts and from where: the user (if any), the name and the origin the audit log records."""
    return _actor.get()


@contextmanager
def acting_as(who: Any, origin: str | None = None, *, username: str = "") -> Iterator[Actor]:
    """Act as ``who`` (a user, None for the system, or an :class:`Actor`) inside the block.

    For commands and background jobs: permission checks without an explicit user
    (:func:`core.has_permission`) and every audit record written inside the block are for ``who``,
    from ``origin`` (``"job: send reminders"``). The previous actor is restored afterwards.
    """
    token = _actor.set(as_actor(who, origin, username=username))
    try:
        yield _actor.get()
    finally:
        _actor.reset(token)


def set_actor(who: Any, origin: str | None = None, *, username: str = "") -> Token:
    """Make ``who`` the actor for the rest of this context (a request, after signing in); returns
    the token that :func:`reset_actor` takes to restore the previous one."""
    return _actor.set(as_actor(who, origin, username=username))


def reset_actor(token: Token) -> None:
    """Restore the actor that was current before :func:`set_actor` returned ``token``."""
    try:
        _actor.reset(token)
    except ValueError:  # set in another context (a copied one): this context never saw it
        _actor.set(SYSTEM)
