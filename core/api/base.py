"""The JSON API's common ground: blueprints, problem+json errors, paging, and endpoint metadata."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Flask, Response, json, request
from marshmallow import RAISE, Schema, ValidationError

from core.errors import KontorError
from core.i18n import gettext

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An API error to answer as ``application/problem+json``.

    ``errors`` maps field names to lists of messages.
    """

    def __init__(self, status: int, title: str, detail: str = "", errors: dict[str, Any] | None = None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or {}


#: The title of each status a refusal can have (RFC 9457 ``title``).
TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Validation failed",
          429: "Too Many Requests", 503: "Service Unavailable"}


def refusal_status(exc: KontorError) -> int:
    """The HTTP status of a refusal: 422 for bad input (a bare ``KontorError`` too), else its own."""
    return 422 if exc.status in (400, 422) else exc.status


def refusal(exc: KontorError) -> ApiError:
    """A service's refusal as an API error: the one mapping of :class:`KontorError` to problem+json.

    403 Forbidden, 404 Not Found, 409 Conflict, 422 naming the field (``errors``), 429, 503. A 403
    or 404 lists ``errors`` only when a field is at fault (a missing record is not the caller's
    input). An endpoint need not call it: a refusal that escapes an ``/api/`` view is answered
    with it by the app-wide handler.
    """
    status = refusal_status(exc)
    errors = exc.as_errors() if exc.field or status not in (403, 404) else None
    return ApiError(status, TITLES.get(status, "Refused"), exc.message, errors)


def problem_for(exc: KontorError) -> Response:
    """A refusal as an ``application/problem+json`` response (see :func:`refusal`)."""
    error = refusal(exc)
    return problem(error.status, error.title, error.detail, error.errors)


def problem(status: int, title: str, detail: str = "", errors: dict[str, Any] | None = None) -> Response:
    """An RFC 9457 problem response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def ApiBlueprint(module: str, import_name: str | None = None) -> Blueprint:
    """A blueprint for ``module``'s endpoints, mounted at ``/api/v1/<module>``."""
    prefix = API_PREFIX if module == "core" else f"{API_PREFIX}/{module}"
    return Blueprint(f"api_{module}", import_name or __name__, url_prefix=prefix)


@dataclass(frozen=True)
class EndpointDoc:
    """What the OpenAPI document says of an endpoint."""

    summary: str
    body: type[Schema] | Schema | None = None
    response: type[Schema] | Schema | None = None
    many: bool = False
    query: type[Schema] | Schema | None = None
    status: int = 200


def documented(summary: str, *, body=None, response=None, many: bool = False, query=None, status: int = 200) -> Callable:
    """Attach OpenAPI metadata to an endpoint (request body, response and query schemas)."""

    def decorate(view):
        view.kontor_api_doc = EndpointDoc(summary, body, response, many, query, status)
        return view

    return decorate


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (else a 400 problem).

    The body was decoded and screened once before the view ran (see :mod:`core.api.input`).
    """
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid body", "The request body must be a JSON object.")
    return data


def load_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """Validate the JSON body against ``schema``; a bad body becomes a 422 naming the fields.

    A field the schema does not know is refused, whatever the schema's own ``unknown`` says.
    """
    data = json_object()
    try:
        return schema.load(data, partial=partial, unknown=RAISE)
    except ValidationError as exc:
        raise ApiError(422, "Validation failed", "Some fields are invalid.", exc.messages) from None


#: The query parameter naming the companies an API call works in (see :mod:`core.company.scope`).
COMPANY_PARAMETER = "company"


def load_query(schema: Schema) -> dict[str, Any]:
    """Validate the query string against ``schema`` (422 naming the fields when it is wrong).

    A parameter the schema does not know is refused; a parameter given twice is refused too (a
    list is never made of a scalar, nor a scalar of a list). ``company`` is every endpoint's (the
    companies a call works in, read by the core before the view runs), never the schema's.
    """
    repeated = sorted(key for key, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ApiError(422, "Invalid query", "Some query parameters are invalid.",
                       {key: [gettext("Give this parameter once.")] for key in repeated})
    try:
        args = {key: value for key, value in request.args.to_dict().items() if key != COMPANY_PARAMETER}
        return schema.load(args, unknown=RAISE)
    except ValidationError as exc:
        raise ApiError(422, "Invalid query", "Some query parameters are invalid.", exc.messages) from None


def paged(items: list, *, next_cursor: str | None, schema: Schema, total: int | None = None) -> Response:
    """A page of ``items`` with the cursor of the next page (None on the last page)."""
    body: dict[str, Any] = {"items": schema.dump(items, many=True), "next": next_cursor}
    if total is not None:
        body["total"] = total
    return json_response(body)


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _handle_api_error(exc: ApiError):
    return problem(exc.status, exc.title, exc.detail, exc.errors)


def init_api(app: Flask, csrf) -> None:
    """Answer :class:`ApiError` as problem+json (HTTP errors are handled by the shell).

    The app factory also screens every request's input before its view runs
    (:func:`core.api.input.screen_input`, which builds on this module).
    """
    app.register_error_handler(ApiError, _handle_api_error)


#: The largest id a record can have (PostgreSQL's INTEGER); a larger one names no record.
MAX_ID = 2**31 - 1


def record_id_field(**kwargs):
    """A marshmallow field for a reference to a record: a positive id within the column's range."""
    from marshmallow import fields, validate

    kwargs.setdefault("strict", False)
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)
