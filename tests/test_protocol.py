"""docs/protocol.md names every frame the sockets read and every frame the server sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from okno.platform.chat import frames, schemas

PROTOCOL = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text("utf-8")


def _server_frames() -> list[str]:
    return sorted(
        str(frame.__struct_config__.tag) for frame in schemas.ServerFrame.__subclasses__()
    )


@pytest.mark.parametrize("tag", sorted({*frames.CLIENT_FRAME_TYPES, *frames.STAFF_FRAME_TYPES}))
def test_every_frame_a_peer_sends_is_documented(tag: str) -> None:
    assert f"| `{tag}` " in PROTOCOL or f"| `{tag}` /" in PROTOCOL or f"/ `{tag}` |" in PROTOCOL


@pytest.mark.parametrize("tag", _server_frames())
def test_every_frame_the_server_sends_is_documented(tag: str) -> None:
    assert f"`{tag}`" in PROTOCOL.split("## Client frames", 1)[1]
