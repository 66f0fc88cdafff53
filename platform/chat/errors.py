class ChatError(Exception):
    """A refused chat operation: ``code`` is the protocol's error code, the message is Russian."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
