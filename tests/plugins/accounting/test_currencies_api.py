"""The currencies, rates and revaluation endpoints: what they answer, and that whatever a client sends
them is a result or a 4xx problem naming the field, never a server error."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from tests.api_fuzz import assert_refused_naming

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "25", "1E+30", "1E-30", "7,46", "2026-02-30", "2026-01-31", "9999-12-31",
                     "EUR", "JPY", "DKK", "NaN", "Infinity"]),
)
bodies = st.dictionaries(st.sampled_from(["code", "name", "rate", "active", "currency", "date", "digits"]), scalars,
                         max_size=6)
queries = st.dictionaries(st.sampled_from(["currency", "after", "size"]),
                          st.text(max_size=20) | st.sampled_from(["0", "-5", "EUR", "600"]), max_size=3)
CALLS = [("post", "/api/v1/accounting/rates"), ("get", "/api/v1/accounting/rates"),
         ("get", "/api/v1/accounting/currencies"), ("patch", "/api/v1/accounting/currencies/{currency}"),
         ("post", "/api/v1/accounting/revaluations")]


def test_rates_api(api):
    created = api.post("/api/v1/accounting/rates", json={"currency": "EUR", "date": "2026-05-01", "rate": "7.4601"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["rate"] == "7.46010000"
    bad = api.post("/api/v1/accounting/rates", json={"currency": "EUR", "date": "2026-05-01", "rate": "0"})
    assert bad.status_code == 422 and "rate" in bad.get_json()["errors"]
    listed = api.get("/api/v1/accounting/rates?currency=EUR").get_json()
    assert [(r["currency"], r["date"]) for r in listed["items"]] == [("EUR", "2026-05-01")]


def test_currencies_api(api):
    listed = api.get("/api/v1/accounting/currencies").get_json()["items"]
    assert {"code": "JPY", "name": "Japanese yen", "digits": 0, "active": True} in listed
    changed = api.patch("/api/v1/accounting/currencies/HUF", json={"active": True, "digits": 0})
    assert changed.status_code == 200 and changed.get_json()["digits"] == 0
    assert api.patch("/api/v1/accounting/currencies/QQQ", json={"active": True}).status_code == 404
    assert api.patch("/api/v1/accounting/currencies/DKK", json={"active": False}).status_code == 422


@pytest.mark.parametrize("method, path", CALLS)
def test_no_input_makes_the_api_fail(api, db, method, path):
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies, queries, st.sampled_from(["EUR", "DKK", "xx", "JPY", "KWD"]))
    def check(body, query, currency):
        url = path.format(currency=currency)
        response = getattr(api, method)(url, json=body, query_string=query) if method != "get" else \
            api.get(url, query_string=query)
        assert response.status_code < 500, (url, body, query, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"

    check()


#: Examples per call of the bad-input fuzz below.
BAD_INPUT_EXAMPLES = 15
WRITES = [(method, path) for method, path in CALLS if method in ("post", "patch")]
bad_text = st.builds(lambda head, bad: head + bad, st.text(max_size=8), st.sampled_from(["\x00", "\ud800", "\udc00"]))
bad_fields = st.one_of(
    st.tuples(st.sampled_from(["name", "currency"]), bad_text),
    st.tuples(st.just("rate"), st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f))),
    st.tuples(st.sampled_from(["colour", "rate_percent", "id", "Rate"]), scalars),
)


@pytest.mark.parametrize("method, path", WRITES)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(api, db, method, path):
    audit = db.execute(text("SELECT count(*) FROM core_audit")).scalar_one()
    db.rollback()
    url = path.format(currency="EUR")
    refused = 0

    @settings(max_examples=BAD_INPUT_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bad_fields)
    def check(case):
        nonlocal refused
        name, value = case
        assert_refused_naming(getattr(api, method)(url, json={name: value}), name, (url, name, value))
        refused += 1

    check()
    assert refused >= 1
    assert db.execute(text("SELECT count(*) FROM core_audit")).scalar_one() == audit
