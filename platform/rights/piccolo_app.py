from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.rights.tables import RightsRequest, RightsRequestEvent

APP_CONFIG = AppConfig(
    app_name="rights",
    migrations_folder_path=migrations_folder("rights"),
    table_classes=[RightsRequest, RightsRequestEvent],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
        "okno.platform.consent.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.rights.erasure",)
