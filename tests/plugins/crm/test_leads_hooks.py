"""The ``crm_lead_converted`` hook, implemented by a tiny module installed beside the CRM.

This test module is that module too: it has a manifest and a hook implementation, and the test
adds it to ``EXTRA_PLUGINS`` and installs it.
"""
import pytest
from sqlalchemy import select

from core import Manifest, hookimpl
from tests.contract import install

manifest = Manifest(name="crm_lead_listener", title="Lead listener", version="1.0",
                    summary="Notes every converted lead.", depends=("crm",))

#: (lead id, opportunity id, party id, lead status at call time) of every call.
CALLS = []


@hookimpl
def crm_lead_converted(lead, opportunity, party, session):
    CALLS.append((lead.id, opportunity.id, party.id, lead.status))
    if lead.name == "Refuse me":
        raise RuntimeError("the listener refuses this lead")


@pytest.fixture
def listening(settings):
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    app = install(settings, "crm_lead_listener")
    CALLS.clear()
    return app


def owner_id(app):
    from core.testing import make_user

    return make_user(app, "sam", ["salesperson"])[0]


def test_hook_crm_lead_converted(listening):
    from core.db import session
    from plugins.crm.leads import services

    sam = owner_id(listening)
    with listening.app_context():
        lead = services.create_lead(session, {"name": "Mette Nielsen", "company_name": "Fjord ApS",
                                              "owner_id": sam}, user=None)
        opportunity, party = services.convert_lead(session, lead, user=None, create_party=True)
        session.commit()
        assert CALLS == [(lead.id, opportunity.id, party.id, "qualified")]


def test_a_raising_listener_fails_the_conversion_whole(listening):
    from core.db import session
    from core.parties.models import Party
    from plugins.crm.leads import services
    from plugins.crm.leads.models import Lead

    sam = owner_id(listening)
    with listening.app_context():
        lead_id = services.create_lead(session, {"name": "Refuse me", "company_name": "Nope ApS", "owner_id": sam},
                                       user=None).id
        session.commit()
        parties = len(session.execute(select(Party)).scalars().all())
        with pytest.raises(RuntimeError):
            services.convert_lead(session, session.get(Lead, lead_id), user=None, create_party=True)
        session.rollback()
        assert session.get(Lead, lead_id).status == "new"
        assert len(session.execute(select(Party)).scalars().all()) == parties
