"""Kontor as operators run it: the ``kontor`` command and real servers, in subprocesses.

The subprocess sees only what the environment given here lets it see: the installed ``kontor``
and whatever ``PYTHONPATH`` holds (nothing from ``tests/`` unless asked).
"""
from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

KONTOR = str(Path(sys.executable).parent / "kontor")
READY_SECONDS = 60
REQUEST_SECONDS = 30


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a Kontor subprocess: this one's, minus any Kontor or path settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_") and k != "PYTHONPATH"}
    env.update(KONTOR_DATABASE_URL=database_url, KONTOR_INSTANCE=str(instance),
               KONTOR_SECRET_KEY="live-test-secret", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def kontor(env: dict[str, str], *args: str, cwd: Path) -> str:
    """Run ``kontor ARGS…`` and return its stdout; fail with its stderr when it exits non-zero."""
    result = subprocess.run([KONTOR, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"kontor {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def prepare(env: dict[str, str], cwd: Path) -> str:
    """Initialise the database, create an administrator and return their API token."""
    kontor(env, "init", cwd=cwd)
    kontor(env, "users", "create", "operator", "--admin", cwd=cwd)
    return kontor(env, "users", "token", "operator", cwd=cwd).strip()


@dataclass
class Response:
    """What a server answered."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self):
        return json.loads(self.body)


def request(url: str, method: str = "GET", token: str | None = None, body: dict | None = None,
            timeout: float = REQUEST_SECONDS) -> Response:
    """One HTTP request; HTTP errors are answers too."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Response(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read(), dict(exc.headers))


@dataclass
class Server:
    """A Kontor server subprocess listening on ``base_url``."""

    process: subprocess.Popen
    base_url: str
    log: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Stop the server by its process id: terminate, wait, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start(env: dict[str, str], cwd: Path, *command: str) -> Server:
    """Start ``kontor COMMAND…`` (``serve --bind …`` or ``run --port …``) and wait until it answers.

    Readiness is polled on ``/health`` with a short timeout per try, up to an overall deadline.
    """
    port = free_port()
    args = [a.replace("{port}", str(port)) for a in command]
    log = cwd / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([KONTOR, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.output()}")
        try:
            if request(server.url("/health"), timeout=1).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)  # pacing of the readiness poll, not synchronisation
    server.stop()
    raise AssertionError(f"the server did not answer /health within {READY_SECONDS} s:\n{server.output()}")


_databases = itertools.count()


@pytest.fixture
def empty_database(backend, request, tmp_path):
    """The URL of a database with nothing in it yet, on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"kontor_live{next(_databases)}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield server.url(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
