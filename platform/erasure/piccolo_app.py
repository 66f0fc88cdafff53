from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="erasure",
    migrations_folder_path=migrations_folder("erasure"),
    table_classes=[],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.rights.piccolo_app",
    ],
)
