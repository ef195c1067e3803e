import pytest


@pytest.fixture
def modules():
    """Every test here runs with the CRM installed."""
    return ("crm",)
