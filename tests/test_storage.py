"""The attachments' storage chosen by the settings: the data folder, a shared folder, or an
S3-compatible bucket (tests/test_several_hosts.py runs two servers on a bucket)."""

from __future__ import annotations

import pytest

from okno.platform import storage
from okno.platform.settings import SettingsError, load_settings


def test_a_shared_folder_holds_the_files_private_and_destruction_overwrites_them(tmp_path) -> None:
    shared = tmp_path / "shared"
    files = storage.from_settings(
        load_settings({"OKNO_DATA_DIR": str(tmp_path / "data"), "OKNO_STORAGE_PATH": str(shared)})
    )
    files.write("a" * 32, b"scan of a passport")
    assert (shared / ("a" * 32)).stat().st_mode & 0o777 == 0o600
    assert shared.stat().st_mode & 0o777 == 0o700
    assert files.read("a" * 32) == b"scan of a passport"
    assert list(files.sizes()) == [("a" * 32, 18)]
    with pytest.raises(FileExistsError):
        files.write("a" * 32, b"another")  # a key is never reused
    files.delete("a" * 32)
    assert files.read("a" * 32) is None
    assert not (tmp_path / "data" / "attachments").exists()


def test_the_bucket_needs_its_endpoint_and_name() -> None:
    with pytest.raises(SettingsError, match="OKNO_S3_ENDPOINT"):
        load_settings({"OKNO_STORAGE": "s3", "OKNO_S3_BUCKET": "okno"})
    with pytest.raises(SettingsError, match="OKNO_STORAGE"):
        load_settings({"OKNO_STORAGE": "ftp"})
