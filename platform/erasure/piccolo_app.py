from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.erasure.tables import DestructionAct, ErasureCompaction, RetentionRun

APP_CONFIG = AppConfig(
    app_name="erasure",
    migrations_folder_path=migrations_folder("erasure"),
    table_classes=[DestructionAct, ErasureCompaction, RetentionRun],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.rights.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.erasure.erasure",)
