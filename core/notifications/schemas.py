"""Schemas of the notifications API and pages: the inbox's filters and a notification as its reader sees it."""
from __future__ import annotations

from marshmallow import EXCLUDE, fields, pre_load, validate

from core.api.schema import Schema
from core.notifications.models import CHANNELS


class InboxQuerySchema(Schema):
    """Filters of the inbox: ``unread`` only, and keyset paging (``before``: a notification id, ``limit``)."""

    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False)
    before = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))

    @pre_load
    def _drop_empty(self, data, **kwargs):
        return {k: v for k, v in dict(data).items() if not (isinstance(v, str) and v.strip() == "")}


class NotificationSchema(Schema):
    """A notification in its reader's language; ``text`` and ``url`` are null (and ``hidden`` true)
    when it is about a record its reader may no longer read."""

    id = fields.Integer()
    kind = fields.String()
    text = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    record = fields.String(allow_none=True)
    hidden = fields.Boolean()
    read = fields.Boolean()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class CountSchema(Schema):
    """How many notifications the user has not read."""

    unread = fields.Integer()


class ChoiceSchema(Schema):
    """How one kind of notification reaches the user."""

    kind = fields.String()
    title = fields.String()
    channel = fields.String(validate=validate.OneOf(CHANNELS))


class ChoicesSchema(Schema):
    """The user's channel per kind, as a ``{kind: channel}`` object."""

    choices = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.OneOf(CHANNELS)),
                          required=True)
