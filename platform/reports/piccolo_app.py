from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.reports.tables import ConversationEvent, PresenceSpan, SlaPolicy

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=migrations_folder("reports"),
    table_classes=[ConversationEvent, SlaPolicy, PresenceSpan],
    migration_dependencies=[
        "okno.platform.chat.piccolo_app",
        "okno.platform.teams.piccolo_app",
        "okno.platform.channels.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.reports.erasure",)
