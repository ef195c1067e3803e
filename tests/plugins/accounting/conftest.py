import pytest


@pytest.fixture
def modules():
    """Every test here runs with accounting installed."""
    return ("accounting",)


@pytest.fixture
def in_app(app):
    """Run a block in its own app context and session, committed at the end (for tests that also make
    HTTP requests: a request would otherwise share and close the test's session)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with app.app_context():
            from core.db import session

            yield session
            session.commit()
    return block
