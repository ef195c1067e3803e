"""Exports have one spelling across the platform.

A list or report downloads from its own URL with ``format=csv`` or ``format=xlsx`` and the same
arguments as the page (no ``/export`` or ``.<fmt>`` URL of its own), and its buttons come from the
core's one macro, ``export_buttons`` of ``core/_export.html``: the tests follow the buttons of the pages.
"""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

GROUP = re.compile(r'<div id="([\w-]+)" class="export-buttons" role="group"(.*?)</div>', re.DOTALL)


@pytest.fixture
def modules():
    """The pages walked here are the CRM's and accounting's."""
    return ("accounting", "crm")


#: Pages with export buttons, and the arguments each must carry into its downloads.
PAGES = [
    ("/crm/leads?source=event&q=fair", {"source": "event", "q": "fair"}),
    ("/crm/opportunities?sort=title", {"sort": "title"}),
    ("/crm/activities?view=all&kind=call", {"view": "all", "kind": "call"}),
    ("/crm/tickets?priority=high", {"priority": "high"}),
    ("/crm/campaigns?status=draft", {"status": "draft"}),
    ("/accounting/reports/vat?date_from=2026-01-01&date_to=2026-03-31",
     {"date_from": "2026-01-01", "date_to": "2026-03-31"}),
    ("/accounting/reports/trial-balance?date_from=2026-01-01&date_to=2026-03-31",
     {"date_from": "2026-01-01", "date_to": "2026-03-31"}),
    ("/accounting/reports/aged/receivables?on=2026-03-31", {"on": "2026-03-31"}),
    ("/accounting/accounts", {}),
    ("/accounting/invoices?state=posted&q=acme", {"state": "posted", "q": "acme"}),
    ("/accounting/bills?sort=-date", {"sort": "-date"}),
]


@pytest.mark.parametrize("page, expected", PAGES, ids=[page for page, _ in PAGES])
def test_the_buttons_download_the_page_itself_with_its_arguments(admin_client, page, expected):
    response = admin_client.get(page)
    assert response.status_code == 200, page
    groups = GROUP.findall(response.get_data(as_text=True))
    assert len(groups) == 1, groups
    group_id, body = groups[0]
    assert f'aria-labelledby="{group_id}-caption"' in body and ">Export</span>" in body
    links = {unescape(href): label for href, label in re.findall(r'href="([^"]+)" download>(\w+)</a>', body)}
    assert sorted(links.values()) == ["CSV", "XLSX"]
    for href, label in links.items():
        url = urlsplit(href)
        args = dict(parse_qsl(url.query))
        assert url.path == urlsplit(page).path and args.pop("format") == label.lower(), href
        assert expected.items() <= args.items() and "after" not in args, href
        download = admin_client.get(href)
        assert download.status_code == 200, href
        assert download.mimetype == ("text/csv" if label == "CSV" else
                                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert download.headers["Content-Disposition"].startswith("attachment; filename=")
