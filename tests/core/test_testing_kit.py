"""The test kit (``core.testing``) that the core's tests and every plugin's tests use."""
from __future__ import annotations

import importlib.metadata

import pytest

from core import InvalidInput, acting, current_actor
from core.testing import factories


def test_the_kit_is_a_pytest_plugin_of_the_distribution(pytestconfig):
    [entry] = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "kontor"]
    assert entry.value == "core.testing.plugin"
    assert pytestconfig.pluginmanager.get_plugin("kontor").__name__ == "core.testing.plugin"


def test_a_client_with_permissions_may_do_exactly_that(client_with):
    reader = client_with(permissions=["core.party.read"])
    assert reader.get("/parties").status_code == 200
    assert reader.get("/admin/users").status_code == 403
    nobody = client_with()
    assert nobody.get("/parties").status_code == 403
    assert client_with(roles=["admin"]).get("/admin/users").status_code == 200


def test_an_api_client_with_permissions_may_do_exactly_that(api_with):
    reader = api_with(permissions=["core.party.read"])
    assert reader.get("/api/v1/parties").status_code == 200
    assert reader.post("/api/v1/parties", json={"name": "Nordsø Fisk ApS"}).status_code == 403


def test_factories_make_valid_audited_records_through_the_services(db):
    clerk = factories.user(db, permissions=["core.party.read"])
    assert [role.name for role in clerk.roles][0].startswith("test_role_")
    party = factories.party(db, "Nordsø Fisk ApS", country="DK", tags=["fish"])
    assert party.id and [tag.name for tag in party.tags] == ["fish"]
    with pytest.raises(InvalidInput):
        factories.party(db, "Bad", email="not an address")
    assert factories.company(db, legal_name="Renamed ApS").legal_name == "Renamed ApS"
    assert factories.company(db).base_currency == "DKK"


def test_a_command_does_not_leave_its_actor_behind(kontor):
    before = acting()
    assert kontor("modules", "list").exit_code == 0
    assert acting() == before and current_actor() is None
