"""Whatever a client sends, the API answers with a result or a 4xx problem: never a server error.

Bodies and query strings are generated from the OpenAPI document's own field names, with values of
every JSON type (huge numbers, odd strings, nested objects), so a new endpoint is covered as soon
as it is documented.
"""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api_fuzz import (SKIPPED, assert_no_server_error, documents, operations as documented_operations, resolve,
                            assert_refused_naming, send, values)

def test_no_input_makes_the_api_fail(app, api):
    spec = api.get("/api/v1/openapi.json").get_json()
    operations = list(documented_operations(spec))
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
        @given(documents(operation, known_ids))
        def check(case):
            body, args, record_id = case
            url = path.replace("{party_id}", record_id).replace("{user_id}", record_id).replace("{role_id}", record_id)
            assert_no_server_error(send(api, method, url, body, args), (method, url, body, args))

        check()


#: Examples per operation of the bad-input fuzz: each is one request the input screen must refuse.
BAD_INPUT_EXAMPLES = 8

bad_text = st.builds(lambda head, bad, tail: head + bad + tail, st.text(max_size=8),
                     st.sampled_from(["\x00", "\ud800", "\udfff", "\udbff"]), st.text(max_size=8))
unknown_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).map(lambda s: "x_" + s)


class TestEveryModuleRefusesBadInput:
    """Surrogates and NUL in any field, floats for money and unknown fields, sent to every
    documented operation of every module: a 422 problem naming the field, and nothing changes."""

    @pytest.fixture
    def modules(self):
        return ("accounting", "crm")

    def test_bad_input_is_refused_naming_the_field(self, app, api):
        from sqlalchemy import text

        from core.db import session

        def audit_rows() -> int:
            with app.app_context():
                count = session.execute(text("SELECT count(*) FROM core_audit")).scalar_one()
                session.rollback()
                return count

        spec = api.get("/api/v1/openapi.json").get_json()
        operations = [(method, path, resolve(spec, op["requestBody"]["content"]["application/json"]["schema"]))
                      for path, ops in spec["paths"].items() for method, op in ops.items()
                      if "requestBody" in op and (method, path) not in SKIPPED]
        assert len(operations) >= 30
        before = audit_rows()
        for method, path, body in operations:
            properties = {name: resolve(spec, prop) for name, prop in body.get("properties", {}).items()
                          if not prop.get("readOnly")}
            money = sorted(name for name, prop in properties.items() if prop.get("format") == "decimal")
            cases = [st.tuples(st.sampled_from(sorted(properties)), bad_text)] if properties else []
            if money:
                cases.append(st.tuples(st.sampled_from(money), st.floats(allow_nan=False, allow_infinity=False)
                                       .filter(lambda f: f != int(f))))
            cases.append(st.tuples(unknown_names, values))
            url = re.sub(r"\{[^}]+\}", "1", path)  # the screen answers before any record is looked up

            @settings(max_examples=BAD_INPUT_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
            @given(st.one_of(cases), st.fixed_dictionaries({}, optional={n: values for n in sorted(properties)}))
            def check(case, rest):
                name, value = case
                body = {**rest, name: value}
                assert_refused_naming(getattr(api, method)(url, json=body), name, (method, url, body))

            check()
        assert audit_rows() == before
