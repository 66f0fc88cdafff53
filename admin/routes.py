from okno.admin.controllers.auth import AuthController
from okno.admin.controllers.chats import ChatsConsole
from okno.admin.controllers.console import ConsoleController, StaffAccountsController

route_handlers = [AuthController, ConsoleController, StaffAccountsController, ChatsConsole]
