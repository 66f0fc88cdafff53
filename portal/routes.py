from litestar.types import ControllerRouterHandler

from okno.portal.controllers.channel_hooks import ChannelHooks
from okno.portal.controllers.chat import ChatPages
from okno.portal.controllers.chat_api import ClientChatApi
from okno.portal.controllers.chat_socket import client_socket
from okno.portal.controllers.documents import DocumentPages
from okno.portal.controllers.reviews import ReviewsPage
from okno.portal.controllers.selfservice import PortalEntry, PortalPages
from okno.portal.controllers.unsubscribe import UnsubscribePages

route_handlers: list[ControllerRouterHandler] = [
    ChannelHooks,
    ChatPages,
    ClientChatApi,
    client_socket,
    DocumentPages,
    PortalEntry,
    PortalPages,
    ReviewsPage,
    UnsubscribePages,
]
