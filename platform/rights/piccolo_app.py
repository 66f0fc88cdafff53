from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="rights",
    migrations_folder_path=migrations_folder("rights"),
    table_classes=[],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
        "okno.platform.consent.piccolo_app",
    ],
)
