"""Kontor's test kit: the fixtures, clients and factories the core's tests and any plugin's tests use.

It is a pytest plugin, registered by the ``kontor`` distribution (entry point ``pytest11``:
``kontor = "core.testing.plugin"``), so every test run where Kontor is installed has its fixtures
without a conftest: ``app``, ``db``, ``client``, ``admin_client``, ``client_with(permissions=…)``,
``api``, ``kontor`` (the CLI), each on a fresh database on SQLite and on PostgreSQL. See "Testing a
plugin" in docs/plugins.md.

Plain helpers to import in tests::

    from core.testing import WebClient, ApiClient, make_user, factories
"""
import os

# Argon2 at full strength costs ~60 ms a hash (far more on a busy machine) and a suite hashes
# thousands of times; the profile is read when the first password is hashed, after this has run.
os.environ.setdefault("KONTOR_PASSWORD_HASH_PROFILE", "CHEAPEST")

from core.testing import factories  # noqa: E402
from core.testing.clients import ApiClient, WebClient  # noqa: E402
from core.testing.factories import make_user  # noqa: E402

__all__ = ["ApiClient", "WebClient", "factories", "make_user"]
