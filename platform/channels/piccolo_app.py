from piccolo.conf.apps import AppConfig

from okno.platform.channels.tables import Channel, ChannelIdentity, ChannelInbound, ChannelOutbound
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="channels",
    migrations_folder_path=migrations_folder("channels"),
    table_classes=[Channel, ChannelIdentity, ChannelInbound, ChannelOutbound],
    migration_dependencies=[
        "okno.platform.chat.piccolo_app",
        "okno.platform.teams.piccolo_app",
        "okno.platform.consent.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.channels.erasure",)
