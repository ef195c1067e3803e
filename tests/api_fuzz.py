"""Generated API input for fuzz tests: the operations an OpenAPI document lists, and hypothesis
strategies for bodies, query strings and path ids built from each operation's own field names.

A helper module (not a test file), so that any module's tests can fuzz their own endpoints::

    operations = [op for op in operations(spec) if op[1].startswith("/api/v1/crm/")]
    @given(documents(operations[0], known_ids))
    def check(case): ...
"""
from __future__ import annotations

from hypothesis import strategies as st

#: Acts whose side effects reach beyond the database (pip installs) are left to their own tests.
SKIPPED = {("post", "/api/v1/modules/marketplace")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", "0", "1", "-1", "2026-02-30", "DK", "EUR", "admin", "<script>", "' OR 1=1 --", "ÆØÅ"]),
)
#: Any JSON value: scalars, and small lists and objects of them.
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def resolve(spec: dict, schema: dict) -> dict:
    """``schema`` with its ``$ref`` followed into the document's components."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def operations(spec: dict):
    """Each documented operation as ``(method, path, body field names, query parameter names)``."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if (method, path) in SKIPPED:
                continue
            fields, query = [], []
            if "requestBody" in op:
                body = resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
                fields = sorted(body.get("properties", {}))
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            yield method, path, fields, query


def documents(operation, known_ids: list[str]):
    """A strategy of ``(body, query args, path id)`` for ``operation``: any JSON under its field
    names, text or numbers in its query parameters, and an id among ``known_ids`` or none at all."""
    _method, _path, fields, query = operation
    body = st.fixed_dictionaries({}, optional={name: values for name in fields}) if fields else st.none()
    args = st.fixed_dictionaries({}, optional={name: st.text(max_size=30) | st.integers().map(str) for name in query})
    ids = st.sampled_from(known_ids + ["0", "99999999999"])
    return st.tuples(body, args, ids)


def send(api, method: str, url: str, body=None, args: dict | None = None):
    """``method`` on ``url`` with ``body`` as JSON (none when None) and ``args`` as the query string."""
    kwargs = {"query_string": args or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(api, method)(url, **kwargs)


def assert_no_server_error(response, context: tuple) -> None:
    """A result, or a 4xx answered as ``application/problem+json``: never a 5xx."""
    assert response.status_code < 500, (*context, response.get_data(as_text=True))
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/problem+json", context


def assert_refused_naming(response, name: str, context: tuple) -> None:
    """A 422 problem whose ``errors`` name the field ``name``."""
    assert response.status_code == 422, (*context, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    assert name in response.get_json()["errors"], context
