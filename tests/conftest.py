"""What the suite adds to Kontor's test kit (``core.testing``, a pytest plugin): this repository's plugins.

The fixtures (``db_url`` on SQLite and PostgreSQL, ``settings``, ``app``, ``db``, ``client``,
``admin_client``, ``client_with``, ``api``, ``kontor`` …) come from the kit, registered by the
``pytest11`` entry point of the installed ``kontor`` distribution.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGINS = ROOT / "tests" / "example_plugin"
FIXTURE_PLUGINS = ROOT / "tests" / "fixture_plugins"
sys.path.insert(0, str(EXAMPLE_PLUGINS))
sys.path.insert(0, str(FIXTURE_PLUGINS))


@pytest.fixture(scope="session")
def kontor_plugins() -> tuple[str, ...]:
    """The example plugin (``tests/example_plugin``, not pip-installed) is loaded in every test app."""
    return ("kontor_hello.plugin",)
