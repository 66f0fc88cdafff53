from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="selfservice",
    migrations_folder_path=migrations_folder("selfservice"),
    table_classes=[],
    migration_dependencies=[
        "okno.platform.subjects.piccolo_app",
        "okno.platform.consent.piccolo_app",
        "okno.platform.rights.piccolo_app",
    ],
)
