from piccolo.conf.apps import AppConfig

from okno.platform.chatsettings.tables import ChatSetting
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="chatsettings",
    migrations_folder_path=migrations_folder("chatsettings"),
    table_classes=[ChatSetting],
    migration_dependencies=[],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.chatsettings.erasure",)
