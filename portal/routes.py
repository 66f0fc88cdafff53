from okno.portal.controllers.chat import ChatPages

route_handlers = [ChatPages]
