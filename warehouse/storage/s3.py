"""Objects in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO ...) through boto3.

Keys are ``<prefix>/tenants/<tenant_id>/...`` in one bucket. The client is thread-safe and is
created in the process that uses it (after a server fork), never shared across processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from warehouse.storage.base import ObjectMissing, Storage, StorageError

# DeleteObjects takes at most this many keys per call.
DELETE_BATCH = 1000
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Storage(Storage):
    """Storage in one bucket under an optional key prefix."""

    scheme = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        with _errors(key):
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
            )

    def _get(self, key: str) -> bytes:
        with _errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return response["Body"].read()

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": self.prefix + key} for key in keys[start : start + DELETE_BATCH]]
            with _errors(keys[start]):
                response = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            failed = [e for e in response.get("Errors", []) if e.get("Code") not in _MISSING_CODES]
            if failed:
                raise StorageError(f"could not delete {len(failed)} object(s): {failed[0]}")

    def _list(self, prefix: str) -> Iterable[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]


@contextmanager
def _errors(key: str) -> Iterator[None]:
    """Turn botocore failures into ObjectMissing / StorageError naming the key."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            raise ObjectMissing(key) from None
        raise StorageError(f"{key}: S3 error {code}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"{key}: {exc}") from exc
