"""Schemas of the jobs API: the filters of the list and a job as the API shows it."""
from __future__ import annotations

from marshmallow import EXCLUDE, fields, pre_load, validate

from core.api.schema import Schema
from core.jobs.models import STATUSES
from core.jobs.services import job_title


class JobQuerySchema(Schema):
    """Filters of the jobs list (status, kind) and paging (``after``: a job id, ``limit``)."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="", validate=validate.OneOf(("",) + STATUSES))
    kind = fields.String(load_default="", validate=validate.Length(max=100))
    mine = fields.Boolean(load_default=False)
    after = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))

    @pre_load
    def _drop_empty(self, data, **kwargs):
        return {k: v for k, v in dict(data).items() if not (isinstance(v, str) and v.strip() == "")}


class JobSchema(Schema):
    """A job: what it is, who asked, its state and progress, its result or error."""

    id = fields.Integer()
    kind = fields.String()
    title = fields.Function(lambda job: job_title(job))
    arguments = fields.Dict()
    record = fields.String()
    user_id = fields.Integer(allow_none=True)
    company_id = fields.Integer()
    status = fields.String()
    done = fields.Integer()
    total = fields.Integer(allow_none=True)
    percent = fields.Integer(allow_none=True)
    message = fields.String()
    result = fields.Raw(allow_none=True)
    error = fields.String()
    attempts = fields.Integer()
    max_attempts = fields.Integer()
    idempotency_key = fields.String(allow_none=True)
    cancel_requested = fields.Boolean()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    heartbeat_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
