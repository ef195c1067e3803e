"""Whatever a client sends to the tax and VAT endpoints, the answer is a result or a 4xx problem,
never a server error (the currency, rate and revaluation endpoints: test_currencies_api.py)."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.api_fuzz import assert_refused_naming

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "25", "25.5", "1E+30", "1E-30", "7,46", "2026-02-30", "2026-01-31", "9999-12-31",
                     "DK", "EUR", "JPY", "DKK", "2200", "1400", "4", "sale", "purchase", "NaN", "Infinity"]),
)
bodies = st.dictionaries(st.sampled_from(["code", "name", "country", "scope", "rate", "price_included",
                                          "reverse_charge", "collected_account", "paid_account", "report_code",
                                          "active", "currency", "date", "digits", "date_from", "date_to"]), scalars,
                        max_size=8)
queries = st.dictionaries(st.sampled_from(["date_from", "date_to", "currency", "after", "size"]),
                          st.text(max_size=20) | st.sampled_from(["2026-01-01", "2026-12-31", "0", "-5", "EUR"]),
                          max_size=4)
CALLS = [("post", "/api/v1/accounting/taxes"), ("patch", "/api/v1/accounting/taxes/{tax}"),
         ("get", "/api/v1/accounting/reports/vat"), ("get", "/api/v1/accounting/taxes/{tax}"),
         ("post", "/api/v1/accounting/vat-settlements")]


@pytest.mark.parametrize("method, path", CALLS)
def test_no_input_makes_the_api_fail(api, db, method, path):
    from sqlalchemy import select

    from plugins.accounting.tax.models import Tax

    tax_id = db.execute(select(Tax.id).where(Tax.code == "DK-S25")).scalar_one()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies, queries, st.sampled_from([str(tax_id), "0", "99999999999"]),
           st.sampled_from(["EUR", "DKK", "xx", "JPY"]))
    def check(body, query, tax, currency):
        url = path.format(tax=tax, currency=currency)
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
    st.tuples(st.sampled_from(["code", "name", "country", "scope", "report_code", "currency", "collected_account"]),
              bad_text),
    st.tuples(st.just("rate"), st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f))),
    st.tuples(st.sampled_from(["colour", "rate_percent", "id", "Rate"]), scalars),
)


@pytest.mark.parametrize("method, path", WRITES)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(api, db, method, path):
    from sqlalchemy import select, text

    from plugins.accounting.tax.models import Tax

    tax_id = db.execute(select(Tax.id).where(Tax.code == "DK-S25")).scalar_one()
    audit = db.execute(text("SELECT count(*) FROM core_audit")).scalar_one()
    db.rollback()
    url = path.format(tax=tax_id, currency="EUR")
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
