"""A throwaway PostgreSQL server for a test session, or the server ``KONTOR_TEST_POSTGRES_URL`` names.

The server runs from a temporary folder on a Unix socket only (no TCP port is opened to the network),
with durability off; :meth:`PostgresServer.stop` removes it.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass

EXTERNAL_URL_VARIABLE = "KONTOR_TEST_POSTGRES_URL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binaries() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run the README's test command, which installs it")
    return os.path.dirname(found[-1])


@dataclass
class PostgresServer:
    """A PostgreSQL server reachable at ``base_url`` (no database name)."""

    base_url: str
    folder: str | None = None
    bin_dir: str | None = None

    def url(self, database: str) -> str:
        base, _, query = self.base_url.partition("?")
        return f"{base.rstrip('/')}/{database}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        if self.folder:
            self._run("pg_ctl", "-D", f"{self.folder}/data", "-m", "immediate", "-w", "stop")
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        subprocess.run([f"{self.bin_dir}/{tool}", *args], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


def start() -> PostgresServer:
    """Start a fresh server in a temporary folder (fsync off: tests need no durability)."""
    external = os.environ.get(EXTERNAL_URL_VARIABLE)
    if external:
        return PostgresServer(base_url=external)  # a server URL without a database name
    folder = tempfile.mkdtemp(prefix="pgt")
    os.chmod(folder, 0o777)
    server = PostgresServer(base_url="", folder=folder, bin_dir=_binaries())
    port = _free_port()
    server._run("initdb", "-D", f"{folder}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync")
    options = (f"-p {port} -c listen_addresses='' -k {folder} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c max_connections=200")
    server._run("pg_ctl", "-D", f"{folder}/data", "-l", f"{folder}/log", "-w", "-t", "30", "-o", options, "start")
    server.base_url = f"postgresql+psycopg://postgres@/?host={folder}&port={port}"
    return server
