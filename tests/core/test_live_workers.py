"""Every gunicorn worker serves a newly installed module on its next request, with no restart."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.core import live_server
from tests.core.live_server import empty_database  # noqa: F401 (a fixture)

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "example_plugin"
MAX_REQUESTS = 200
BATCH = 16

pytestmark = pytest.mark.slow


@pytest.fixture
def two_workers(empty_database, tmp_path):
    """``kontor serve --workers 2`` that can find the example plugin; yields (server, token)."""
    env = live_server.environment(empty_database, tmp_path / "instance", KONTOR_PLUGINS="kontor_hello.plugin",
                                  PYTHONPATH=str(EXAMPLE_PLUGIN))
    token = live_server.prepare(env, tmp_path)
    server = live_server.start(env, tmp_path, "serve", "--bind", "127.0.0.1:{port}", "--workers", "2")
    try:
        yield server, token
    finally:
        server.stop()


def _ping(pool, server, token) -> list[live_server.Response]:
    """A batch of concurrent pings, so that every worker gets some."""
    url = server.url("/api/v1/hello/ping")
    return list(pool.map(lambda _: live_server.request(url, token=token), range(BATCH)))


def _ping_until_two_workers(pool, server, token) -> tuple[set[int], list[int]]:
    """Ping in batches (at most MAX_REQUESTS) until two processes answered; (pids, statuses)."""
    pids: set[int] = set()
    statuses: list[int] = []
    while len(statuses) < MAX_REQUESTS and len(pids) < 2:
        for answer in _ping(pool, server, token):
            statuses.append(answer.status)
            if answer.status == 200:
                pids.add(answer.json()["pid"])
    return pids, statuses


def test_both_workers_serve_a_module_installed_through_the_api(two_workers):
    server, token = two_workers
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert {answer.status for answer in _ping(pool, server, token)} == {404}

        answer = live_server.request(server.url("/api/v1/modules"), "POST", token,
                                     {"name": "hello", "action": "install"})
        assert answer.status == 200, answer.body

        pids, statuses = _ping_until_two_workers(pool, server, token)
    assert len(pids) == 2, f"only {pids} answered in {len(statuses)} requests:\n{server.output()}"
    assert set(statuses) == {200}
    assert server.process.pid not in pids  # the workers answered, not the arbiter
