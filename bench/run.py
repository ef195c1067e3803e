"""Kontor's benchmark runner: app cold start, the party list under gunicorn, module install time.

Prints a table of medians over several runs and writes the figures as JSON to ``bench/results/``.
Run on demand (never part of the test run), from the repository root:

    .venv/bin/python bench/run.py            # full run on SQLite (about 6 minutes)
    .venv/bin/python bench/run.py --postgres # SQLite and a throwaway PostgreSQL (about 12 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run (about 1 minute)

Every server it starts listens on 127.0.0.1 only and is stopped by its PID; load runs are bounded in
time and count.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
for extra in (ROOT, BENCH):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import datagen  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PYTHON = sys.executable
SECRET = "bench-" + secrets.token_hex(16)
ADMIN_NAME = "benchadmin"

WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("KONTOR %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), b, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Figure:
    """One measured quantity: its runs and their median."""

    section: str
    what: str
    backend: str
    unit: str
    values: list[float]
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kontor_argv() -> list[str]:
    """The ``kontor`` console script of the environment this runner runs in."""
    script = Path(PYTHON).parent / "kontor"
    if not script.exists():
        raise SystemExit(f"{script} is missing: install Kontor into this environment first")
    return [str(script)]


def kontor_env(url: str, instance: Path, plugins: bool = False) -> dict:
    """The environment a ``kontor`` process of this benchmark runs in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
    env.update({"KONTOR_DATABASE_URL": url, "KONTOR_INSTANCE": str(instance), "KONTOR_SECRET_KEY": SECRET,
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "example_plugin")])})
    if plugins:
        env["KONTOR_PLUGINS"] = "kontor_hello.plugin"
    return env


def probe(name: str, *args: str, env: dict | None = None) -> tuple[dict, float]:
    """Run a probe of bench/probes.py in a fresh process: its JSON, and the process's wall time."""
    t0 = time.perf_counter()
    done = subprocess.run([PYTHON, str(BENCH / "probes.py"), name, *args], capture_output=True, text=True,
                          env=env or kontor_env("", Path(tempfile.gettempdir())), cwd=ROOT, timeout=600)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"probe {name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def kontor(args: list[str], url: str, instance: Path, plugins: bool = False, check: bool = True):
    """Run ``kontor ARGS`` against ``url``; the completed process and its wall time."""
    t0 = time.perf_counter()
    done = subprocess.run(kontor_argv() + args, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env=kontor_env(url, instance, plugins), stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if check and done.returncode != 0:
        raise RuntimeError(f"kontor {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done, wall


# --------------------------------------------------------------------------------------------------
# Databases


@contextlib.contextmanager
def in_app(url: str, instance: Path):
    """An application context over the database at ``url``, as a command or job has one: services
    that announce domain events (``core.hooks()``) need the running app's modules."""
    from core.app import create_app

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "MARKETPLACE": ""})
    with app.app_context():
        yield app


