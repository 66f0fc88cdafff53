from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="processing_log",
    migrations_folder_path=migrations_folder("processing_log"),
    table_classes=[],
)
