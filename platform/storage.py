"""Where attachment files live: a folder (the data folder's, or one every host mounts) or an
S3-compatible bucket, chosen by ``OKNO_STORAGE``.

Every place that writes, reads or deletes an attachment's bytes goes through ``files()``: the
upload, the download route, a message's deletion, destruction (which must reach the bucket too,
and searches it afterwards) and ``okno backup``. The calls block: async code runs them in a
thread (``asyncio.to_thread``), destruction's file work already runs in one.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from okno.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class StoredFile:
    """An attachment's file by its key (``attachment.path``), to delete after a commit."""

    key: str


class Storage(Protocol):
    def write(self, key: str, data: bytes) -> None:
        """A new file; never replaces one."""

    def read(self, key: str) -> bytes | None:
        """The bytes, or ``None`` when there is no such file."""

    def delete(self, key: str) -> None:
        """Gone for good (overwritten first where the bytes are ours to overwrite)."""

    def sizes(self) -> Iterator[tuple[str, int]]:
        """Every file's key and size (for destruction's search and the backup)."""

    def folder(self) -> Path | None:
        """The local folder holding the files, if they are in one."""


class Folder:
    """Files in a folder readable by the server's user only (0700), each 0600 from the start."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _ready(self) -> Path:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.stat().st_mode & 0o077:
            self.path.chmod(0o700)  # made by an older version with the umask's 0755
        return self.path

    def write(self, key: str, data: bytes) -> None:
        fd = os.open(self._ready() / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)

    def read(self, key: str) -> bytes | None:
        try:
            return (self.path / key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def delete(self, key: str) -> None:
        path = self.path / key
        try:
            overwrite(path)
            path.unlink()
        except FileNotFoundError:
            pass

    def sizes(self) -> Iterator[tuple[str, int]]:
        if not self.path.is_dir():
            return
        for path in self.path.iterdir():
            if path.is_file():
                yield path.name, path.stat().st_size

    def folder(self) -> Path | None:
        return self._ready()


def overwrite(path: Path) -> None:
    """Zeros over the file's bytes, flushed to the disk. On a journaling or copy-on-write file
    system, or an SSD, old blocks may survive: the act and docs/dpo.md say so."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        block = b"\0" * 65536
        left = size
        while left > 0:
            left -= file.write(block[: min(left, len(block))])
        file.flush()
        os.fsync(file.fileno())


class Bucket:
    """Objects under ``attachments/`` in an S3-compatible bucket. A deleted object is gone from
    the provider's API at once; its copies on the provider's disks are the provider's to
    destroy (docs/deploy.md: turn the bucket's versioning off)."""

    PREFIX = "attachments/"

    def __init__(self, settings: Settings) -> None:
        # boto3 is imported here: only a deployment that stores in a bucket loads it.
        import boto3

        # botocore comes with boto3: loaded only with it, for the same reason.
        from botocore.config import Config

        self.bucket = settings.s3_bucket
        self.client: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.PREFIX + key, Body=data)

    def read(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.PREFIX + key)
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.PREFIX + key)

    def sizes(self) -> Iterator[tuple[str, int]]:
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.PREFIX):
            for item in page.get("Contents", []):
                yield item["Key"].removeprefix(self.PREFIX), item["Size"]

    def folder(self) -> Path | None:
        return None


def from_settings(settings: Settings) -> Storage:
    if settings.storage == "s3":
        return Bucket(settings)
    if settings.storage_path:
        return Folder(Path(settings.storage_path).resolve())
    return Folder(settings.data_path / "attachments")


def files() -> Storage:
    """The attachments' storage of this process's settings (one S3 client, thread-safe)."""
    return _storage(get_settings())


@functools.cache
def _storage(settings: Settings) -> Storage:
    return from_settings(settings)
