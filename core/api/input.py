"""The one screen every request's input passes before any view sees it.

Run as a ``before_request`` hook for the API and the web UI alike: the JSON body is decoded once
(too deep or malformed → 400), every text in it, in the query string and in a submitted form is
checked for characters no database stores (NUL, lone surrogates → 422 naming the field), and an API
body is checked against the endpoint's documented schema: a field the schema does not know, or a
float for a money field, is a 422 naming it. Oversized bodies are refused by Flask's
``MAX_CONTENT_LENGTH`` (413) as soon as they are read here.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import Schema, fields
from werkzeug.exceptions import UnprocessableEntity

from core.api.base import ApiError, EndpointDoc
from core.api.schema import MoneyField
from core.i18n import gettext
from core.security import is_api_request

Errors = dict[Any, Any]


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL byte, a lone surrogate), or None when it can."""
    if "\x00" in text:
        return gettext("Remove the NUL character; text cannot contain it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return gettext("Remove the invalid character (a lone UTF-16 surrogate); it is not Unicode text.")
    return None


def field_label(key: str) -> str:
    """A key fit to name in an error, even when the key itself holds a bad character."""
    return key.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def text_errors(value: Any) -> Errors | list[str] | None:
    """The bad text in a decoded JSON value, in marshmallow's error shape (None when all is well).

    Keys and values are both checked; a list item is named by its index.
    """
    if isinstance(value, str):
        problem = text_problem(value)
        return [problem] if problem else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: Errors = {}
    for key, item in items:
        if isinstance(key, str) and (problem := text_problem(key)):
            errors[field_label(key)] = [problem]
            continue
        found = text_errors(item)
        if found:
            errors[key] = found
    return errors or None


def form_errors() -> dict[str, list[str]]:
    """Bad text in the query string, the submitted form and the uploaded file names, by field."""
    errors: dict[str, list[str]] = {}
    sources = [request.args.lists(), request.form.lists(),
               ((key, [upload.filename or ""]) for key, upload in request.files.items())]
    for source in sources:
        for key, values in source:
            problem = text_problem(key) or next(filter(None, map(text_problem, values)), None)
            if problem:
                errors[field_label(key)] = [problem]
    return errors


def _load_fields(schema: Schema) -> dict[str, fields.Field]:
    return {field.data_key or name: field for name, field in schema.fields.items() if not field.dump_only}


def _nested_schema(field: fields.Field) -> Schema | None:
    if isinstance(field, fields.Nested):
        schema = field.schema
        return schema if isinstance(schema, Schema) else None
    return None


def _takes_list(field: fields.Field) -> bool:
    return isinstance(field, fields.List) or getattr(field, "takes_list", False)


def schema_errors(schema: Schema, data: Any) -> Errors:
    """Unknown fields, floats given for money fields and scalars given for list fields in ``data``,
    by the documented ``schema`` (the schema itself checks everything else)."""
    if not isinstance(data, dict):
        return {}
    known = _load_fields(schema)
    errors: Errors = {}
    for key, value in data.items():
        field = known.get(key)
        if field is None:
            errors[field_label(str(key))] = [gettext("Unknown field.")]
        elif isinstance(field, MoneyField) and isinstance(value, float):
            errors[key] = [str(field.error_messages["float"])]
        elif _takes_list(field) and not isinstance(value, list) and value is not None:
            errors[key] = [gettext("Give a list.")]
        elif (nested := _nested_schema(field)) is not None:
            found = schema_errors(nested, value)
            if found:
                errors[key] = found
        elif isinstance(field, fields.List) and isinstance(value, list):
            inner = field.inner
            found = {}
            for index, item in enumerate(value):
                if isinstance(inner, MoneyField) and isinstance(item, float):
                    found[index] = [str(inner.error_messages["float"])]
                elif (nested := _nested_schema(inner)) is not None and (item_errors := schema_errors(nested, item)):
                    found[index] = item_errors
            if found:
                errors[key] = found
    return errors


def _documented_body() -> Schema | None:
    view = current_app.view_functions.get(request.endpoint or "")
    doc = getattr(view, "kontor_api_doc", None)
    if not isinstance(doc, EndpointDoc) or doc.body is None:
        return None
    return doc.body() if isinstance(doc.body, type) else doc.body


def _json_body() -> Any:
    """The decoded JSON body (cached on the request for the view), or a 400 when it is not JSON."""
    try:
        return request.get_json()
    except RecursionError:
        raise ApiError(400, "Invalid body", "The JSON body is nested too deeply.") from None
    except Exception:  # werkzeug's BadRequest for malformed JSON or text that is not UTF-8
        raise ApiError(400, "Invalid body", "The request body is not valid JSON.") from None


def _refuse(errors: Errors, *, api: bool) -> None:
    if api:
        raise ApiError(422, "Validation failed", "Some fields are invalid.", errors)
    names = ", ".join(str(name) for name in errors)
    raise UnprocessableEntity(gettext("Some fields hold text that cannot be stored: %(names)s. Correct them and "
                                      "send the form again.", names=names))


def screen_input() -> None:
    """``before_request``: refuse input no view should see (see the module docstring)."""
    api = is_api_request()
    errors: Errors = dict(form_errors())
    if request.is_json and request.get_data():
        data = _json_body()
        found = text_errors(data)
        if isinstance(found, list):  # the body is one bad string
            found = {"_schema": found}
        schema = _documented_body() if api else None
        if schema is not None:
            errors.update(schema_errors(schema, data))
        errors.update(found or {})
    if errors:
        _refuse(errors, api=api)
