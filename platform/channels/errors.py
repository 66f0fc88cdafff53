"""How a messenger's API answered a call that did not succeed, and okno's own refusals."""

from __future__ import annotations

from okno.platform.errors import Refused


class ChannelError(Exception):
    """A call the messenger did not accept; ``reason`` is Russian, shown to staff (never PD)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class TransientError(ChannelError):
    """Worth trying again later: a time-out, a rate limit, the service down, a refused token."""


class RejectedError(ChannelError):
    """Will never be accepted as it is: the user blocked the bot, the text is too long."""


class ChannelRefused(Refused):
    """A bad channel form, or a webhook call that does not carry the channel's secret."""


class WebhookRefused(Refused):
    status_code = 403
