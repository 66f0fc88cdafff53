from okno.admin.controllers.auth import AuthController
from okno.admin.controllers.chats import ChatsConsole
from okno.admin.controllers.consent import ConsentConsole, ConsentProof
from okno.admin.controllers.console import ConsoleController, StaffAccountsController

route_handlers = [
    AuthController,
    ConsoleController,
    StaffAccountsController,
    ChatsConsole,
    ConsentConsole,
    ConsentProof,
]
