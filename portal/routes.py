from okno.portal.controllers.chat import ChatPages
from okno.portal.controllers.documents import DocumentPages
from okno.portal.controllers.reviews import ReviewsPage
from okno.portal.controllers.selfservice import PortalEntry, PortalPages
from okno.portal.controllers.unsubscribe import UnsubscribePages

route_handlers = [
    ChatPages,
    DocumentPages,
    PortalEntry,
    PortalPages,
    ReviewsPage,
    UnsubscribePages,
]
