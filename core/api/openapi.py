"""The OpenAPI 3.1 document of the JSON API, built from the endpoints' ``documented`` metadata.

Every endpoint under ``/api/v1`` whose view carries ``kontor_api_doc`` (see
:func:`core.api.base.documented`) is described with its marshmallow schemas; list endpoints answer
``{"items": [...], "next": cursor-or-null}``; errors are ``application/problem+json``.
"""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from marshmallow import ValidationError, fields
from werkzeug.routing import Rule

from core.api.base import API_PREFIX, PROBLEM_JSON, EndpointDoc
from core.api.schema import MoneyField
from core.security import PUBLIC
from core.version import __version__

OPENAPI_VERSION = "3.1.0"
BEARER = "bearerAuth"
PROBLEM = "Problem"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
_CONVERTER = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_PARAMETER_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}, "uuid": {"type": "string", "format": "uuid"}}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem; ``errors`` maps each invalid field to its messages.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status"],
}


def _drop_refused_default(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """Leave out a default the field itself would refuse as input (an empty optional e-mail)."""
    if "default" in ret:
        try:
            field.deserialize(ret["default"])
        except ValidationError:
            del ret["default"]
    return {}


#: The shape of a decimal string: every Decimal (money, quantity, rate, percentage) is written as one,
#: exact, never as a JSON number (str(Decimal) may use an exponent: "0E-8").
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def _decimal_string(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """A Decimal field is a string of the decimal's shape (the type itself is mapped in build_spec)."""
    return {"pattern": DECIMAL_PATTERN} if isinstance(field, fields.Decimal) else {}


def _list_of_names(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """A field read as a list of names (tags) is an array of strings, bounded like the field."""
    if not getattr(field, "takes_list", False):
        return {}
    bound = {"maxItems": field.max_items} if getattr(field, "max_items", None) else {}
    return {"type": "array", "items": {"type": "string"}, **bound}


def schema_name(schema) -> str:
    """The component name of ``schema``: its class name without "Schema"; "…Patch" when partial."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    return name + "Patch" if getattr(schema, "partial", False) is True else name


def openapi_path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path of ``rule`` (``/parties/{party_id}``) and its path parameters."""
    parameters = []

    def replace(match: re.Match) -> str:
        name = match.group("name")
        schema = _PARAMETER_TYPES.get(match.group("converter") or "", {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": dict(schema)})
        return "{" + name + "}"

    return _CONVERTER.sub(replace, rule.rule), parameters


def _response_schema(doc: EndpointDoc) -> Any:
    if doc.response is None:
        return None
    if doc.many:
        return {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": doc.response},
                "next": {"type": ["string", "null"],
                         "description": "Cursor of the next page; null on the last (only on keyset-paged lists)."},
            },
            "required": ["items"],
        }
    return doc.response


def operation(doc: EndpointDoc, endpoint: str, method: str, permission: str | None,
              path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI operation object of one documented endpoint and method."""
    success: dict[str, Any] = {"description": doc.summary}
    schema = _response_schema(doc)
    if schema is not None:
        success["content"] = {"application/json": {"schema": schema}}
    op: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": f"{endpoint}.{method.lower()}",
        "tags": [endpoint.split(".", 1)[0].removeprefix("api_")],
        "parameters": list(path_parameters),
        "responses": {str(doc.status): success, "default": PROBLEM},
    }
    if permission:
        op["x-permission"] = permission
    if permission == PUBLIC:
        op["security"] = []
    if doc.query is not None:
        op["parameters"].append({"in": "query", "schema": doc.query})
    if doc.body is not None:
        body = doc.body
        if method == "PATCH" and isinstance(body, type):  # a PATCH sends only the fields it changes
            body = body(partial=True)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        op["responses"]["422"] = PROBLEM
    return op


def build_spec(app: Flask) -> APISpec:
    """An :class:`APISpec` describing every documented endpoint of ``app`` under /api/v1."""
    marshmallow = MarshmallowPlugin(schema_name_resolver=schema_name)
    spec = APISpec(
        title="Kontor API",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        plugins=[marshmallow],
        info={"description": "The JSON API of Kontor. Authenticate with `Authorization: Bearer <token>`."},
        servers=[{"url": "/"}],
        security=[{BEARER: []}],
    )
    marshmallow.converter.add_attribute_function(_drop_refused_default)
    marshmallow.converter.add_attribute_function(_list_of_names)
    marshmallow.converter.add_attribute_function(_decimal_string)
    marshmallow.map_to_openapi_type(fields.Decimal, "string", "decimal")  # a JSON string on the wire
    marshmallow.map_to_openapi_type(MoneyField, "string", "decimal")
    spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer", "description": "A personal API token."})
    spec.components.schema(PROBLEM, PROBLEM_SCHEMA)
    spec.components.response(PROBLEM, {
        "description": "An error, as application/problem+json.",
        "content": {PROBLEM_JSON: {"schema": PROBLEM}},
    })
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.rule.startswith(API_PREFIX):
            continue
        view = app.view_functions.get(rule.endpoint)
        doc = getattr(view, "kontor_api_doc", None)
        if not isinstance(doc, EndpointDoc):
            continue
        path, path_parameters = openapi_path(rule)
        permission = getattr(view, "kontor_permission", None)
        operations = {
            method.lower(): operation(doc, rule.endpoint, method, permission, path_parameters)
            for method in sorted((rule.methods or set()) - IGNORED_METHODS)
        }
        spec.path(path=path, operations=operations)  # apispec merges the methods of one path
    return spec


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app`` as a dict (built once per app: the module set is fixed)."""
    cached = app.extensions.get("kontor_openapi")
    if cached is None:
        cached = app.extensions["kontor_openapi"] = build_spec(app).to_dict()
    return cached
