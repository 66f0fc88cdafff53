"""The messengers' webhooks: MAX's subscription and VK's Callback API. Any worker accepts
them; each call is checked against the channel's secret before anything is read from it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import FromPath
from litestar.response import Response

from okno.platform.channels import max_bot, vk_bot
from okno.platform.channels.errors import WebhookRefused
from okno.platform.channels.polling import handle
from okno.platform.channels.service import check_secret, get

WEBHOOK = {"access": "webhook", "webhook": True}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        raise WebhookRefused("тело запроса — не JSON") from None
    if not isinstance(body, dict):
        raise WebhookRefused("ожидался объект JSON")
    return body


class ChannelHooks(Controller):
    path = "/hooks"
    include_in_schema = False

    @post("/max/{channel_id:int}", opt=WEBHOOK, status_code=200)
    async def max_update(self, request: Request, channel_id: FromPath[int]) -> dict[str, bool]:
        channel = await get(channel_id)
        if channel.kind != "max":
            raise WebhookRefused("это не канал MAX")
        check_secret(channel, request.headers.get(max_bot.SECRET_HEADER))
        update = max_bot.parse(await _json(request))
        if update is not None:
            await handle(channel, channel.bot(), update)
        return {"ok": True}

    @post("/vk/{channel_id:int}", opt=WEBHOOK, status_code=200)
    async def vk_event(self, request: Request, channel_id: FromPath[int]) -> Response[str]:
        channel = await get(channel_id)
        if channel.kind != "vk":
            raise WebhookRefused("это не канал ВКонтакте")
        body = await _json(request)
        if str(body.get("group_id")) != channel.secrets.get("group_id"):
            raise WebhookRefused("событие другого сообщества")
        if body.get("type") == "confirmation":
            confirmation = channel.secrets.get("confirmation", "")
            return Response(confirmation, media_type="text/plain")
        secret = body.get("secret")
        check_secret(channel, secret if isinstance(secret, str) else None)
        update = vk_bot.parse(body)
        if update is not None:
            await handle(channel, channel.bot(), update)
        # VK repeats an event until it is answered «ok».
        return Response("ok", media_type="text/plain")
