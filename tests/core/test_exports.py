"""Exports have one spelling across the platform.

A list or report downloads from its own URL with ``format=csv`` or ``format=xlsx`` and the same
arguments as the page (no ``/export`` or ``.<fmt>`` URL of its own), and its buttons come from the
core's one macro, ``export_buttons`` of ``core/_export.html``: a test reads every route and template
of the core, the bundled modules and the plugin scaffold, and the others follow the buttons of the pages.
"""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "core", ROOT / "plugins"]
MACRO = ROOT / "core" / "templates" / "core" / "_export.html"
ROUTE = re.compile(r"""@\w+\.(?:get|post|route)\(\s*["']([^"']+)["']""")
#: A download link written by hand: an export argument, a format given to url_for, a path ending in .csv.
HAND_WRITTEN = re.compile(r"""\bexport=|\bfmt=|\bformat=['"](?:csv|xlsx)['"]|export\.(?:csv|xlsx)""")
GROUP = re.compile(r'<div id="([\w-]+)" class="export-buttons" role="group"(.*?)</div>', re.DOTALL)


def _files(*suffixes: str):
    for folder in SOURCES:
        for path in folder.rglob("*"):
            if path.is_file() and path.name.endswith(suffixes) and "__pycache__" not in path.parts:
                yield path


def test_no_export_has_a_url_of_its_own():
    separate = [f"{path.relative_to(ROOT)}: {rule}" for path in _files(".py", ".py.tmpl")
                for rule in ROUTE.findall(path.read_text(encoding="utf-8"))
                if rule.rstrip("/").endswith("/export") or ".<" in rule]
    assert separate == []


def test_every_export_button_comes_from_the_core_macro():
    by_hand = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in _files(".html", ".html.tmpl")
               if path != MACRO for match in HAND_WRITTEN.finditer(path.read_text(encoding="utf-8"))]
    assert by_hand == []


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
    ("/accounting/payments?kind=inbound", {"kind": "inbound"}),
]


@pytest.mark.parametrize("page, expected", PAGES, ids=[page for page, _ in PAGES])
def test_the_buttons_download_the_page_itself_with_its_arguments(admin_client, page, expected):
    response = admin_client.get(page)
    assert response.status_code == 200, page
    groups = GROUP.findall(response.get_data(as_text=True))
    assert len(groups) == 1, groups
    group_id, body = groups[0]
    assert f'aria-labelledby="{group_id}-caption"' in body and ">Export</span>" in body
    links = {unescape(href): label for href, label in re.findall(r'href="([^"]+)">(CSV|XLSX)</a>', body)}
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
