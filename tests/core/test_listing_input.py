"""A list's ``after`` cursor, ``sort`` key and export ``format`` are client input: checked, never a 500.

The walk takes every GET rule of the URL map of the demo instance (every bundled module installed,
with its demo data) on both backends, as a page (signed in) and as an API call (bearer token):

* a crafted cursor (``[1,2]``, ``[[],1]``, garbage, an object, a lone surrogate, a huge id) is a 422
  naming ``after`` on every list (a page showing the list view, an API operation documenting
  ``after``), and nothing answers it with a 5xx;
* an unknown ``sort`` key is a 422 naming ``sort`` on every sortable list;
* an unsupported ``format`` is a 422 naming ``format`` wherever ``format=csv`` downloads a CSV;
* the cursors and sort links the lists write themselves still lead to the next page.
"""
from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.routing import Rule

from core.api.base import API_PREFIX, PROBLEM_JSON
from core.web.listing import ListArgumentError, decode_cursor, encode_cursor
from tests.demo_instance import demo  # noqa: F401  (the module-scoped fixture)


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


#: [1,2]: a position on a list sorted by a number, an id where a date, a name or an amount is expected
#: on the others (a 422 there, never a 500 anywhere).
ONE_TWO = "WzEsMl0"
BAD_CURSORS = (
    "W1tdLDFd",  # [[],1]
    _cursor([1]),
    _cursor({"a": 1}),
    _cursor(["2024-01-01", "x"]),
    _cursor(["2024-01-01", True]),
    _cursor(["x", 2**70]),
    _cursor(["\ud800", 1]),
    _cursor(["a\u0000b", 1]),
    "!!not-base64!!",
    "////",
)
#: Rules that take no ``after``/``sort`` at all: files and fragments that a list does not page.
NOT_WALKED_ENDPOINTS = {"static", "api_core.openapi"}
ID = 1  # the demo's first record of every kind exists


def _get_rules(app) -> list[Rule]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_WALKED_ENDPOINTS:
            continue
        if rule.endpoint.endswith(".static"):
            continue
        rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def _path(rule: Rule) -> str:
    return rule.build({arg: ID for arg in rule.arguments}, append_unknown=False)[1]


class Walker:
    """Sends GETs to the demo instance as the admin: a signed-in page client, or a bearer token."""

    def __init__(self, demo):
        self.demo = demo
        self.pages = demo.page_client("admin")
        self.rules = _get_rules(demo.app)
        document = demo.api_get(f"{API_PREFIX}/openapi.json").get_json()
        self.api_query = {}
        for path, operations in document["paths"].items():
            if "get" in operations:
                parameters = operations["get"].get("parameters", [])
                self.api_query[path] = {p["name"] for p in parameters if p["in"] == "query"}

    def get(self, path: str, **args):
        if path.startswith(API_PREFIX):
            return self.demo.api_get(path, query_string=args)
        return self.pages.get(path, query_string=args)

    def documented_query(self, rule: Rule) -> set[str]:
        from core.api.openapi import openapi_path

        return self.api_query.get(openapi_path(rule)[0], set())


@pytest.fixture(scope="module")
def walker(demo):
    return Walker(demo)


def _html(response) -> str:
    return response.get_data(as_text=True) if response.mimetype == "text/html" else ""


def _is_list_page(body: str) -> bool:
    """A page showing a keyset list: the list view, or a link to the next page."""
    return 'class="list-view"' in body or 'rel="next"' in body


def _is_sortable_page(body: str) -> bool:
    """A page showing the list view with its sort field."""
    return 'class="list-view"' in body and 'type="hidden" name="sort"' in body


def _assert_refused(response, field: str, where: str):
    assert response.status_code == 422, (where, response.status_code, response.get_data(as_text=True)[:300])
    if where.startswith(API_PREFIX):
        assert response.mimetype == PROBLEM_JSON, where
        assert field in response.get_json()["errors"], (where, response.get_json())
    else:
        assert response.mimetype == "text/html", where


