from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="staff",
    migrations_folder_path=migrations_folder("staff"),
    table_classes=[],
)
