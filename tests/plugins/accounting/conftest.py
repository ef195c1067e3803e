import pytest


@pytest.fixture
def modules():
    """Every test here runs with accounting installed."""
    return ("accounting",)

