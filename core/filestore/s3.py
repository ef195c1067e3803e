"""The S3 backend: objects in a bucket of any S3-compatible store (AWS, MinIO, SeaweedFS, Ceph …)."""
from __future__ import annotations

from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.filestore.keys import check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3Storage:
    """Objects in ``bucket`` under ``prefix``, through boto3 with path-style addressing.

    ``access_key``/``secret_key`` None: boto3 finds them itself (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role).
    """

    def __init__(self, endpoint: str | None, bucket: str, *, prefix: str = "", region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None):
        self.endpoint, self.bucket, self.prefix = endpoint, bucket, prefix.strip("/")
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=region or "us-east-1",
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.endpoint!r}, {self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes | BinaryIO, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` (bytes or a binary file) under ``key`` with ``content_type``, replacing what was there."""
        name = self._key(key)
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data), ContentType=content_type)
        else:
            self.client.upload_fileobj(data, self.bucket, name, ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> BinaryIO:
        """The object under ``key`` as a binary stream (:class:`FileNotFoundError` when there is none)."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def read(self, key: str) -> bytes:
        """The whole object under ``key`` (:class:`FileNotFoundError` when there is none)."""
        body = self.open(key)
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; nothing happens when there is none."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self._head(key) is not None

    def size(self, key: str) -> int:
        """The size in bytes of the object under ``key`` (:class:`FileNotFoundError` when there is none)."""
        head = self._head(key)
        if head is None:
            raise FileNotFoundError(key)
        return int(head["ContentLength"])

    def keys(self, prefix: str) -> list[str]:
        """The keys stored under ``prefix`` (a folder of keys), sorted."""
        start = self._key(prefix) + "/"
        cut = len(self.prefix) + 1 if self.prefix else 0
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            found += [item["Key"][cut:] for item in page.get("Contents", [])]
        return sorted(found)
