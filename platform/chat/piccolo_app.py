from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="chat",
    migrations_folder_path=migrations_folder("chat"),
    table_classes=[],
    migration_dependencies=[
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
    ],
)
