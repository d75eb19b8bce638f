"""Where attachments' bytes live, behind one small interface: the local data folder (embedded,
the default) or an S3-compatible object store (production).

Files are at most a space's `attachment_max_bytes` (50 MB at the very most), so whole files are
read into memory: simpler than streaming, and bounded by the per-space limit.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Protocol

import trio

from chat.errors import NotFoundError


class FileStore(Protocol):
    """put, get, delete by key (an attachment's id). Every call is cancellable; a cancelled put
    may or may not have stored the file (its row is written only after it returns)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The file's bytes; NotFoundError when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; nothing happens when there is none."""
        ...


def _checked_key(key: str) -> str:
    # Keys are attachment ids made here; a path separator or dot never reaches a file name.
    return str(uuid.UUID(key))


class LocalFileStore:
    """Files under one folder (`<data-dir>/attachments` by default), written to a temporary name
    and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        key = _checked_key(key)
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await trio.to_thread.run_sync(self._put, self._path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    async def get(self, key: str) -> bytes:
        try:
            return await trio.to_thread.run_sync(self._path(key).read_bytes)
        except FileNotFoundError as exc:
            raise NotFoundError("no such file") from exc

    async def delete(self, key: str) -> None:
        await trio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))


class S3FileStore:
    """Files as objects of one bucket of an S3-compatible store, through boto3.

    boto3 is the reference client, kept by AWS and spoken by every S3-compatible server (MinIO,
    Ceph, R2, moto); it is synchronous, so each call runs on a worker thread (trio's
    `to_thread`), as psycopg's pool does here. Its client is thread-safe; one serves the process.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        import boto3  # imported here: the embedded setup never needs it loaded
        from botocore.config import Config

        self.bucket = bucket
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            # Bounded waits: a hung store answers `unavailable` rather than holding requests.
            config=Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2}),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await trio.to_thread.run_sync(
            lambda: self._client.put_object(
                Bucket=self.bucket, Key=_checked_key(key), Body=data, ContentType=content_type
            )
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                found = self._client.get_object(Bucket=self.bucket, Key=_checked_key(key))
            except self._client.exceptions.NoSuchKey as exc:
                raise NotFoundError("no such file") from exc
            body: bytes = found["Body"].read()
            return body

        return await trio.to_thread.run_sync(read)

    async def delete(self, key: str) -> None:
        await trio.to_thread.run_sync(
            lambda: self._client.delete_object(Bucket=self.bucket, Key=_checked_key(key))
        )