def test_every_list_refuses_a_crafted_cursor(walker):
    lists, plain_pages = [], {}
    for rule in walker.rules:
        path = _path(rule)
        plain = walker.get(path)
        assert plain.status_code < 500, (path, plain.status_code)
        plain_pages[path] = plain
        is_api = path.startswith(API_PREFIX)
        if plain.status_code != 200:
            continue
        # an API list documents ``after``, or shows it is one by answering a cursor for the next page
        is_list = ("after" in walker.documented_query(rule) or bool(plain.is_json and isinstance(
            plain.get_json(), dict) and plain.get_json().get("next"))) if is_api else _is_list_page(_html(plain))
        for cursor in (ONE_TWO, *BAD_CURSORS):
            response = walker.get(path, after=cursor)
            assert response.status_code < 500, (path, cursor, response.status_code)
            if is_list and cursor != ONE_TWO:
                _assert_refused(response, "after", f"{path} {cursor}")
            if is_list and cursor == ONE_TWO:
                assert response.status_code in (200, 422), (path, response.status_code)
        if is_list:
            lists.append(path)
    # the lists the walk found: users, audit, parties, leads, opportunities, activities, tickets,
    # campaigns, entries, invoices, bills, payments, rates, statements… as pages and as API
    assert len(lists) >= 24, lists
    for expected in ("/admin/users", "/parties", "/crm/leads", "/crm/opportunities", "/crm/activities",
                     "/crm/tickets", "/accounting/entries", "/accounting/invoices", "/accounting/payments",
                     "/accounting/rates", "/accounting/statements", "/api/v1/users", "/api/v1/audit",
                     "/api/v1/crm/leads", "/api/v1/crm/opportunities", "/api/v1/crm/activities",
                     "/api/v1/crm/tickets", "/api/v1/accounting/entries", "/api/v1/accounting/invoices",
                     "/api/v1/accounting/payments", "/api/v1/accounting/rates", "/api/v1/accounting/statements"):
        assert expected in lists, (expected, sorted(lists))


def test_every_sortable_list_refuses_an_unknown_sort_key(walker):
    sortable = []
    for rule in walker.rules:
        path = _path(rule)
        is_api = path.startswith(API_PREFIX)
        if is_api:
            takes_sort = "sort" in walker.documented_query(rule)
        else:
            plain = walker.get(path)
            takes_sort = plain.status_code == 200 and _is_sortable_page(_html(plain))
        response = walker.get(path, sort="no-such-key")
        assert response.status_code < 500, (path, response.status_code)
        if takes_sort:
            _assert_refused(response, "sort", path)
            sortable.append(path)
    assert len(sortable) >= 12, sortable
    assert "/accounting/invoices" in sortable and "/api/v1/accounting/payments" in sortable


def test_every_export_refuses_an_unknown_format(walker):
    exports = []
    for rule in walker.rules:
        path = _path(rule)
        csv = walker.get(path, format="csv")
        assert csv.status_code < 500, (path, csv.status_code)
        for fmt in ("pdf", "", "CSV", "../csv"):
            response = walker.get(path, format=fmt)
            assert response.status_code < 500, (path, fmt, response.status_code)
            if csv.status_code == 200 and csv.mimetype == "text/csv" and fmt:
                _assert_refused(response, "format", path)
        if csv.status_code == 200 and csv.mimetype == "text/csv":
            exports.append(path)
    assert "/accounting/accounts" in exports
    assert len(exports) >= 8, exports


def _links(body: str, rel_next_only: bool) -> list[str]:
    pattern = r'<a rel="next" href="([^"]+)"' if rel_next_only else r'href="([^"]*[?&](?:amp;)?sort=[^"]*)"'
    return [unescape(m) for m in re.findall(pattern, body)]


def test_the_lists_own_cursors_and_sort_links_lead_on(walker):
    """Every sort link of every list page, and the next page of each, answer 200: the checks refuse
    crafted cursors only, never the ones a list writes (dates, times, names, amounts, NULLs)."""
    followed = 0
    for rule in walker.rules:
        path = _path(rule)
        if path.startswith(API_PREFIX):
            continue
        plain = walker.get(path)
        body = _html(plain)
        if plain.status_code != 200 or not body:
            continue
        for link in sorted(set(_links(body, False)))[:12]:
            if urlsplit(link).path != path:
                continue
            sorted_page = walker.pages.get(link)
            assert sorted_page.status_code == 200, (link, sorted_page.status_code)
            for next_link in _links(_html(sorted_page), True):
                following = walker.pages.get(next_link)
                assert following.status_code == 200, (next_link, following.status_code)
                followed += 1
        for next_link in _links(body, True):
            following = walker.pages.get(next_link)
            assert following.status_code == 200, (next_link, following.status_code)
            followed += 1
    assert followed >= 20


