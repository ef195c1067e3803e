"""Browser tests: Debian's Chromium driven by Playwright against a live Kontor server.

Each test gets its own database (a copy of the initialised template), a werkzeug server on a free
loopback port serving the same ``Dispatcher`` gunicorn serves, and a fresh browser context whose
base URL is that server, so ``page.goto("/parties")`` reaches it.
"""
from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from core.testing import make_user
from tests.e2e.pages import DESKTOP, LiveServer, sign_in

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    """Mark every test of this folder ``browser`` (``-m "not browser"`` leaves them out)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """The backend of this run: browser flows run on both, like every other DB test."""
    return request.param


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args) -> dict:
    """Launch Debian's Chromium (Playwright cannot download its own browsers here)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def settings(settings):
    """Jobs go to a real queue, a SQLite file in the test's instance folder, which the worker process
    of :func:`job_worker` takes them from (not run inside the request, as elsewhere in the suite)."""
    settings["QUEUE_URL"] = f"sqlite:///{Path(settings['INSTANCE_PATH']) / 'queue.db'}"
    yield settings
    from core.jobs.queue import close_queue

    close_queue(settings["QUEUE_URL"])


@pytest.fixture
def job_worker(live_server, settings, tmp_path):
    """A real ``kontor worker`` process beside the live server, on the same database and queue."""
    from tests.core import live_server as live

    plugins_path = ":".join(str(HERE.parent / folder) for folder in ("example_plugin", "fixture_plugins"))
    env = live.environment(settings["DATABASE_URL"], Path(settings["INSTANCE_PATH"]),
                           KONTOR_QUEUE_URL=settings["QUEUE_URL"], KONTOR_PLUGINS=",".join(settings["EXTRA_PLUGINS"]),
                           PYTHONPATH=plugins_path, KONTOR_JOB_HEARTBEAT_SECONDS="1")
    env["KONTOR_SECRET_KEY"] = settings["SECRET_KEY"]
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen([live.KONTOR, "worker", "--threads", "2"], env=env, cwd=tmp_path, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90  # a worker builds its app before it says so; slow on a busy machine
        while b"Kontor worker:" not in log.read_bytes():
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start:\n" + log.read_text(errors="replace")
            time.sleep(0.05)  # pacing of the readiness poll
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def live_server(dispatcher):
    """Kontor served over HTTP from a thread (SQLite file or PostgreSQL); stopped after the test."""
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kontor-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", dispatcher)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def browser_context_args(live_server) -> dict:
    """Every page of a test talks to that test's server, at desktop width, in English."""
    return {"base_url": live_server.url, "viewport": DESKTOP, "locale": "en-GB"}


@pytest.fixture
def context(new_context):
    """A fresh browser context whose actions give up after 15 s rather than 30 s."""
    context = new_context()
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def logged_in_page(page: Page, admin) -> Page:
    """A page signed in as the administrator, showing the dashboard."""
    sign_in(page, *admin)
    return page


@pytest.fixture
def staff_user(live_server) -> tuple[str, str]:
    """A user with only the ``staff`` role: (username, password)."""
    _, password = make_user(live_server.app, "clerk", ["staff"], "clerk password 1")
    return "clerk", password
