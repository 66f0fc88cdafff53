class ChatError(Exception):
    """A refused chat operation: ``code`` is the protocol's error code, the message is Russian."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class AccessEndedError(Exception):
    """The socket's right to exist ended (its staff session ended, or its role lost chat): the
    socket is closed with ``code`` (docs/protocol.md, close codes)."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        super().__init__(reason)
