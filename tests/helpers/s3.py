"""A real S3-compatible server for tests: moto's ThreadedMotoServer (an HTTP server on its own
thread, on a free port of 127.0.0.1) with one bucket."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chat.files.storage import S3FileStore
from tests.conftest import free_port

BUCKET = "chat-attachments"
S3_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server (an HTTP server on its own thread) with one bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", **S3_CREDENTIALS
        )
        client.create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_store(endpoint: str) -> S3FileStore:
    return S3FileStore(
        BUCKET,
        endpoint_url=endpoint,
        access_key_id=S3_CREDENTIALS["aws_access_key_id"],
        secret_access_key=S3_CREDENTIALS["aws_secret_access_key"],
    )
