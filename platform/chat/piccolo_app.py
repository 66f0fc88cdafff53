from piccolo.conf.apps import AppConfig

from okno.platform.chat.tables import (
    Attachment,
    CannedReply,
    ConsolePreference,
    Conversation,
    ConversationViewer,
    Message,
    StaffPresence,
    Visitor,
)
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="chat",
    migrations_folder_path=migrations_folder("chat"),
    table_classes=[
        Visitor,
        Conversation,
        Attachment,
        Message,
        StaffPresence,
        CannedReply,
        ConsolePreference,
        ConversationViewer,
    ],
    migration_dependencies=[
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.chat.erasure",)