def test_api_lists_page_on_with_their_own_cursor(walker):
    paged = 0
    for rule in walker.rules:
        path = _path(rule)
        if not path.startswith(API_PREFIX) or "after" not in walker.documented_query(rule):
            continue
        first = walker.get(path, limit=2) if "limit" in walker.documented_query(rule) else walker.get(path)
        assert first.status_code == 200, (path, first.get_data(as_text=True)[:300])
        cursor = first.get_json().get("next")
        if cursor:
            args = {"after": cursor, **({"limit": 2} if "limit" in walker.documented_query(rule) else {})}
            second = walker.get(path, **args)
            assert second.status_code == 200, (path, second.get_data(as_text=True)[:300])
            key = "items" if "items" in first.get_json() else "lines"
            seen = {json.dumps(i, sort_keys=True) for i in first.get_json()[key]}
            assert seen.isdisjoint(json.dumps(i, sort_keys=True) for i in second.get_json()[key]), path
            paged += 1
    assert paged >= 6


#: Values of the right JSON type that the sort column still cannot take: (page, sort, cursor value).
TYPED = (
    ("/accounting/invoices", "total", "1e999999"),  # more digits than the money column holds
    ("/accounting/invoices", "total", "12.345"),  # more decimals than it holds
    ("/accounting/invoices", "total", "NaN"),
    ("/accounting/invoices", "total", "twelve"),
    ("/accounting/invoices", "date", "0000-01-01"),
    ("/accounting/invoices", "date", "2024-02-30"),
    ("/crm/leads", "created", "2024-01-01T10:00:00"),  # a naive time for an aware column
    ("/crm/leads", "created", "yesterday"),
    ("/crm/leads", "name", 12),
    ("/accounting/payments", "amount", 12.5),
)


def test_a_cursor_value_the_sort_column_cannot_take_is_refused(walker):
    for path, sort, value in TYPED:
        assert walker.get(path, sort=sort).status_code == 200, (path, sort)
        _assert_refused(walker.get(path, sort=sort, after=_cursor([value, 1])), "after", f"{path} {sort} {value}")
        _assert_refused(walker.get(path, sort=sort, after=_cursor([value, 2**64])), "after", path)


# -- the cursor itself, without a database --


def test_a_cursor_round_trips_and_garbage_decodes_to_nothing():
    assert decode_cursor(encode_cursor(["2024-05-01", 7])) == ["2024-05-01", 7]
    for garbage in ("", None, "!!", "////", _cursor({"a": 1}), base64.urlsafe_b64encode(b"\xff\xfe").decode()):
        assert decode_cursor(garbage) is None
    assert issubclass(ListArgumentError, Exception) and ListArgumentError("x", field="after").status == 422


# -- dates and months from the query string --


@pytest.mark.parametrize("username", ["admin", "viewer"])
def test_a_close_month_that_no_date_can_hold_is_a_422_naming_it(demo, username):
    for month in ("0000-01", "0000-12"):
        response = demo.api_get("/api/v1/crm/opportunities", username, query_string={"close_month": month})
        assert response.status_code == 422 and response.mimetype == PROBLEM_JSON, (month, response.status_code)
        assert "close_month" in response.get_json()["errors"]
    last = demo.api_get("/api/v1/crm/opportunities", username, query_string={"close_month": "9999-12"})
    assert last.status_code == 200 and last.get_json()["items"] == []
    first = demo.api_get("/api/v1/crm/opportunities", username, query_string={"close_month": "0001-01"})
    assert first.status_code == 200 and first.get_json()["items"] == []
    pages = demo.page_client(username)
    for month in ("0000-01", "9999-12"):
        assert pages.get("/crm/opportunities", query_string={"close_month": month}).status_code == 200


def test_the_last_day_a_date_holds_is_a_filter_like_any_other(demo):
    for args in ({"date_to": "9999-12-31"}, {"date_from": "9999-12-31", "date_to": "9999-12-31"}):
        response = demo.api_get("/api/v1/audit", query_string=args)
        assert response.status_code == 200, (args, response.status_code)
        assert demo.page_client().get("/audit", query_string=args).status_code == 200
    everything = demo.api_get("/api/v1/audit", query_string={"date_to": "9999-12-31"}).get_json()["items"]
    assert everything == demo.api_get("/api/v1/audit").get_json()["items"] != []
