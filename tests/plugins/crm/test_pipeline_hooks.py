"""crm_opportunity_won / crm_opportunity_lost reach other modules, inside the stage change's transaction.

This module is itself a tiny plugin (``crm_deal_watch``) that records what the hooks tell it.
"""
import pytest

from core import Manifest, hookimpl

from plugins.crm.pipeline import services

from plugins.crm.testing import crm_user as user, opportunity, stage_named

manifest = Manifest(name="crm_deal_watch", title="Deal watch", version="1.0",
                    summary="Records won and lost opportunities (a test plugin).", depends=("crm",))
SEEN: list[tuple[str, str, str]] = []


@hookimpl
def crm_opportunity_won(opportunity, session):
    assert session.get(type(opportunity), opportunity.id) is opportunity  # the same transaction
    SEEN.append(("won", opportunity.title, opportunity.stage.name))


@hookimpl
def crm_opportunity_lost(opportunity, session):
    SEEN.append(("lost", opportunity.title, opportunity.lost_reason))


@pytest.fixture
def watched(settings):
    """An app with this test plugin installed next to the CRM."""
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    SEEN.clear()
    return install(settings, "crm_deal_watch")


def test_won_and_lost_hooks(watched):
    from core.db import session

    with watched.app_context():
        owner = user(session, "mads", ["salesperson"])
        deal = opportunity(session, owner, title="Fleet deal")
        services.change_stage(session, deal, stage_named(session, "Proposal"))
        assert SEEN == []
        services.change_stage(session, deal, stage_named(session, "Won"))
        assert SEEN == [("won", "Fleet deal", "Won")]
        other = opportunity(session, owner, title="Racking")
        with pytest.raises(Exception):
            services.change_stage(session, other, stage_named(session, "Lost"))
        assert len(SEEN) == 1  # a refused move calls no hook
        services.change_stage(session, other, stage_named(session, "Lost"), lost_reason="Budget cut")
        assert SEEN[-1] == ("lost", "Racking", "Budget cut")
        session.rollback()


def test_board_move_fires_the_hook(watched, client):
    from core.db import session

    with watched.app_context():
        owner = user(session, "mads", ["salesperson"])
        deal = opportunity(session, owner, title="Heat pumps")
        won = stage_named(session, "Won").id
        session.commit()
        deal_id = deal.id
    assert client.login("mads", "correct horse battery").status_code == 302
    response = client.htmx("POST", f"/crm/opportunities/{deal_id}/stage", data={"stage_id": won, "from": "board"})
    assert response.status_code == 200
    assert SEEN == [("won", "Heat pumps", "Won")]
