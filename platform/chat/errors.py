from okno.platform.errors import Refused

# The HTTP status of each protocol error code (docs/protocol.md); any other code answers 400.
STATUS_OF_CODE = {
    "not_found": 404,
    "forbidden": 403,
    "blocked": 403,  # the subject is blocked (okno.platform.rights.blocking)
    "too_large": 413,
    "conflict": 409,
}


class ChatError(Refused):
    """A refused chat operation: ``code`` is the protocol's error code, the message is Russian."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.status_code = STATUS_OF_CODE.get(code, 400)
        super().__init__(message)


class AccessEndedError(Exception):
    """The socket's right to exist ended (its staff session ended, or its role lost chat): the
    socket is closed with ``code`` (docs/protocol.md, close codes)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        super().__init__(reason)
