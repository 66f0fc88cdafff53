from okno.portal.controllers.chat import ChatPages
from okno.portal.controllers.documents import DocumentPages

route_handlers = [ChatPages, DocumentPages]
