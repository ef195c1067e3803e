"""User-facing errors: declared types with a message, the field at fault and an HTTP status."""
from __future__ import annotations


class KontorError(Exception):
    """A business rule refused an operation; nothing was changed.

    ``field`` names the input at fault (for a form error or a problem+json ``errors`` entry).
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_errors(self) -> dict[str, list[str]]:
        """The error in marshmallow's shape: ``{field: [message]}``."""
        return {self.field or "_schema": [self.message]}


class NotFound(KontorError):
    """The record asked for does not exist."""

    status = 404


class ModuleError(KontorError):
    """A module lifecycle act was refused (dependencies, state, a module's veto)."""

    status = 409
