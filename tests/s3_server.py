"""A real local S3-compatible server for the tests: moto in server mode, on a free port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.conftest import free_port

KEYS = {"OKNO_S3_ACCESS_KEY": "okno-test", "OKNO_S3_SECRET_KEY": "okno-test-secret"}


class S3Server:
    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint, self.bucket = endpoint, bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=KEYS["OKNO_S3_ACCESS_KEY"],
            aws_secret_access_key=KEYS["OKNO_S3_SECRET_KEY"],
        )

    def env(self) -> dict[str, str]:
        """What an okno storing its attachments here is started with."""
        return {
            "OKNO_STORAGE": "s3",
            "OKNO_S3_ENDPOINT": self.endpoint,
            "OKNO_S3_BUCKET": self.bucket,
            **KEYS,
        }

    def objects(self) -> dict[str, bytes]:
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {
            item["Key"]: self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }


@contextmanager
def s3_server(log_dir: Path, bucket: str = "okno-files") -> Iterator[S3Server]:
    port = free_port()
    log = (log_dir / f"moto-{port}.log").open("w")
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or moto.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        server = S3Server(endpoint, bucket)
        server.client.create_bucket(Bucket=bucket)
        yield server
    finally:
        moto.terminate()
        moto.wait(10)
        log.close()
