"""Whatever a client sends to the tax, currency, rate, revaluation and VAT endpoints, the answer is
a result or a 4xx problem, never a server error."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

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
         ("post", "/api/v1/accounting/rates"), ("get", "/api/v1/accounting/rates"),
         ("patch", "/api/v1/accounting/currencies/{currency}"), ("post", "/api/v1/accounting/revaluations"),
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
