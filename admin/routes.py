from litestar.types import ControllerRouterHandler

from okno.admin.controllers.api_tokens import ApiTokensConsole
from okno.admin.controllers.api_v1.chat import ConversationsApi
from okno.admin.controllers.api_v1.data import MailingsApi, ReportsApi, RightsApi, SubjectsApi
from okno.admin.controllers.audit import AuditConsole
from okno.admin.controllers.auth import AuthController
from okno.admin.controllers.channels import ChannelsConsole
from okno.admin.controllers.chat_settings import ChatSettingsConsole, HoursConsole
from okno.admin.controllers.chats import ChatsConsole
from okno.admin.controllers.consent import ConsentConsole, ConsentProof
from okno.admin.controllers.console import ConsoleController, StaffAccountsController
from okno.admin.controllers.dpo import DpoConsole
from okno.admin.controllers.incidents import IncidentsConsole
from okno.admin.controllers.mailings import MailingsConsole
from okno.admin.controllers.reports import MonitorConsole, ReportsConsole, SlaConsole
from okno.admin.controllers.special import SpecialCategories
from okno.admin.controllers.staff_api import StaffChatApi
from okno.admin.controllers.staff_socket import staff_socket
from okno.admin.controllers.teams import TeamsConsole, TopicsConsole
from okno.admin.controllers.webhooks import WebhooksConsole

route_handlers: list[ControllerRouterHandler] = [
    AuthController,
    ConsoleController,
    StaffAccountsController,
    ChatsConsole,
    StaffChatApi,
    staff_socket,
    ConsentConsole,
    ConsentProof,
    DpoConsole,
    MailingsConsole,
    IncidentsConsole,
    AuditConsole,
    TeamsConsole,
    TopicsConsole,
    ChatSettingsConsole,
    ChannelsConsole,
    HoursConsole,
    SpecialCategories,
    WebhooksConsole,
    ReportsConsole,
    MonitorConsole,
    SlaConsole,
    ApiTokensConsole,
    ConversationsApi,
    SubjectsApi,
    RightsApi,
    MailingsApi,
    ReportsApi,
]
