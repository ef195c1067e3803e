"""Whatever a client sends, the API answers with a result or a 4xx problem: never a server error.

Bodies and query strings are generated from the OpenAPI document's own field names, with values of
every JSON type (huge numbers, odd strings, nested objects), so a new endpoint is covered as soon
as it is documented.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Acts whose side effects reach beyond the database (pip installs) are left to their own tests.
SKIPPED = {("post", "/api/v1/modules/marketplace")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", "0", "1", "-1", "2026-02-30", "DK", "EUR", "admin", "<script>", "' OR 1=1 --", "ÆØÅ"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if (method, path) in SKIPPED:
                continue
            fields, query = [], []
            if "requestBody" in op:
                body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
                fields = sorted(body.get("properties", {}))
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            yield method, path, fields, query


def _documents(spec_path_args, known_ids: list[str]):
    method, path, fields, query = spec_path_args
    body = st.fixed_dictionaries({}, optional={name: values for name in fields}) if fields else st.none()
    args = st.fixed_dictionaries({}, optional={name: st.text(max_size=30) | st.integers().map(str) for name in query})
    ids = st.sampled_from(known_ids + ["0", "99999999999"])
    return st.tuples(body, args, ids)


def test_no_input_makes_the_api_fail(app, api):
    spec = api.get("/api/v1/openapi.json").get_json()
    operations = list(_operations(spec))
    assert len(operations) >= 15
    # records to aim at: path ids mostly name something real, so bodies get past the 404
    party = api.post("/api/v1/parties", json={"kind": "company", "name": "Target A/S"}).get_json()["id"]
    other = api.post("/api/v1/parties", json={"kind": "company", "name": "Other A/S"}).get_json()["id"]
    role = api.post("/api/v1/roles", json={"name": "fuzzed", "title": "Fuzzed"}).get_json()["id"]
    known_ids = [str(i) for i in (party, other, role, 1)]

    for operation in operations:
        method, path, _fields, _query = operation

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(_documents(operation, known_ids))
        def check(case):
            body, args, record_id = case
            url = path.replace("{party_id}", record_id).replace("{user_id}", record_id).replace("{role_id}", record_id)
            kwargs = {"query_string": args}
            if body is not None:
                kwargs["json"] = body
            response = getattr(api, method)(url, **kwargs)
            assert response.status_code < 500, (method, url, body, args, response.get_data(as_text=True))
            if response.status_code >= 400:
                assert response.headers["Content-Type"] == "application/problem+json", (method, url)

        check()
