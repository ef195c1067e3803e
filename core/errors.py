"""User-facing errors: declared types with a message, the field at fault and an HTTP status.

A service raises one of these and changes nothing; the core turns it into an answer once
(:func:`core.api.base.problem_for` for the API, :mod:`core.web.transaction` for pages and the CLI):

=================  ======  ==========================================================
``InvalidInput``    422    the input is wrong; names the field (or several)
``Conflict``        409    the input is fine but the record's current state forbids it
``NotFound``        404    the record asked for does not exist (or is hidden)
``Forbidden``       403    the actor may see the record but not do this to it
``Unavailable``     503    an outside service (SMTP, a bank feed, the marketplace) is unreachable
``KontorError``     400    the base; answered as 422, or as the ``status`` it is given
=================  ======  ==========================================================
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KontorError(Exception):
    """A business rule refused an operation; nothing was changed.

    ``field`` names the input at fault (for a form error or a problem+json ``errors`` entry).
    ``status`` overrides the class's HTTP status (``KontorError(msg, status=409)`` still works;
    new code raises the subclass that says what went wrong).
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_errors(self) -> dict[str, Any]:
        """The error in marshmallow's shape: ``{field: [message]}`` (``_schema`` when no field is at fault)."""
        return {self.field or "_schema": [self.message]}


class InvalidInput(KontorError):
    """Input that fails validation (422).

    Either one message about one field, ``InvalidInput(message, field="email")``, or every bad
    field at once as marshmallow reports them, ``InvalidInput({"email": [...], "name": [...]})``;
    then ``message`` and ``field`` are the first of them.
    """

    status = 422

    def __init__(self, message: str | Mapping[str, Any], *, field: str | None = None, status: int | None = None):
        if isinstance(message, Mapping):
            self.errors: dict[str, Any] | None = dict(message)
            first = next(iter(self.errors.values()), [""])
            text = first[0] if isinstance(first, (list, tuple)) and first else str(first)
            super().__init__(str(text), field=field or next(iter(self.errors), None), status=status)
        else:
            self.errors = None
            super().__init__(message, field=field, status=status)

    def as_errors(self) -> dict[str, Any]:
        """Every field at fault with its messages."""
        return self.errors if self.errors is not None else super().as_errors()


class Conflict(KontorError):
    """The record's current state forbids the operation (409): posted, closed, already merged …"""

    status = 409


class NotFound(KontorError):
    """The record asked for does not exist, or the actor may not know that it does (404)."""

    status = 404


class Forbidden(KontorError):
    """The actor may see the record but not do this to it (403)."""

    status = 403


class Unavailable(KontorError):
    """An outside service the operation needs is unreachable (503); trying later may work."""

    status = 503


class ModuleError(Conflict):
    """A module lifecycle act was refused (dependencies, state, a module's veto)."""

    status = 409
