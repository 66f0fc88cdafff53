"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn restarts its keep-alive timer on every byte, so a client that sends its headers a byte
at a time (slowloris) holds a connection for ever. Here a connection whose request headers are
not complete within ``OKNO_HEADER_TIMEOUT_SECONDS`` of its first byte (or of the previous
response) is closed. A reverse proxy in front should buffer requests too (docs/security.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools is a dependency of uvicorn[standard]
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]

from okno.platform.settings import get_settings


class HeaderDeadlineProtocol(_Base):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            seconds = get_settings().header_timeout_seconds
            self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_headers():
            self._arm()
        super().data_received(data)
        if not self._waiting_for_headers():
            self._disarm()  # the headers are in: the request's own handling takes over

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._deadline = None
        upgraded = self.transport.get_protocol() is not self  # now a WebSocket: not ours
        if not upgraded and self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()