def each_backend(backends: list[str], prefix: str):
    """Yield ``(backend, Databases)`` for each of ``backends`` ("sqlite", "postgresql").

    A throwaway PostgreSQL is started when needed; the server, the engines and the scratch
    folder are cleaned up afterwards, whatever happens.
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    pg_server = None
    try:
        for backend in backends:
            if backend == "postgresql" and pg_server is None:
                from tests import pg

                log("starting a throwaway PostgreSQL")
                pg_server = pg.start()
            log(f"{backend}:")
            yield backend, Databases(backend, workdir, pg_server)
    finally:
        if pg_server is not None:
            pg_server.stop()
        from core.db import dispose_engines

        dispose_engines()
        shutil.rmtree(workdir, ignore_errors=True)


class Databases:
    """Fresh databases on one backend: initialised ones copied from a template, or empty ones."""

    def __init__(self, backend: str, workdir: Path, pg_server=None):
        self.backend = backend
        self.workdir = workdir
        self.pg = pg_server
        self.count = 0
        self.template = None

    def _instance(self) -> Path:
        self.count += 1
        folder = self.workdir / f"{self.backend}-{self.count}"
        folder.mkdir(parents=True)
        return folder

    def _admin_sql(self, *statements: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.pg.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()

    def empty(self) -> tuple[str, Path]:
        """A new empty database (not initialised) and its instance folder."""
        instance = self._instance()
        if self.backend == "sqlite":
            return f"sqlite:///{instance / 'kontor.db'}", instance
        name = f"kbench_{self.count}"
        self._admin_sql(f"CREATE DATABASE {name}")
        return self.pg.url(name), instance

    def initialised(self) -> tuple[str, Path]:
        """A new database as ``kontor init`` leaves it, and its instance folder."""
        if self.template is None:
            url, _ = self.empty()
            probe("init", url)
            self.template = url
        instance = self._instance()
        if self.backend == "sqlite":
            shutil.copy(self.template.removeprefix("sqlite:///"), instance / "kontor.db")
            return f"sqlite:///{instance / 'kontor.db'}", instance
        name = f"kbench_{self.count}"
        template = make_url(self.template).database
        self._admin_sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.pg.url(name), instance

    def drop(self, url: str) -> None:
        """Free a database made here (PostgreSQL only: the work folder goes at the end)."""
        if self.backend == "postgresql":
            name = make_url(url).database
            self._admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --------------------------------------------------------------------------------------------------
# Servers and HTTP


class Server:
    """``kontor serve`` as a subprocess on a loopback port, stopped by its PID."""

    def __init__(self, url: str, instance: Path, workers: int):
        self.port = free_port()
        self.logfile = open(instance / "serve.log", "wb")
        self.process = subprocess.Popen(
            kontor_argv() + ["serve", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=kontor_env(url, instance), stdin=subprocess.DEVNULL, stdout=self.logfile,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.instance = instance

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kontor serve exited: {(self.instance / 'serve.log').read_text()[-2000:]}")
            try:
                status, _, _ = request(self.port, "GET", "/login")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("kontor serve did not answer in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        # workers left behind by a killed master are in the group this server was started in
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.logfile.close()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One HTTP request to the local server: status, headers (lists of values), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        collected: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            collected.setdefault(key.lower(), []).append(value)
        return response.status, collected, data
    finally:
        conn.close()


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through the login form; the Cookie header of the signed-in session."""
    cookies: dict[str, str] = {}

    def keep(headers):
        for line in headers.get("set-cookie", []):
            name, _, rest = line.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]

    def header():
        return "; ".join(f"{k}={v}" for k, v in cookies.items())

    status, headers, body = request(port, "GET", "/login")
    keep(headers)
    match = re.search(rb'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', body)
    if status != 200 or not match:
        raise RuntimeError(f"no login form (HTTP {status})")
    form = urlencode({"username": username, "password": password, "csrf_token": match.group(1).decode()})
    status, headers, _ = request(port, "POST", "/login", form.encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": header()})
    keep(headers)
    if status != 302:
        raise RuntimeError(f"sign-in refused (HTTP {status})")
    return header()


def load(port: int, path: str, cookie: str, seconds: float, connections: int, max_requests: int,
         tool: str = "auto") -> dict:
    """Requests/s and latency of ``path`` under a bounded load (wrk if installed, unless ``tool`` is python)."""
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        return _load_wrk(port, path, cookie, seconds, connections)
    return _load_threads(port, path, cookie, seconds, connections, max_requests)


def _load_wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        done = subprocess.run(
            ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds:g}s",
             "--timeout", "10s", "-s", script.name, "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, timeout=seconds + 60, stdin=subprocess.DEVNULL,
        )
    finally:
        os.unlink(script.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("KONTOR ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    n, duration_us, p50, p95, bad, errors = (int(x) for x in line.split()[1:])
    return {"requests": n, "rps": n / (duration_us / 1e6), "p50_ms": p50 / 1000, "p95_ms": p95 / 1000,
            "not_200": bad, "socket_errors": errors, "tool": "wrk"}


def _load_threads(port: int, path: str, cookie: str, seconds: float, connections: int, max_requests: int) -> dict:
    """A keep-alive http.client thread pool, bounded by ``seconds`` and ``max_requests``."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        conn = None
        while time.perf_counter() < deadline:
            with lock:
                if len(latencies) >= max_requests:
                    return
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                ok = False
                conn = None
            with lock:
                latencies.append(time.perf_counter() - t0)
                bad[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=20)
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": cuts[-1] * 1000, "not_200": bad[0], "socket_errors": 0, "tool": "http.client threads"}


# --------------------------------------------------------------------------------------------------
# The benchmarks


class Runner:
    """Runs the sections asked for and collects their figures."""

    def __init__(self, args):
        self.args = args
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="kbench"))
        self.pg = None
        self.dbs: dict[str, Databases] = {}
        self.load_at_start = os.getloadavg()

    def add(self, section, what, backend, unit, values, note="", **extra) -> None:
        figure = Figure(section, what, backend, unit, [float(v) for v in values], note, extra)
        self.figures.append(figure)
        log(f"  {what} [{backend}]: median {figure.median:.4g} {unit}  (runs: "
            + ", ".join(f"{v:.4g}" for v in figure.values) + ")")

    def backends(self) -> list[str]:
        return ["sqlite", "postgresql"] if self.args.postgres else ["sqlite"]

    def databases(self, backend: str) -> Databases:
        if backend not in self.dbs:
            if backend == "postgresql" and self.pg is None:
                from tests import pg

                log("starting a throwaway PostgreSQL")
                self.pg = pg.start()
            self.dbs[backend] = Databases(backend, self.workdir, self.pg)
        return self.dbs[backend]

    def close(self) -> None:
        if self.pg is not None:
            self.pg.stop()
        from core.db import dispose_engines

        dispose_engines()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # -- 1. cold start ----------------------------------------------------------------------------

    def cold_start(self) -> None:
        for backend in self.backends():
            log(f"cold start on {backend}")
            url, instance = self.databases(backend).initialised()
            env = kontor_env(url, instance)
            probe("coldstart", env=env)  # compiles bytecode and warms the file cache
            runs = [probe("coldstart", env=env) for _ in range(self.args.runs)]
            note = "fresh process, warm file cache; modules: " + ", ".join(runs[0][0]["modules"])
            self.add("cold start", "import core.app", backend, "s", [r["import_s"] for r, _ in runs])
            self.add("cold start", "create_app()", backend, "s", [r["create_app_s"] for r, _ in runs])
            self.add("cold start", "import + create_app()", backend, "s",
                     [r["import_s"] + r["create_app_s"] for r, _ in runs], note)
            self.add("cold start", "whole process (interpreter start to exit)", backend, "s", [w for _, w in runs])

    # -- 2. the party list ------------------------------------------------------------------------

    def party_list(self) -> None:
        for backend in self.backends():
            dbs = self.databases(backend)
            url, instance = dbs.initialised()
            n = self.args.parties
            log(f"generating {n:,} parties on {backend}")
            t0 = time.perf_counter()
            generated = self._generate(url, n)
            self.add("party list", f"generate {n:,} parties (bulk, audited)", backend, "s", [generated["seconds"]],
                     generated["how"], rows_per_s=generated["rows_per_s"])
            self._verify_audit(url, instance, backend)
            self._create_admin(url, instance)
            paths = self._paths(url, instance)
            log(f"pages: {paths}")
            self._serve_and_load(url, instance, backend, paths)
            self._flask_client(url, instance, backend, paths)
            dbs.drop(url)
            log(f"party list on {backend} done in {time.perf_counter() - t0:.0f} s")

    def _generate(self, url: str, n: int) -> dict:
        code = ("import json, sys; sys.path[:0] = [%r, %r]; import datagen; "
                "print(json.dumps(datagen.generate(%r, %d)))" % (str(ROOT), str(BENCH), url, n))
        done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"generating parties failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def _verify_audit(self, url: str, instance: Path, backend: str) -> None:
        done, wall = kontor(["audit", "verify"], url, instance, check=False)
        ok = done.returncode == 0
        self.add("party list", "kontor audit verify on the generated data", backend, "s", [wall],
                 "passed" if ok else "FAILED: " + (done.stderr or done.stdout).strip()[-300:])
        if not ok:
            raise RuntimeError("the audit chain of the generated data does not verify")

    def _create_admin(self, url: str, instance: Path) -> None:
        """``kontor users create NAME --admin``; keeps the name and the password it prints."""
        done, _ = kontor(["users", "create", ADMIN_NAME, "--admin"], url, instance)
        match = re.search(r"^Password: (\S+)$", done.stdout, re.M)
        if not match:
            raise RuntimeError(f"no password in the output of kontor users create: {done.stdout!r}")
        self.admin = (ADMIN_NAME, match.group(1))

    def _paths(self, url: str, instance: Path) -> dict[str, str]:
        """The three pages measured: the first page, a search, and a page deep in the list."""
        with_server = Server(url, instance, workers=1)
        try:
            with_server.wait_ready()
            cookie = sign_in(with_server.port, *self.admin)
            for base in ("/parties/", "/parties"):
                status, _, body = request(with_server.port, "GET", base, headers={"Cookie": cookie})
                if status == 200:
                    break
            else:
                raise RuntimeError(f"the party list answered HTTP {status}")
            deep = self._deep_path(url, base, body.decode(), with_server.port, cookie)
        finally:
            with_server.stop()
        return {"first page": base, "search": f"{base}?q={datagen.SEARCH_TERM.lower()}", "deep keyset page": deep}

    def _deep_path(self, url: str, base: str, page: str, port: int, cookie: str) -> str:
        """A page at about the middle of the list, from a cursor made like the list's own."""
        from core.web.listing import decode_cursor, encode_cursor

        links = [h.replace("&amp;", "&") for h in re.findall(r'href="(%s\?[^"]+)"' % re.escape(base), page)]
        for href in links:
            query = dict(parse_qsl(urlsplit(href).query))
            for key, value in query.items():
                values = decode_cursor(value)
                if not values or len(values) != 2:
                    continue
                if list(self._row_at(url, 24) or []) != values:
                    self.notes.append(f"the list's cursor {values} is not (name_key, id) of row 25")
                query[key] = encode_cursor(list(self._row_at(url, self.args.parties // 2)))
                path = f"{base}?{urlencode(query)}"
                status, _, _ = request(port, "GET", path, headers={"Cookie": cookie})
                if status == 200:
                    return path
        raise RuntimeError("no next-page cursor on the first page of the list")

    @staticmethod
    def _row_at(url: str, offset: int):
        from sqlalchemy import text

        from core.db import get_engine

        with get_engine(url).connect() as conn:
            return conn.execute(text("SELECT name_key, id FROM core_party WHERE active ORDER BY name_key, id "
                                     "LIMIT 1 OFFSET :o"), {"o": offset}).first()

    def _serve_and_load(self, url: str, instance: Path, backend: str, paths: dict[str, str]) -> None:
        server = Server(url, instance, workers=self.args.workers)
        try:
            server.wait_ready()
            cookie = sign_in(server.port, *self.admin)
            for label, path in paths.items():
                status, _, body = request(server.port, "GET", path, headers={"Cookie": cookie})
                if status != 200:
                    raise RuntimeError(f"{path} answered HTTP {status}")
                load(server.port, path, cookie, 1.0, self.args.connections, 10_000, self.args.load_tool)  # warm-up
                results = []
                for _ in range(self.args.runs):
                    result = load(server.port, path, cookie, self.args.duration, self.args.connections,
                                  self.args.max_requests, self.args.load_tool)
                    if result["not_200"] or result["socket_errors"]:
                        raise RuntimeError(f"{path}: {result['not_200']} answers were not 200, "
                                           f"{result['socket_errors']} socket errors")
                    results.append(result)
                note = (f"{results[0]['tool']}, {self.args.connections} connections, {self.args.duration:g} s a run, "
                        f"gunicorn {self.args.workers} workers; {len(body):,} bytes")
                what = label if label == "deep keyset page" else f"{label} {path}"
                self.add("party list", f"{what}: requests/s", backend, "req/s", [r["rps"] for r in results], note,
                         requests=[r["requests"] for r in results])
                self.add("party list", f"{what}: p50 latency", backend, "ms", [r["p50_ms"] for r in results])
                self.add("party list", f"{what}: p95 latency", backend, "ms", [r["p95_ms"] for r in results])
        finally:
            server.stop()

    def _flask_client(self, url: str, instance: Path, backend: str, paths: dict[str, str]) -> None:
        runs = [probe("flask_client", url, str(instance), *self.admin, str(self.args.client_requests),
                      *paths.values(), env=kontor_env(url, instance))[0] for _ in range(self.args.runs)]
        for label, path in paths.items():
            self.add("party list", f"{label}: in-process test client latency (single thread)", backend, "ms",
                     [r[path]["median_s"] * 1000 for r in runs],
                     f"median of {self.args.client_requests} requests a run, through the WSGI dispatcher",
                     p95_ms=[r[path]["p95_s"] * 1000 for r in runs])

    # -- 3. module install ------------------------------------------------------------------------

    def module_install(self) -> None:
        for backend in self.backends():
            dbs = self.databases(backend)
            log(f"kontor init on {backend}")
            walls, inits = [], []
            for _ in range(self.args.runs):
                url, instance = dbs.empty()
                _, wall = kontor(["init"], url, instance)
                walls.append(wall)
                dbs.drop(url)
                url, instance = dbs.empty()
                inits.append(probe("init", url)[0]["seconds"])
                dbs.drop(url)
            self.add("module install", "`kontor init` on an empty database (whole command)", backend, "s", walls)
            self.add("module install", "initialise() in process (core tables, roles, company)", backend, "s", inits)
            log(f"installing the example module hello on {backend}")
            self._install_hello(dbs, backend)

    def _install_hello(self, dbs: Databases, backend: str) -> None:
        seconds, walls = [], []
        for _ in range(self.args.runs):
            url, instance = dbs.initialised()
            seconds.append(probe("install", url, str(instance), "hello", env=kontor_env(url, instance, True))[0]["seconds"])
            dbs.drop(url)
            url, instance = dbs.initialised()
            done, wall = kontor(["modules", "install", "hello"], url, instance, plugins=True, check=False)
            if done.returncode == 0:
                walls.append(wall)
            dbs.drop(url)
        self.add("module install", "install hello: lifecycle.install() in process", backend, "s", seconds,
                 "fresh initialised database each run")
        if walls:
            self.add("module install", "`kontor modules install hello` (whole command)", backend, "s", walls)
        else:
            self.notes.append("`kontor modules install` did not succeed; only the in-process figure is given")

    # -- 4. create parties, beside Tryton ---------------------------------------------------------

    def create_parties(self) -> None:
        n = self.args.tryton_n
        runs = min(self.args.runs, 3)
        dbs = self.databases("sqlite")
        log(f"creating {n:,} parties like Tryton's peer benchmark (SQLite, {runs} runs)")
        for how, label in (("bulk", "bulk service"), ("one", "one service call per party")):
            results = []
            for _ in range(runs):
                url, _ = dbs.initialised()
                results.append(probe("create_parties", url, how, str(n))[0])
            self.add("create parties", f"create {n:,} parties, {label}", "sqlite", "s",
                     [r["seconds"] for r in results], f"{results[0]['path']}; transactions of 1,000",
                     rows_per_s=[r["rows_per_s"] for r in results])
        if self.args.tryton_python:
            self._tryton_parties(n, runs)
        elif n == 10_000:
            self.add("create parties", "Tryton 8.2, create 10,000 parties (peer README)", "sqlite", "s", [38.3],
                     "figure quoted from shared/peers/tryton/README.md, not measured in this run")

    def _tryton_parties(self, n: int, runs: int) -> None:
        """Tryton's own peer benchmark, run here (set it up as shared/peers/tryton/README.md says)."""
        script = ROOT.parent / "shared" / "peers" / "tryton" / "bench.py"
        env = {**os.environ, "TRYTON_BENCH_DATA": self.args.tryton_data}
        results = []
        for _ in range(runs):
            done = subprocess.run([self.args.tryton_python, str(script), "parties", "--n", str(n)], cwd="/tmp",
                                  env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
            lines = [json.loads(ln) for ln in done.stdout.splitlines() if ln.startswith("{")]
            found = [ln for ln in lines if ln.get("op") == "parties"]
            if done.returncode != 0 or not found:
                raise RuntimeError(f"Tryton's benchmark failed: {done.stderr[-1500:]}")
            results.append(found[-1])
        self.add("create parties", f"Tryton 8.2, create {n:,} parties (its peer benchmark, run here)", "sqlite",
                 "s", [r["seconds"] for r in results], "batches of 1,000 per transaction, access checks on",
                 ratio_to_sql_floor=[r.get("ratio") for r in results])

    # -- output -----------------------------------------------------------------------------------

    def table(self) -> str:
        headers = ("section", "measure", "backend", "median", "unit", "runs", "min – max")
        rows = [(f.section, f.what, f.backend, _fmt(f.median), f.unit, str(len(f.values)),
                 f"{_fmt(min(f.values))} – {_fmt(max(f.values))}" if len(f.values) > 1 else "")
                for f in self.figures]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        lines = [" | ".join(h.ljust(w) for h, w in zip(headers, widths)),
                 "-+-".join("-" * w for w in widths)]
        lines += [" | ".join(c.rjust(w) if i in (3, 5) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                  for r in rows]
        return "\n".join(lines)

    def save(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc)
        path = RESULTS / f"bench-{stamp:%Y%m%dT%H%M%SZ}.json"
        path.write_text(json.dumps({
            "date": stamp.isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(), "load_average_at_start": self.load_at_start,
                        "load_average_at_end": os.getloadavg()},
            "options": vars(self.args),
            "figures": [{**asdict(f), "median": f.median} for f in self.figures],
            "notes": self.notes,
        }, indent=2, default=str))
        return path


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


SECTIONS = ("coldstart", "list", "install", "parties")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the table shows their median")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer runs, parties and seconds")
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--parties", type=int, default=100_000, help="parties in the list benchmark")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each load run")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections of the load")
    parser.add_argument("--max-requests", type=int, default=200_000, help="request cap of one load run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk, or a Python thread pool of keep-alive connections (auto: wrk if installed)")
    parser.add_argument("--client-requests", type=int, default=20, help="test-client requests per run")
    parser.add_argument("--tryton-n", type=int, default=10_000, help="parties created beside Tryton's figure")
    parser.add_argument("--tryton-python", default="", help="the Python of a Tryton venv set up as "
                        "shared/peers/tryton/README.md says: runs its peer benchmark beside Kontor's")
    parser.add_argument("--tryton-data", default=os.environ.get("TRYTON_BENCH_DATA", "/tmp/tryton-data"),
                        help="TRYTON_BENCH_DATA of that set-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = min(args.runs, 2)
        args.parties = min(args.parties, 20_000)
        args.duration = min(args.duration, 2.0)
        args.client_requests = min(args.client_requests, 10)
        args.tryton_n = min(args.tryton_n, 1_000)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runner = Runner(args)
    sections = args.only or list(SECTIONS)
    started = time.perf_counter()
    failed = False
    try:
        for name, run in (("coldstart", runner.cold_start), ("list", runner.party_list),
                          ("install", runner.module_install), ("parties", runner.create_parties)):
            if name in sections:
                try:
                    run()
                except Exception as exc:  # one section failing must not hide the others' figures
                    failed = True
                    runner.notes.append(f"section {name} failed: {type(exc).__name__}: {exc}")
                    log(f"section {name} FAILED: {exc}")
    finally:
        runner.close()
    print(runner.table())
    print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}; at end: {:.2f} {:.2f} {:.2f}; {} CPUs".format(
        *runner.load_at_start, *os.getloadavg(), os.cpu_count()))
    for note in runner.notes:
        print(f"note: {note}")
    path = runner.save()
    print(f"\n{len(runner.figures)} figures in {time.perf_counter() - started:.0f} s; JSON: {path.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
