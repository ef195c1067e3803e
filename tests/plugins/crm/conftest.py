"""What the CRM's tests share: the CRM installed, a signed-in salesperson, a real SMTP server, a customer
with a contact, and two salespeople's rival deals.

The factories themselves are in :mod:`plugins.crm.testing` (shipped with the module, for the
modules that depend on the CRM too).
"""
import pytest

from core.mail import testing as mail_testing
from plugins.crm import testing


@pytest.fixture
def modules():
    """Every test here runs with the CRM installed."""
    return ("crm",)


@pytest.fixture
def salesperson_client(app, client):
    """``client`` signed in as ``mads``, a salesperson."""
    from core.db import session

    with app.app_context():
        testing.crm_user(session, "mads")
        session.commit()
    return testing.signed_in(client, "mads")


@pytest.fixture
def smtp_server():
    """An SMTP server on a free loopback port: (inbox, port)."""
    with mail_testing.smtp_server() as running:
        yield running


@pytest.fixture
def smtp(smtp_server, app):
    """The local server configured in the module settings; its inbox."""
    from core.db import session

    inbox, port = smtp_server
    with app.app_context():
        testing.configure_smtp(session, port)
        session.commit()
    return inbox


@pytest.fixture
def customer(app):
    """A company with a contact person, committed: (company id, person id)."""
    from core.db import session

    with app.app_context():
        firm = testing.company(session, "Fjord Logistik ApS", email="info@fjord.example")
        mette = testing.person(session, firm)
        session.commit()
        return firm.id, mette.id


@pytest.fixture
def deals(db):
    """:func:`plugins.crm.testing.rival_deals`, committed."""
    made = testing.rival_deals(db)
    db.commit()
    return made
