"""Both file stores through the same tests: the local folder, and S3 against moto's server (a
real S3-compatible HTTP server, started here on a free port)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import trio

from chat.errors import NotFoundError
from chat.files.storage import FileStore, LocalFileStore
from tests.helpers.s3 import s3_endpoint, s3_store  # noqa: F401 (a fixture)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "attachments")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return s3_store(endpoint)


async def test_put_get_delete(store: FileStore) -> None:
    key = str(uuid.uuid4())
    with trio.fail_after(20):
        await store.put(key, b"\x89PNG bytes", "image/png")
        assert await store.get(key) == b"\x89PNG bytes"
        await store.delete(key)
        with pytest.raises(NotFoundError):
            await store.get(key)
        await store.delete(key)  # deleting what is gone is not an error


async def test_an_unknown_key_is_not_found(store: FileStore) -> None:
    with trio.fail_after(20), pytest.raises(NotFoundError):
        await store.get(str(uuid.uuid4()))


async def test_keys_are_ids_never_paths(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "attachments")
    with pytest.raises(ValueError):
        await store.put("../../etc/passwd", b"x", "text/plain")
